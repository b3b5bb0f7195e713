"""The README's backup and restore procedure, run as written: a seeded PostgreSQL database is
dumped, restored into a fresh one, and gives the same figures (on PostgreSQL only)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.databases import POSTGRES_URL, drop_database

README = Path(__file__).resolve().parents[1] / "README.md"
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def readme_procedure() -> str:
    """The shell block that follows the README's note naming this test."""
    text = README.read_text(encoding="utf-8")
    found = re.search(r"tests/test_backup_restore\.py\. -->\n```sh\n(.*?)```", text, re.S)
    assert found is not None, "the README's backup and restore block"
    return found.group(1)


def test_the_readme_restore_gives_the_same_figures(
    empty_database: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = empty_database("live")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", live)
    seeded = CliRunner().invoke(app, ["demo", "seed", "--ratings", "1500", "--reports", "30"])
    assert seeded.exit_code == 0, seeded.output

    server = urlsplit(POSTGRES_URL)
    restored = f"feedbackbot_restored_{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PGHOST": server.hostname or "127.0.0.1",
        "PGPORT": str(server.port or 5432),
        "PGUSER": server.username or "postgres",
        "DB": live.rsplit("/", 1)[1],
        "RESTORED": restored,
        "BACKUP": str(tmp_path / "feedbackbot.dump"),
        "PERIOD": f"{date.today() - timedelta(days=366)}..{date.today()}",
        "LANG": "vi_VN.UTF-8",
    }
    env.pop("DATABASE_URL")
    try:
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", readme_procedure()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        drop_database(POSTGRES_URL, restored)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "The restored database gives the same figures." in run.stdout
    figures = (tmp_path / "restored.txt").read_text(encoding="utf-8")
    procedures = re.search(r"Số lượt đánh giá thủ tục hành chính: (\d+)", figures)
    apart = re.search(r"Các lĩnh vực khác.*", figures)
    assert procedures and apart, figures
    rated = int(procedures[1]) + sum(int(n) for n in re.findall(r"\((\d+) lượt\)", apart[0]))
    assert rated == 1500, "the figures compared are the seeded year's, every sector's"
