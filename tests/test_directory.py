"""The directory file: documented format, idempotent import, updates keep ratings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.config import SAMPLE_DIRECTORY
from storage.directory import (
    DirectoryError,
    DirectoryFile,
    DirectoryInUse,
    import_directory,
    read_directory,
    remove_unlisted,
)
from storage.models import Agency, Invite, Officer, Official, Rating, Service
from tests.casework import officer
from tests.conftest import KONTUM_2022, Chat
from tests.dialogue import number_of
from tests.test_engine import reach_summary

TODAY = date(2026, 11, 30)


def sample(path: Path) -> dict[str, object]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


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


async def test_import_twice_changes_nothing(chat: Chat, sample_directory: Path) -> None:
    directory = read_directory(sample_directory)
    async with chat.runtime.sessions() as session, session.begin():
        result = await import_directory(directory, today=TODAY, session=session)
    assert (result.added, result.updated, result.retired) == (
        [],
        [],
        [],
    ) and result.unchanged > 100


async def test_a_changed_file_updates_names_adds_entries_and_keeps_ratings(
    consented: Chat, tmp_path: Path, sample_directory: Path
) -> None:
    out = await reach_summary(consented)
    await consented.say(number_of(out, "Gửi đánh giá"))
    data = sample(sample_directory)
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
        result = await import_directory(read_directory(changed), today=TODAY, session=session)
    assert (result.added, result.updated) == (["62-SCT"], ["62-STP"])
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
        (lambda d: d["agencies"][1].update(kind="Ministry of X"), "kind"),
        (lambda d: d["agencies"][1].update(parent=None), "has no parent"),
        (lambda d: d["levels"].append(d["levels"][0]), "duplicate level"),
        (lambda d: d.update(intake="NOPE"), "intake NOPE is no agency"),
        (lambda d: d.update(inspectorate="NOPE"), "inspectorate NOPE is no agency"),
        (lambda d: d["agencies"][1].update(group="nowhere"), "unknown group nowhere"),
        (
            lambda d: d["agencies"][1].update(valid_from="2026-01-01", valid_to="2025-07-01"),
            "valid_from",
        ),
        (lambda d: d["services"][0].update(offered_by=["nowhere"]), "no kind or agency"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(  # type: ignore[no-untyped-def]
    change, message: str, tmp_path: Path, sample_directory: Path
) -> None:
    data = sample(sample_directory)
    change(data)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DirectoryError, match=message):
        read_directory(bad)


@pytest.mark.parametrize(("path", "code"), [(SAMPLE_DIRECTORY, "51-TTR"), (KONTUM_2022, "62-TTR")])
def test_each_sample_names_its_province_s_inspectorate(path: Path, code: str) -> None:
    """Bribe and threat cases are copied to the Inspectorate the file names, as intake is."""
    directory = read_directory(path)
    assert directory.inspectorate == code
    [agency] = [a for a in directory.agencies if a.code == code]
    assert agency.name_vi.startswith("Thanh tra ")


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError):
        read_directory(tmp_path / "missing.yaml")


async def replace_with(chat: Chat, directory: DirectoryFile) -> int:
    async with chat.runtime.sessions() as session, session.begin():
        await import_directory(directory, today=TODAY, session=session)
        return await remove_unlisted(directory, session=session)


async def test_a_replacing_import_deletes_the_unused_sample_all_or_nothing(
    chat: Chat, tmp_path: Path
) -> None:
    """`directory import --replace`: the sample goes when nothing refers to it; an officer of a
    sample agency keeps it all (on PostgreSQL too, where foreign keys are enforced)."""
    own = {
        "province": {"name_vi": "tỉnh Thử Nghiệm", "name_en": "Test province"},
        "levels": [
            {
                "kind": "province",
                "label_vi": "Cơ quan cấp tỉnh",
                "label_en": "Provincial agencies",
                "unit_vi": "cơ quan cấp tỉnh",
                "unit_en": "provincial agency",
            }
        ],
        "agencies": [
            {"code": "51", "name_vi": "Tỉnh", "name_en": "Province", "kind": "province"},
            {
                "code": "51-SNV",
                "name_vi": "Sở",
                "name_en": "Dept",
                "kind": "department",
                "parent": "51",
                "officials": [
                    {
                        "code": "51-SNV-GD",
                        "name": "A",
                        "post_vi": "Giám đốc",
                        "post_en": "Director",
                    }
                ],
            },
        ],
        "services": [],
    }
    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump(own, allow_unicode=True), encoding="utf-8")
    directory = read_directory(path)
    await officer(chat.runtime, chat.output, "leader", "615-MC", "leader")
    with pytest.raises(DirectoryInUse, match="615-MC"):
        await replace_with(chat, directory)
    assert "51" not in {a.code for a in await chat.rows(Agency)}

    async with chat.runtime.sessions() as session, session.begin():
        await session.execute(Invite.__table__.delete())
        await session.execute(Officer.__table__.delete())
    assert await replace_with(chat, directory) > 100
    assert {a.code for a in await chat.rows(Agency)} == {"51", "51-SNV"}
    assert [o.code for o in await chat.rows(Official)] == ["51-SNV-GD"]
    assert await chat.rows(Service) == []
