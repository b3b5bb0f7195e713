"""Dependencies point down: bot -> handlers -> storage; the core knows no messenger."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESSENGER_AND_HTTP = {
    "telegram",
    "httpx",
    "aiohttp",
    "requests",
    "starlette",
    "uvicorn",
    "urllib3",
}


def imported_modules(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[path] = names
    return found


def test_handlers_import_no_messenger_library_or_http_client() -> None:
    for path, names in imported_modules("handlers").items():
        assert not names & MESSENGER_AND_HTTP, f"{path} imports {names & MESSENGER_AND_HTTP}"
        assert "bot" not in names, f"{path} imports the runtime"


def test_storage_imports_neither_handlers_nor_runtime() -> None:
    for path, names in imported_modules("storage").items():
        assert not names & (MESSENGER_AND_HTTP | {"bot", "handlers"}), path


def test_the_scan_sees_imports() -> None:
    assert "telegram" in imported_modules("bot")[ROOT / "bot" / "channels" / "telegram.py"]
