"""`feedbackbot db copy`: a seeded SQLite database moved to PostgreSQL (in the `[postgres]`
variant; to another SQLite file in the `[sqlite]` one) and back gives the same figures and
readable ids."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from storage.copying import count_rows
from storage.db import make_engine
from storage.models import Citizen

PERIOD = f"{date.today() - timedelta(days=366)}..{date.today()}"


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    return CliRunner()


def on(shell: CliRunner, url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """Run a command against the database at `url`; its output (exit code 0)."""
    monkeypatch.setenv("DATABASE_URL", url)
    result = shell.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def figures(shell: CliRunner, url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The province's summary and one district's, as `feedbackbot summary` prints them."""
    province = on(shell, url, monkeypatch, "summary", "--period", PERIOD)
    desk = on(shell, url, monkeypatch, "summary", "--period", PERIOD, "--agency", "615-MC")
    return province + desk


async def citizens_and_counts(url: str) -> tuple[list[str], dict[str, int]]:
    """Every citizen's messenger id, unsealed with the keys of the settings, and the rows per
    table."""
    keys = Settings(_env_file=None).identity_keys()  # type: ignore[call-arg]
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            sealed = (await connection.scalars(select(Citizen.address))).all()
            counts = await count_rows(connection)
    finally:
        await engine.dispose()
    return sorted(keys.unseal(address) for address in sealed), counts


@pytest.mark.slow
def test_a_copy_to_postgresql_and_back_gives_the_same_figures(
    shell: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    empty_database: Callable[[str], str],
    tmp_path: Path,
) -> None:
    source = f"sqlite+aiosqlite:///{tmp_path / 'pilot.sqlite3'}"
    on(shell, source, monkeypatch, "demo", "seed", "--ratings", "2000", "--reports", "40")
    target, back = empty_database("copy"), f"sqlite+aiosqlite:///{tmp_path / 'back.sqlite3'}"

    copied = on(shell, source, monkeypatch, "db", "copy", "--from", source, "--to", target)
    assert "số dòng của từng bảng khớp" in copied and "ENCRYPTION_KEY" in copied
    on(shell, target, monkeypatch, "db", "copy", "--from", target, "--to", back)

    expected = figures(shell, source, monkeypatch)
    assert "Số lượt đánh giá thủ tục hành chính: " in expected and "y tế" in expected
    assert figures(shell, target, monkeypatch) == expected
    assert figures(shell, back, monkeypatch) == expected
    ids, counts = asyncio.run(citizens_and_counts(source))
    assert counts["rating"] == 2000 and counts["report"] == 40 and ids
    assert asyncio.run(citizens_and_counts(target)) == (ids, counts)
    assert asyncio.run(citizens_and_counts(back)) == (ids, counts)
    # The copy's ids continue where the source's stopped (sequences moved on PostgreSQL).
    on(
        shell,
        target,
        monkeypatch,
        "demo",
        "seed",
        "--ratings",
        "5",
        "--reports",
        "1",
        "--seed",
        "9",
    )


def test_a_copy_into_a_database_with_data_is_refused_and_changes_nothing(
    shell: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = f"sqlite+aiosqlite:///{tmp_path / 'pilot.sqlite3'}"
    target = f"sqlite+aiosqlite:///{tmp_path / 'used.sqlite3'}"
    on(shell, source, monkeypatch, "demo", "seed", "--ratings", "50", "--reports", "2")
    on(shell, target, monkeypatch, "demo", "seed", "--ratings", "10", "--reports", "1")
    before = asyncio.run(citizens_and_counts(target))

    refused = shell.invoke(app, ["db", "copy", "--from", source, "--to", target])
    assert refused.exit_code == 1 and "đã có dữ liệu" in refused.output
    assert asyncio.run(citizens_and_counts(target)) == before
    for wrong in ("nonsense://", f"sqlite+aiosqlite:///{tmp_path / 'typo.sqlite3'}"):
        missing = shell.invoke(app, ["db", "copy", "--from", wrong, "--to", target])
        assert missing.exit_code == 1 and "Không mở được cơ sở dữ liệu nguồn" in missing.output
    assert not (tmp_path / "typo.sqlite3").exists()
