"""Accent-insensitive matching, so "dak ha" finds "Đắk Hà" and "hai long" matches "Hài lòng"."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ included) and collapse spaces. Cached: a
    search folds every agency's name, the same few hundred names each time."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip().casefold()


_ABBREVIATIONS = {"ubnd": "uy ban nhan dan", "tp": "thanh pho", "tt": "thi tran"}


def expand_abbreviations(folded: str) -> str:
    """Spell out what citizens abbreviate: "ubnd xa ia toi" -> "uy ban nhan dan xa ia toi"."""
    return " ".join(_ABBREVIATIONS.get(word, word) for word in folded.split())


def contains_phrase(haystack: str, query: str) -> bool:
    """True if the query's words appear together in the haystack, each word starting where a
    word of the haystack starts, accents ignored: "dak ha" is in "Huyện Đắk Hà" but not in
    "Đắk Hring". Abbreviations ("UBND") are tried spelled out too."""
    folded, text = fold(query), fold(haystack)
    if not folded:
        return False
    return any(
        re.search(rf"(?<!\w){re.escape(phrase)}", text) is not None
        for phrase in {folded, expand_abbreviations(folded)}
    )
