"""Dependencies point down: bot -> handlers -> storage; the core knows no messenger, and every
query is written in storage/ (the layers above hand sessions through, nothing more)."""

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


_DATABASE = {"sqlalchemy", "sqlmodel"}
SESSIONS_ONLY = {"sqlalchemy.ext.asyncio": None, "sqlalchemy": {"Row"}}
"""What bot/ and handlers/ may import from the database libraries: sessions and engines to
pass through, and the type of a row a storage function returned. `None` means any name."""
RUNS_STATEMENTS = {"execute", "scalar", "scalars", "stream", "stream_scalars"}
"""Methods a session or connection runs a statement with (an HTTP request's `stream` is not)."""


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


def sql_built_outside_storage(package: str) -> dict[Path, list[str]]:
    """Database imports beyond sessions and row types, and statements run on a session."""
    found: dict[Path, list[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            problem = None
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.split(".")[0] in _DATABASE]
                problem = f"import {names}" if names else None
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] in _DATABASE:
                    allowed = SESSIONS_ONLY.get(node.module, set())
                    names = [
                        a.name for a in node.names if allowed is not None and a.name not in allowed
                    ]
                    problem = f"from {node.module} import {names}" if names else None
            elif isinstance(node, ast.Attribute) and node.attr in RUNS_STATEMENTS:
                receiver = ast.unparse(node.value)
                if "session" in receiver or "connection" in receiver:
                    problem = f"line {node.lineno}: {receiver}.{node.attr}(…)"
            if problem:
                found.setdefault(path, []).append(problem)
    return found


def test_bot_and_handlers_build_no_sql_of_their_own() -> None:
    for package in ("bot", "handlers"):
        found = sql_built_outside_storage(package)
        assert not found, found


def test_the_sql_scan_sees_statements() -> None:
    assert sql_built_outside_storage("storage")[ROOT / "storage" / "cases.py"]


def test_the_readme_architecture_names_every_package_and_module_of_handlers() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    for path in (ROOT / "handlers").rglob("*.py"):
        if path.name != "__init__.py":
            assert path.stem in section, f"the README's architecture leaves out {path}"
    for package in (ROOT / "handlers").iterdir():
        if (package / "__init__.py").is_file():
            assert f"{package.name}/" in section, f"the README's layout leaves out {package}"
