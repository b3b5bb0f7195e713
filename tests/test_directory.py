"""The directory file: documented format, idempotent import, updates keep ratings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.config import SAMPLE_DIRECTORY
from storage.directory import DirectoryError, import_directory, read_directory
from storage.models import Agency, Official, Rating, Service
from tests.conftest import Chat
from tests.dialogue import number_of
from tests.test_engine import reach_summary


def sample() -> dict[str, object]:
    return yaml.safe_load(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))


async def test_sample_is_loaded_into_an_empty_database(chat: Chat) -> None:
    agencies = await chat.rows(Agency)
    kinds = {a.kind for a in agencies}
    assert {
        "province",
        "centre",
        "department",
        "board",
        "police",
        "district",
        "desk",
        "commune",
    } <= kinds
    assert sum(a.kind == "district" for a in agencies) == 10
    names = {a.name_vi for a in agencies}
    assert "Ủy ban nhân dân huyện Ia H'Drai" in names and "Sở Nội vụ tỉnh Kon Tum" in names
    assert len(await chat.rows(Service)) >= 10
    assert len(await chat.rows(Official)) > 50


async def test_import_twice_changes_nothing(chat: Chat) -> None:
    directory = read_directory(SAMPLE_DIRECTORY)
    async with chat.runtime.sessions() as session, session.begin():
        result = await import_directory(directory, session=session)
    assert (result.added, result.updated) == (0, 0) and result.unchanged > 100


async def test_a_changed_file_updates_names_adds_entries_and_keeps_ratings(
    consented: Chat, tmp_path: Path
) -> None:
    out = await reach_summary(consented)
    await consented.say(number_of(out, "Gửi đánh giá"))
    data = sample()
    agencies = data["agencies"]
    assert isinstance(agencies, list)
    justice = next(a for a in agencies if a["code"] == "62-STP")
    justice["name_vi"] = "Sở Tư pháp (tên mới)"
    agencies.append(
        {
            "code": "62-SCT",
            "name_vi": "Sở Công Thương tỉnh Kon Tum",
            "name_en": "Kon Tum Department of Industry and Trade",
            "kind": "department",
            "parent": "62",
        }
    )
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    async with consented.runtime.sessions() as session, session.begin():
        result = await import_directory(read_directory(changed), session=session)
    assert (result.added, result.updated) == (1, 1)
    async with consented.runtime.sessions() as session:
        renamed = await session.scalar(select(Agency).where(Agency.code == "62-STP"))
        [rating] = (await session.scalars(select(Rating))).all()
    assert renamed is not None and renamed.name_vi == "Sở Tư pháp (tên mới)"
    assert rating.agency_id == renamed.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["agencies"].append(dict(d["agencies"][0])), "duplicate agency code"),
        (lambda d: d["agencies"][1].update(parent="NOPE"), "unknown parent"),
        (lambda d: d["agencies"][1].update(code="bad code!"), "code"),
        (lambda d: d["agencies"][1].update(kind="ministry"), "kind"),
        (lambda d: d["services"][0].update(offered_by=["nowhere"]), "no kind or agency"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(change, message: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = sample()
    change(data)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DirectoryError, match=message):
        read_directory(bad)


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError):
        read_directory(tmp_path / "missing.yaml")
