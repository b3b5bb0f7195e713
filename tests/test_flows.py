"""The conversations hold together: every state a step can go to exists, every field a step
owns is a field of its flow's typed draft, and every command the bot mentions is one it runs.

A typo in any of these would otherwise surface only when a citizen reached that step.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import handlers
from bot.channels.telegram import MENU_COMMANDS
from handlers.flow import Drafts
from handlers.rooms import ROOMS
from handlers.router import ACTION_HANDLERS, COMMANDS, STEPS
from handlers.texts import LOCALES, catalog

_NAMED = ast.Name | ast.Attribute | ast.Subscript | ast.IfExp
"""How a `Go` argument may name its state; a call or an await computes it."""
_COMMAND_IN_TEXT = re.compile(r"(?<![\w/.:])/([a-z]+)\b")


def handler_modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(handlers.__path__, "handlers."):
        yield importlib.import_module(info.name)


def go_targets(module: ModuleType) -> Iterator[tuple[int, ast.expr]]:
    """The argument of every `Go(...)` written in the module, with its line."""
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Go":
            yield node.lineno, node.args[0]


def resolve(module: ModuleType, expr: ast.expr) -> list[Any] | None:
    """The states a `Go` argument can name, read from the module's own constants and tables;
    None when it is computed at run time (a local variable or a call)."""
    if isinstance(expr, ast.IfExp):
        branches = [resolve(module, expr.body), resolve(module, expr.orelse)]
        return None if None in branches else [v for b in branches for v in b or ()]
    if isinstance(expr, ast.Subscript):
        table = resolve(module, expr.value)
        return None if table is None else [v for t in table for v in t.values()]
    if isinstance(expr, ast.Name):
        return [vars(module)[expr.id]] if expr.id in vars(module) else None
    if isinstance(expr, ast.Attribute):
        owner = resolve(module, expr.value)
        return None if owner is None else [getattr(o, expr.attr) for o in owner]
    return None


def test_every_go_names_a_state_constant_that_exists() -> None:
    checked = 0
    for module in handler_modules():
        for line, target in go_targets(module):
            where = f"{module.__name__}:{line}"
            assert isinstance(target, _NAMED | ast.Call | ast.Await), (
                f"{where}: a state name is a constant of its flow, never built in place"
            )
            states = resolve(module, target)
            if states is None:
                continue
            for state in states:
                assert state in STEPS, f"{where}: Go({state!r}) names no step"
                checked += 1
    assert checked > 40, "the scan found too few targets: it is broken"


def drafts_by_flow() -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for module in handler_modules():
        for value in vars(module).values():
            if isinstance(value, Drafts):
                assert found.get(value.flow, value.model) is value.model, value.flow
                found[value.flow] = value.model
    return found


def test_every_owned_field_is_a_field_of_the_flows_typed_draft() -> None:
    drafts = drafts_by_flow()
    assert {"rating", "report", "status", "commend", "officer"} <= set(drafts)
    owning = [step for step in STEPS.values() if step.owns]
    assert len(owning) > 20
    for step in owning:
        assert step.flow in drafts, f"{step.name} owns fields but {step.flow} has no draft"
        unknown = set(step.owns) - set(drafts[step.flow].model_fields)
        assert not unknown, f"{step.name} owns {unknown}, not fields of {step.flow}'s draft"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_command_a_message_mentions_is_one_the_bot_runs(locale: str) -> None:
    mentioned = {
        command for text in catalog(locale).values() for command in _COMMAND_IN_TEXT.findall(text)
    }
    assert {"start", "report", "case", "summary"} <= mentioned, "the scan is broken"
    assert mentioned <= set(COMMANDS), mentioned - set(COMMANDS)
    menu = {
        key.removeprefix("commands.") for key in catalog(locale) if key.startswith("commands.")
    }
    assert menu <= set(COMMANDS), menu - set(COMMANDS)


def test_the_telegram_menu_and_the_room_table_name_only_commands_the_bot_runs() -> None:
    assert set(MENU_COMMANDS) <= set(COMMANDS)
    assert set(ROOMS) <= set(COMMANDS)


def test_every_notification_button_has_a_handler() -> None:
    """Buttons on messages sent to other chats are written as (label key, action name)."""
    named = set()
    for module in handler_modules():
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        named |= set(re.findall(r'\("[a-z_]+\.[a-z_]+", "([a-z_]+)"\)', source))
    assert {"answer", "resolved", "unresolved"} <= named, "the scan is broken"
    assert named <= set(ACTION_HANDLERS), named - set(ACTION_HANDLERS)
