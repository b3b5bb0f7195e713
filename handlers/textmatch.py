"""Matching what people type against names: accents, case, word order and abbreviations
do not matter, so "ubnd dak to", "mot cua dak ha" and "Đắk Hà một cửa" all find what a citizen
means. Pure functions; the callers decide what the names are and how many results to show."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")

T = TypeVar("T")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ included) and collapse spaces. Cached: a
    search folds every agency's name, the same few hundred names each time."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip().casefold()


ABBREVIATIONS = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "mc": "mot cua",
    "bpmc": "bo phan mot cua",
    "ca": "cong an",
    "hcc": "hanh chinh cong",
    "ttpvhcc": "trung tam phuc vu hanh chinh cong",
    "tthcc": "trung tam hanh chinh cong",
    "tp": "thanh pho",
    "tt": "thi tran",
    "snv": "so noi vu",
}
"""What citizens abbreviate, folded, to the words it stands for."""


@lru_cache(maxsize=8192)
def words(text: str) -> tuple[str, ...]:
    """The folded words of a text with abbreviations spelled out; punctuation is dropped."""
    found: list[str] = []
    for word in _WORD.findall(fold(text)):
        found.extend(ABBREVIATIONS.get(word, word).split())
    return tuple(found)


Score = tuple[int, int, int]


def score(query: Sequence[str], name: Sequence[str]) -> Score | None:
    """How well a name matches the query's words, higher is better; None unless every query
    word is a word of the name or the start of one. Ranked by: the query's words standing
    together in order, then whole-word matches, then the fewest words left over."""
    if not query:
        return None
    exact = 0
    for word in query:
        if word in name:
            exact += 1
        elif not any(candidate.startswith(word) for candidate in name):
            return None
    together = f" {' '.join(query)}" in f" {' '.join(name)}"
    return (int(together), exact, -len(name))


def rank(
    query: str, items: Iterable[T], names: Callable[[T], Iterable[str]]
) -> list[tuple[Score, T]]:
    """The items any of whose names match the query, with their best score, best first; ties
    keep their order."""
    wanted = words(query)
    ranked: list[tuple[Score, int, T]] = []
    for position, item in enumerate(items):
        scores = [s for n in names(item) if (s := score(wanted, words(n))) is not None]
        if scores:
            ranked.append((max(scores), position, item))
    ranked.sort(key=lambda entry: (entry[0], -entry[1]), reverse=True)
    return [(found, item) for found, _, item in ranked]


def search(query: str, items: Iterable[T], names: Callable[[T], Iterable[str]]) -> list[T]:
    """The items that match the query, best first."""
    return [item for _, item in rank(query, items, names)]


def best(query: str, items: Iterable[T], names: Callable[[T], Iterable[str]]) -> T | None:
    """The one item that matches the query better than every other, or None."""
    ranked = rank(query, items, names)
    if not ranked or (len(ranked) > 1 and ranked[0][0] == ranked[1][0]):
        return None
    return ranked[0][1]


def clip(text: str, limit: int = 60) -> str:
    """Text to quote back to the user, cut to `limit` characters so a pasted essay is not
    echoed in full."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
