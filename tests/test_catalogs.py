"""Every message exists in Vietnamese and English with the same placeholders, and is used."""

from __future__ import annotations

import re
import string
from pathlib import Path

from vietnam_provinces import Province, Ward
from vietnamadminunits.parser.parser_legacy import DICT_PROVINCE

from handlers.citizen.rating import OWN_QUESTIONS, QUESTIONS
from handlers.textmatch import fold
from handlers.texts import LOCALES, catalog
from storage.scaffold import Place

ROOT = Path(__file__).resolve().parent.parent
_KEY_IN_CODE = re.compile(
    r"""(?:texts|say|Texts\(\w+\)|t)\(\s*f?["']([a-z_]+\.[a-z_{}.0-9]+)["']"""
)


def placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def test_every_key_exists_in_every_language_with_the_same_placeholders() -> None:
    vi = catalog("vi")
    for locale in LOCALES:
        other = catalog(locale)
        assert other.keys() == vi.keys(), set(other) ^ set(vi)
        for key, message in vi.items():
            assert placeholders(other[key]) == placeholders(message), key


def test_no_message_is_empty_and_vietnamese_has_diacritics() -> None:
    for key, message in catalog("vi").items():
        assert message.strip(), key
    prose = [m for m in catalog("vi").values() if len(m) > 40]
    assert all(
        re.search(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", m)
        for m in prose
    )


def _keys_used_in_code() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.glob("handlers/**/*.py"), *ROOT.glob("bot/**/*.py")]:
        found.update(_KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_key_the_code_names_is_in_the_catalog() -> None:
    """Literal keys must exist; a key built with an f-string must match at least one key."""
    vi = catalog("vi")
    used = _keys_used_in_code()
    assert len(used) > 50, "the scan found too few keys: the pattern is broken"
    for key in used:
        if "{" not in key:
            assert key in vi, key
            continue
        pattern = re.compile(re.sub(r"\\\{[^}]*\\\}", "[a-z_0-9]+", re.escape(key)) + "$")
        assert any(pattern.match(k) for k in vi), key


def test_question_options_all_have_labels() -> None:
    vi = catalog("vi")
    for question in QUESTIONS:
        for sector in (None, *OWN_QUESTIONS):
            assert question.text_key("q", sector) in vi
            assert question.text_key("short", sector) in vi
        for value in question.values:
            assert question.label_key(value) in vi


def _province_names() -> set[str]:
    """Every province's short name, today's 34 and the 63 before July 2025, from the libraries."""
    today = {p.name.removeprefix("Thành phố ").removeprefix("Tỉnh ") for p in Province.iter_all()}
    before = {entry["provinceShort"] for entry in DICT_PROVINCE.values()}
    return today | before


LEVEL_WORDS = (
    "tỉnh", "huyện", "quận", "thị xã", "xã", "phường", "thị trấn", "đặc khu",
    "province", "provincial", "district", "commune", "ward", "town",
)  # fmt: skip


def test_no_commune_of_today_is_named_in_the_catalogs() -> None:
    """Examples of what to type come from the loaded directory: a catalog naming a place (say
    Đắk Hà, which was a district and is now a commune) is wrong in every other province."""
    places = {fold(Place.of(w.name, w.division_type).short) for w in Ward.iter_by_province(51)}
    assert {"dak ha", "kon tum", "ly son"} <= places
    for locale in LOCALES:
        for key, message in catalog(locale).items():
            folded = fold(re.sub(r"\{\w+\}", "", message))
            for place in places:
                assert not re.search(rf"(?<!\w){re.escape(place)}(?!\w)", folded), (key, place)


def test_no_province_or_level_is_named_in_the_catalogs() -> None:
    """Provinces and levels change (July 2025 merged provinces and ended districts): their names
    come from the directory file, so no catalog may name one."""
    names = _province_names()
    assert {"Quảng Ngãi", "Kon Tum", "Hà Nội"} <= names
    for locale in LOCALES:
        for key, message in catalog(locale).items():
            lowered = re.sub(r"\{\w+\}", "", message).lower()
            for word in (*(n.lower() for n in names), *LEVEL_WORDS):
                assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered), (key, word)


# What a citizen reads fits a phone screen; longer explanations sit behind a button or command.
PHONE_SCREEN = 700
STAFF_SECTIONS = ("officer.", "rooms.", "cli.", "summary.", "chart.", "export.", "poster.")


def test_every_message_a_citizen_reads_fits_a_phone_screen() -> None:
    for locale in LOCALES:
        for key, message in catalog(locale).items():
            if not key.startswith(STAFF_SECTIONS):
                assert len(message) <= PHONE_SCREEN, (locale, key, len(message))
