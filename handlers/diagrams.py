"""Mermaid diagrams of the conversations, drawn from the step tables so they cannot drift.

A step leads wherever its `take` can `Go`: the state constants its code names, followed through
the functions it calls, the closures it was built with and the functions it wraps
(`__wrapped__`, so the access guards stay out of the picture). A flow that asks the first
unanswered question computes it in a function named `next_state`; from a step, that is drawn
as the next question of the table it can return. A state of another flow is drawn as leaving
(`[*]`), labelled with where it goes; each state is described by the first clause of what
its step asks (its docstring). `feedbackbot diagrams` writes one `<flow>.mmd` beside
the module of the flow's first step; a test fails when a committed one is out of date.
"""

from __future__ import annotations

import dis
import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any

from handlers import router
from handlers.citizen.start import HOME_STATES
from handlers.flow import Step

NEXT_STATE = "next_state"


@dataclass(frozen=True, slots=True)
class _InOrder:
    """Stands for "the next question this `next_state` can return"."""

    next_state: FunctionType


def _loaded(code: CodeType, scope: dict[str, Any]) -> Iterator[Any]:
    """The globals the code (and code nested in it) loads, and the attributes it reads of
    those that are modules or records (`status.LIST`, `PICKER.level`)."""
    owner: object = None
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME") and instruction.argval in scope:
            owner = scope[instruction.argval]
            yield owner
            continue
        if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and (
            isinstance(owner, ModuleType) or _is_record(owner)
        ):
            yield getattr(owner, instruction.argval, None)
        owner = None
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _loaded(constant, scope)


def _referenced(function: FunctionType) -> Iterator[Any]:
    """What a function refers to: the globals and attributes it loads, and its cells."""
    yield from _loaded(function.__code__, function.__globals__)
    for cell in function.__closure__ or ():
        yield cell.cell_contents


class _Reach:
    """The states each function can lead to, computed once per function."""

    def __init__(self, states: Mapping[str, Step]) -> None:
        self.states = states
        self.done: dict[FunctionType, set[object]] = {}

    def of(self, function: Callable[..., Any]) -> set[object]:
        target = inspect.unwrap(function)
        if not isinstance(target, FunctionType) or not target.__module__.startswith("handlers"):
            return set()
        if target in self.done:
            return self.done[target]
        found: set[object] = set()
        self.done[target] = found
        if target.__name__ == NEXT_STATE:
            found.add(_InOrder(target))
            return found
        for value in _referenced(target):
            found |= self._of_value(value)
        return found

    def following(self, state: str, next_state: FunctionType) -> list[str]:
        """The first state after `state` (or the first of all), in table order, that
        `next_state` can return."""
        found: set[str] = set()
        for value in _referenced(next_state):
            if isinstance(value, str) and value in self.states:
                found.add(value)
            elif isinstance(value, tuple):  # a table of questions, each with its `state`
                found |= {getattr(item, "state", None) for item in value} & set(self.states)
        table = list(self.states)
        later = [s for s in table[table.index(state) + 1 :] if s in found] if state else []
        return later[:1] or [s for s in table if s in found][:1]

    def _of_value(self, value: object) -> set[object]:
        if isinstance(value, str):
            return {value} if value in self.states else set()
        if isinstance(value, dict):
            return {v for v in value.values() if isinstance(v, str) and v in self.states}
        if isinstance(value, Step):
            return self.of(value.take)
        return self.of(value) if callable(value) else set()


def _is_record(value: object) -> bool:
    return hasattr(value, "__dataclass_fields__") and not isinstance(value, type)


def _purpose(step: Step) -> str | None:
    """The first clause of the docstring that says what the step asks or does: its `ask`'s,
    else that of a function it was built with (the one a text step hands the text to, say)."""
    candidates = [step.ask, step.take]
    for built in (step.ask, step.take):
        candidates += [c.cell_contents for c in inspect.unwrap(built).__closure__ or ()]
    for candidate in candidates:
        function = inspect.unwrap(candidate) if callable(candidate) else None
        doc = inspect.getdoc(function) if isinstance(function, FunctionType) else None
        if doc:
            paragraph = doc.split("\n\n")[0].replace("\n", " ")
            return re.split(r"[.;] ", paragraph)[0].rstrip(".").replace(":", ",")
    return None


def _node(state: str) -> str:
    return state.split(".", 1)[1]


def flows(states: Mapping[str, Step]) -> dict[str, list[Step]]:
    """The steps of each flow, in table order."""
    found: dict[str, list[Step]] = {}
    for step in states.values():
        found.setdefault(step.flow, []).append(step)
    return found


def edges(states: Mapping[str, Step]) -> dict[str, list[tuple[str, str]]]:
    """Each flow's (from, to) pairs; `to` is a state name, of this flow or another."""
    reach = _Reach(states)
    found: dict[str, list[tuple[str, str]]] = {}
    for flow, steps in flows(states).items():
        pairs: list[tuple[str, str]] = []
        for step in steps:
            targets = reach.of(step.take)
            named = {s for s in targets if isinstance(s, str)}
            for target in targets:
                if isinstance(target, _InOrder):
                    named.update(reach.following(step.name, target.next_state))
            pairs += [(step.name, state) for state in states if state in named]
        found[flow] = pairs
    return found


def entries(
    states: Mapping[str, Step], commands: Mapping[str, Callable[..., Any]], home: Sequence[str]
) -> dict[str, list[str]]:
    """The commands that can open each state, leaving out the way home every command has."""
    reach = _Reach(states)
    found: dict[str, list[str]] = {}
    for command, run in commands.items():
        opened: set[str] = set()
        for target in reach.of(run):
            if isinstance(target, _InOrder):
                opened.update(reach.following("", target.next_state))
            elif isinstance(target, str):
                opened.add(target)
        for state in opened - set(home):
            found.setdefault(state, []).append(f"/{command}")
    return found


def mermaid(
    flow: str, steps: list[Step], pairs: list[tuple[str, str]], opened: Mapping[str, list[str]]
) -> str:
    """One flow's state diagram."""
    lines = [
        f"%% The {flow} conversation, generated from its step table by `feedbackbot diagrams`.",
        "%% Do not edit: change the steps and run the command again.",
        "stateDiagram-v2",
    ]
    for step in steps:
        purpose = _purpose(step)
        if purpose:
            lines.append(f"    {_node(step.name)} : {purpose}")
    entered = {target for _, target in pairs}
    for index, step in enumerate(steps):
        if step.name in opened:
            lines.append(f"    [*] --> {_node(step.name)}: {', '.join(opened[step.name])}")
        elif index == 0 or step.name not in entered:
            lines.append(f"    [*] --> {_node(step.name)}")
    for source, target in pairs:
        if target.split(".", 1)[0] == flow:
            lines.append(f"    {_node(source)} --> {_node(target)}")
        else:
            lines.append(f"    {_node(source)} --> [*]: {target}")
    return "\n".join(lines) + "\n"


def drawings(
    states: Mapping[str, Step],
    modules: Sequence[ModuleType],
    commands: Mapping[str, Callable[..., Any]],
    home: Sequence[str],
) -> dict[Path, str]:
    """Every flow's diagram and its file, beside the module whose `STEPS` table holds the
    flow's first step."""
    found: dict[Path, str] = {}
    all_pairs = edges(states)
    opened = entries(states, commands, home)
    for flow, steps in flows(states).items():
        [module] = [m for m in modules if steps[0] in m.STEPS]
        here = Path(inspect.getfile(module)).parent
        found[here / f"{flow}.mmd"] = mermaid(flow, steps, all_pairs[flow], opened)
    return found


def current() -> dict[Path, str]:
    """The diagrams of the conversations as the code stands."""
    return drawings(router.STEPS, router.FLOW_MODULES, router.COMMANDS, HOME_STATES)
