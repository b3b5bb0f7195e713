"""An anonymous reporter stays unlinkable: everything officers, intake, an agency's group chat and
exports receive, across every flow of a case, holds nothing that identifies the reporter or joins
two of their reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.exports import ExportRequest, open_tables, write_export
from handlers.periods import parse_period
from storage.models import Case, Report
from tests.casework import (
    citizen,
    decide,
    file_report,
    officer,
    registered_group,
    report_until_evidence,
)
from tests.conftest import Clock
from tests.dialogue import number_of
from tests.test_charts_exports import _all_text
from tests.test_reports import World

REPORTER = "734561289"
HANDLE = re.compile(r"p-[0-9a-f]{16}")


@pytest.mark.slow
async def test_nothing_officers_or_exports_receive_identifies_or_links_the_reporter(
    runtime: World, tmp_path: Path, clock: Clock
) -> None:
    rt, output = runtime
    desk = await officer(rt, output, "leader-mc", "615-MC", "leader")
    justice = await officer(rt, output, "leader-tp", "62-STP", "leader")
    intake = await officer(rt, output, "intake", "62-SNV", "admin")
    inspector = await officer(rt, output, "inspector", "62-TTR", "leader")
    group = await registered_group(rt, output, "group-mc", desk)
    reporter = await citizen(rt, output, REPORTER)
    first = await file_report(reporter)
    second = await file_report(reporter, category="Đòi, gợi ý đưa tiền")  # copied to 62-TTR
    named = await file_report(reporter, named=("Lê Thị Mai", "0905123456"))
    for n in range(2):  # two more people about the same official: a reassignment review opens
        await file_report(await citizen(rt, output, f"other-{n}"))
    cases = {c.report_id: c.id for c in await reporter.rows(Case)}
    reports = {r.receipt: r for r in await reporter.rows(Report)}

    # ask and answer, add information, decide and reopen, on the first report
    case_one = cases[reports[first].id]
    out = await desk.say(f"/case {case_one}")
    out = await desk.say(number_of(out, "Tiếp nhận"))
    out = await desk.say(number_of(out, "Hỏi người phản ánh"))
    await desk.say("Ông/Bà đến quầy số mấy?")
    out = await reporter.say(f"/status {first}")
    out = await reporter.say(number_of(out, "Trả lời câu hỏi"))
    await reporter.say("Quầy số 3, khoảng 9 giờ.")
    out = await reporter.say(f"/status {first}")
    out = await reporter.say(number_of(out, "Bổ sung thông tin"))
    await reporter.say("Tôi đã nộp đủ hồ sơ theo phiếu hẹn.")
    await decide(desk, case_one, "Phản ánh không có cơ sở")
    out = await reporter.say(f"/status {first}")
    await reporter.say(number_of(out, "Chưa được giải quyết"))

    # transfer the second report to another agency, which acknowledges it
    case_two = cases[reports[second].id]
    out = await desk.say(f"/case {case_two}")
    out = await desk.say(number_of(out, "Chuyển cơ quan khác"))
    out = await desk.say("tu phap")
    await desk.say(number_of(out, "Sở Tư pháp"))
    out = await justice.say(f"/case {case_two}")
    await justice.say(number_of(out, "Tiếp nhận"))

    for person in (desk, justice, intake, inspector):
        for case_id in cases.values():
            await person.say(f"/case {case_id}")
        await person.say("/summary month")
    export = tmp_path / "all.zip"
    tables = open_tables(export, "csv")
    month = parse_period("month", clock.now.date())
    assert month is not None
    await write_export(rt.sessions, tables, ExportRequest(month, None, True, "vi"))
    tables.close()

    messages = [
        *desk.received(),
        *justice.received(),
        *intake.received(),
        *inspector.received(),
        *group.received(),
    ]
    assert reports[second].handle in "\n".join(inspector.received()), "the copy was read"
    seen_by_staff = "\n".join([*messages, _all_text(export, "csv")])
    assert "Quầy số 3, khoảng 9 giờ." in seen_by_staff, "the flows did reach the staff"
    assert len(group.received()) > 5, "the group was told of the cases"
    for secret in ("Quầy số 3", "nộp đủ hồ sơ", "Phạm Văn Thắng", "Lê Thị Mai", "p-"):
        assert not any(secret in m for m in group.received()), secret
    assert REPORTER not in seen_by_staff
    anonymous = [reports[first], reports[second]]
    assert reports[first].handle != reports[second].handle
    for report in anonymous:
        assert report.handle in seen_by_staff, "each anonymous report shows its own handle"
    assert reports[named].handle not in seen_by_staff, "a named report shows no handle"
    shown = set(HANDLE.findall(seen_by_staff))
    assert shown <= {r.handle for r in reports.values() if r.anonymous}
    for message in messages:
        assert len(set(HANDLE.findall(message))) <= 1, "no message names two reports' handles"


async def test_the_reporter_is_told_who_would_see_their_name(runtime: World) -> None:
    reporter = await citizen(*runtime, REPORTER)
    await report_until_evidence(reporter)
    out = await reporter.say("tiếp tục")
    for who in (
        "lãnh đạo cơ quan xử lý",
        "Sở Nội vụ",
        "được chuyển",
        "cơ quan thanh tra",
        "người bị phản ánh",
    ):
        assert who in out, who
    assert "chỉ thấy một mã riêng của phản ánh này" in out
