"""Property tests for the parsers and matching rules (Hypothesis)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from handlers.citizen.rating import parse_deep_link
from handlers.messages import split_command
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
