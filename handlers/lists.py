"""Numbered lists to choose from: agencies, services, officials, cases, one's own reports.

An option's id is its position, so callback data never names an agency, a case or a person;
the list itself is read again (or kept in the flow's draft) when the answer comes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from handlers.flow import Answer, Outcome, Retry, Turn
from handlers.messages import Choice

Listed = TypeVar("Listed")


def numbered(labels: list[str]) -> tuple[Choice, ...]:
    """Options whose ids are positions: 1, 2, … in the order of the labels."""
    return tuple(Choice(str(i), label) for i, label in enumerate(labels, start=1))


def picked(answer: Answer, listed: Sequence[Listed]) -> Listed | None:
    """The item of a `numbered` list whose option was chosen; None when the answer is none."""
    if answer.choice is None or not answer.choice.isdigit():
        return None
    index = int(answer.choice) - 1
    return listed[index] if 0 <= index < len(listed) else None


def take_picked(
    listed: Callable[[Turn], Awaitable[Sequence[Listed]]],
    take_item: Callable[[Turn, Listed], Awaitable[Outcome]],
) -> Callable[[Turn, Answer], Awaitable[Outcome]]:
    """The `take` of a step that asks to pick from a numbered list: the list is read again and
    the item picked handed on; an answer that picks none is asked again."""

    async def take(turn: Turn, answer: Answer) -> Outcome:
        item = picked(answer, await listed(turn))
        if item is None:
            return Retry(turn.pick_hint())
        return await take_item(turn, item)

    return take
