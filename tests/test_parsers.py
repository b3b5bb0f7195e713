"""Property tests for the parsers and matching rules (Hypothesis)."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from handlers.citizen.rating import parse_deep_link
from handlers.messages import split_command
from handlers.periods import parse_day, parse_period
from handlers.textmatch import fold

CODE = st.from_regex(r"[A-Za-z0-9-]{1,20}", fullmatch=True)


@given(st.text())
def test_fold_is_idempotent_and_strips_every_mark(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", folded))
    assert "đ" not in folded


@given(CODE, st.one_of(st.none(), CODE))
def test_deep_links_round_trip(agency: str, service: str | None) -> None:
    payload = f"r_{agency}" if service is None else f"r_{agency}_{service}"
    assert parse_deep_link(payload) == (agency, service)


@given(st.text())
def test_deep_link_parser_never_raises(payload: str) -> None:
    result = parse_deep_link(payload)
    assert result is None or payload.strip().startswith("r_")


@given(st.text())
def test_command_splitting_never_raises_and_is_lower_case(text: str) -> None:
    result = split_command(text)
    if result is not None:
        name, args = result
        assert text.startswith("/") and name == name.lower() and "@" not in name
        assert args == args.strip()


def test_command_examples() -> None:
    assert split_command("/start@feedback_bot r_615-MC") == ("start", "r_615-MC")
    assert split_command("/HELP") == ("help", "")
    assert split_command("hello /start") is None
    assert split_command("/") is None


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
def test_a_structure_day_reads_back_and_is_never_a_period(day: date) -> None:
    assert parse_day(day.isoformat()) == day
    assert parse_period(day.isoformat(), date(2026, 11, 30)) is None, (
        "no clash with /summary's period"
    )


@given(st.text(max_size=12))
def test_a_structure_day_is_a_whole_date_or_nothing(text: str) -> None:
    day = parse_day(text)
    assert day is None or day.isoformat() == text.strip()
