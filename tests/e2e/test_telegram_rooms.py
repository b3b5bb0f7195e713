"""End to end on Telegram with a real supergroup: a leader registers the agency's group; there
the bot refuses /summary, /export and /join in one line each, stays silent at chatter and button
presses, and relays a citizen's added information as a one-line notice, while the leader's
private chat receives the text itself."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import AuditEntry, Officer
from tests.casework import invite_code
from tests.e2e.telegram_bot import Citizen, RunningBot, join, report_official
from tests.fakes import FakeTelegramServer

LEADER, REPORTER, NEWCOMER, GROUP = 7101, 7102, 7103, -1001234567890
REFUSED = "chỉ dùng trong cuộc trò chuyện riêng với bot"
ADDED = "Tôi có biên lai nộp tiền ngày 30/11, số 0042."


async def test_a_group_gets_one_line_notices_and_refuses_the_rest(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    leader = await join(running, tg, LEADER, "615-MC", "leader")
    in_group = Citizen(tg, GROUP, user_id=LEADER)
    await in_group.type("/register", "Nhóm này sẽ nhận thông báo ngắn")
    await in_group.type("/summary", REFUSED)
    await in_group.type("/export", REFUSED)
    code = await invite_code(running.runtime, "615-MC", "officer")
    await Citizen(tg, GROUP, user_id=NEWCOMER).type(f"/join {code}", REFUSED)

    before = len(tg.messages(GROUP))
    tg.send_text(GROUP, "Chào cả nhóm", user_id=LEADER)
    tg.press(GROUP, tg.messages(GROUP)[-1].message_id, "forged:a0", user_id=LEADER)
    await in_group.type("/help", "bot chỉ gửi thông báo ngắn")
    assert len(tg.messages(GROUP)) == before + 1, "only /help was answered"

    reporter = Citizen(tg, REPORTER)
    await reporter.type("/start", "Thông báo về dữ liệu cá nhân")
    await reporter.tap("Tôi đồng ý", "Mời Ông/Bà chọn chức năng")
    receipt = await report_official(reporter)
    await reporter.type(f"/status {receipt}", f"Phản ánh {receipt}")
    await reporter.tap("Bổ sung thông tin", "thông tin bổ sung")
    await reporter.type(ADDED, "đã được chuyển đến cơ quan xử lý")
    await tg.wait_until(lambda: any(ADDED in (m.text or "") for m in tg.messages(LEADER)))
    await tg.wait_until(lambda: len(tg.messages(GROUP)) >= before + 3)

    notices = tg.messages(GROUP)[before + 1 :]
    assert all(m.kind == "text" and not m.buttons for m in tg.messages(GROUP))
    for notice in notices:
        assert "\n" not in (notice.text or "") and "trò chuyện riêng với bot: /case" in notice.text
        assert ADDED not in notice.text and "Phạm Văn Thắng" not in notice.text
    async with running.runtime.sessions() as session:
        officers = await session.scalar(select(func.count()).select_from(Officer))
        refused = await session.scalars(select(AuditEntry.action).where(~AuditEntry.allowed))
        assert officers == 1 and sorted(refused.all()).count("wrong_room") == 4
    del leader
