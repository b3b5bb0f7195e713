"""Agency and option search: what citizens type finds what they mean (Hypothesis)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from handlers.agency_picker import place_example
from handlers.textmatch import best, clip, fold, search, words
from storage.directory import read_directory

SAMPLE = read_directory(Path(__file__).parent.parent / "data" / "kontum-2022.yaml")
AGENCIES = [(a.name_vi, a.name_en) for a in SAMPLE.agencies]


def first(query: str) -> str:
    found = search(query, AGENCIES, lambda names: names)
    assert found, f"nothing found for {query!r}"
    return found[0][0]


def test_what_people_type_finds_the_agency_first() -> None:
    assert first("ubnd dak to") == "Ủy ban nhân dân huyện Đắk Tô"
    assert first("mot cua dak to") == "Bộ phận Một cửa huyện Đắk Tô"
    assert first("một cửa đắk hà") == "Bộ phận Một cửa huyện Đắk Hà"
    assert first("dak ha") == "Ủy ban nhân dân huyện Đắk Hà"
    assert first("cong an") == "Công an tỉnh Kon Tum"
    assert first("CA") == "Công an tỉnh Kon Tum"
    assert first("TTPVHCC") == "Trung tâm Phục vụ hành chính công tỉnh Kon Tum"
    assert first("MC Đắk Tô") == "Bộ phận Một cửa huyện Đắk Tô"
    assert first("one-stop dak ha") == "Bộ phận Một cửa huyện Đắk Hà"


def test_a_word_that_only_starts_alike_does_not_match() -> None:
    assert search("dak ha", ["Xã Đắk HRing"], lambda n: [n]) == []
    assert search("", ["Sở Tư pháp"], lambda n: [n]) == []
    assert search("so tu phap xyz", ["Sở Tư pháp"], lambda n: [n]) == []


def test_the_start_of_a_word_is_enough() -> None:
    assert search("so tu ph", ["Sở Tư pháp", "Sở Y tế"], lambda n: [n]) == ["Sở Tư pháp"]


@given(st.sampled_from(AGENCIES), st.randoms(use_true_random=False))
def test_word_order_accents_and_case_do_not_matter(
    names: tuple[str, str], rnd: random.Random
) -> None:
    shuffled = list(words(names[0]))
    rnd.shuffle(shuffled)
    for query in (" ".join(shuffled), " ".join(shuffled).upper(), fold(" ".join(shuffled))):
        assert names in search(query, AGENCIES, lambda n: n)


@given(st.sampled_from(AGENCIES))
def test_a_full_name_ranks_first(names: tuple[str, str]) -> None:
    found = search(names[0], AGENCIES, lambda n: n)
    assert words(found[0][0]) == words(names[0])


@given(st.lists(st.text(min_size=1, max_size=30), max_size=20), st.text(max_size=40))
def test_search_returns_only_what_matches_every_word(items: list[str], query: str) -> None:
    found = search(query, items, lambda n: [n])
    assert all(item in items for item in found)
    for item in found:
        name = words(item)
        assert all(any(w.startswith(q) for w in name) for q in words(query))


def test_the_best_option_is_the_one_that_matches_closest_or_none() -> None:
    scale = ["1 – Rất không hài lòng", "2 – Không hài lòng", "3 – Bình thường", "4 – Hài lòng"]
    assert best("Hài lòng", scale, lambda n: [n]) == "4 – Hài lòng"
    assert best("hai long", scale, lambda n: [n]) == "4 – Hài lòng"
    assert best("khong hai long", scale, lambda n: [n]) == "2 – Không hài lòng"
    assert best("dang ky", ["Đăng ký khai sinh", "Đăng ký kết hôn"], lambda n: [n]) is None


@given(st.text(max_size=100_000))
def test_an_echo_is_bounded(text: str) -> None:
    assert len(clip(text)) <= 60


LABEL = st.text(alphabet="aáàảãạăâđeêioôơuưy kncgh", min_size=1, max_size=20)


@given(st.lists(LABEL, min_size=1, max_size=8), st.data())
def test_a_label_typed_in_full_picks_that_label(labels: list[str], data: st.DataObject) -> None:
    typed = data.draw(st.sampled_from(labels))
    alike = [label for label in labels if words(label) == words(typed)]
    chosen = best(fold(typed).upper(), labels, lambda n: [n])
    if not words(typed):
        assert chosen is None
    elif len(alike) == 1:
        assert chosen == typed
    else:
        assert chosen is None, "labels that read the same are never guessed between"


PLACE = st.lists(st.sampled_from(["Đăk", "Hà", "Kon", "Tum", "Lý", "Sơn", "Ba", "Tơ"]), min_size=1)
UNITS = st.lists(st.tuples(st.sampled_from(["xã", "phường"]), PLACE), min_size=2)


@given(UNITS.filter(lambda units: len({kind for kind, _ in units}) > 1))
def test_the_search_example_is_the_place_of_a_unit_of_the_commonest_kind(
    units: list[tuple[str, list[str]]],
) -> None:
    """What every name begins with and the kind of unit are not a place to type."""
    names = [f"Ủy ban nhân dân {kind} {' '.join(place)}" for kind, place in units]
    count = Counter(kind for kind, _ in units)
    commonest = {" ".join(place) for kind, place in units if count[kind] == max(count.values())}
    assert place_example(names) in commonest
