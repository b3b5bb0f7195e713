"""End to end on Telegram: the real python-telegram-bot client against the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from bot.channels.telegram import CHANNEL, MENU_COMMANDS, TelegramChannel
from bot.config import Settings
from bot.runtime import open_runtime
from handlers.messages import Reply, encode_reply
from storage.models import Agency, OutboxMessage, Rating
from storage.outbox import Outgoing, enqueue
from tests.e2e.telegram_bot import Citizen, RunningBot, bot_on, settled, start_bot
from tests.fakes import FakeTelegramServer

CHAT = 5001


async def consent_and_open_rating(citizen: Citizen) -> None:
    await citizen.type("/start", "Thông báo về dữ liệu cá nhân")
    await citizen.tap("Tôi đồng ý", "Mời Ông/Bà chọn chức năng")
    await citizen.tap("Đánh giá dịch vụ", "Ông/Bà đã làm thủ tục tại cơ quan nào?")
    await citizen.tap("Cơ quan cấp tỉnh", "Xin chọn cơ quan")
    await citizen.tap("Sở Tư pháp", "thực hiện thủ tục hoặc sử dụng dịch vụ công nào")
    await citizen.tap("lý lịch tư pháp", "Yếu tố 1/5")


async def finish_rating(citizen: Citizen) -> None:
    await citizen.tap("5 – Rất hài lòng", "Yếu tố 3/5")
    await citizen.tap("2 – Không hài lòng", "công chức nào đã trực tiếp giải quyết")
    await citizen.tap("Hoàng Xuân Nam", "Yếu tố 4/5")
    await citizen.tap("3 – Bình thường", "Yếu tố 5/5")
    await citizen.tap("Bỏ qua", "ngày hẹn")
    await citizen.tap("Trễ hẹn", "Phiếu xin lỗi")
    await citizen.tap("Không nhớ rõ", "giấy tờ ngoài danh mục")
    await citizen.tap("Có", "bao nhiêu lần")
    await citizen.tap("2 lần", "hình thức nào")
    await citizen.tap("bưu chính", "đưa tiền hoặc quà")
    await citizen.tap("Không muốn trả lời", "góp ý gì thêm")
    await citizen.type("Nên bố trí thêm ghế chờ.", "kiểm tra lại các câu trả lời")


async def only_rating(bot: RunningBot) -> tuple[Rating, str]:
    async with bot.runtime.sessions() as session:
        rating = (await session.scalars(select(Rating))).one()
        agency = await session.get(Agency, rating.agency_id)
    assert agency is not None
    return rating, agency.code


async def test_a_citizen_rates_with_buttons_and_every_answer_is_stored(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    citizen = Citizen(tg, CHAT)
    await consent_and_open_rating(citizen)
    await citizen.tap("4 – Hài lòng", "Yếu tố 2/5")
    await finish_rating(citizen)
    await citizen.tap("Gửi đánh giá", "Đánh giá của Ông/Bà đã được ghi nhận")

    rating, agency = await only_rating(running)
    assert agency == "62-STP"
    assert (rating.score_access, rating.score_procedure, rating.score_conduct) == (4, 5, 2)
    assert (rating.score_result, rating.score_feedback) == (3, None)
    assert (rating.timeliness, rating.apology, rating.extra_papers) == ("late", "unsure", "yes")
    assert (rating.trips, rating.submission, rating.unofficial_payment) == (
        2,
        "postal",
        "no_answer",
    )
    assert rating.comment == "Nên bố trí thêm ghế chờ."
    assert rating.channel == "telegram"
    assert rating.official_id is not None, "the official who served, named after a low mark"

    presses = 18
    await tg.wait_until(lambda: len([m for m in tg.messages(CHAT) if "✔" in m.text]) == presses)
    assert len(tg.calls_to("answerCallbackQuery")) == len(tg.callback_answers) == presses
    answered = [m for m in tg.messages(CHAT) if "✔" in m.text]
    assert all(not m.buttons for m in answered)
    assert answered[-1].plain_text.endswith("✔ ✅ Gửi đánh giá")


async def test_command_menus_are_set_in_vietnamese_and_english(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    languages = {language for (_, language) in tg.commands}
    assert {"vi", "en"} <= languages
    vi = dict(tg.commands[("default", "vi")])
    en = dict(tg.commands[("default", "en")])
    assert set(vi) == set(en) == set(MENU_COMMANDS)
    assert {"start", "report", "status", "help", "cancel", "language"} <= set(vi)
    assert vi["cancel"] == "Hủy thao tác đang làm" and en["cancel"] == "Cancel what you are doing"


async def test_stopping_mid_rating_and_starting_again_resumes(
    tg: FakeTelegramServer, settings: Settings
) -> None:
    citizen = Citizen(tg, CHAT)
    first = await start_bot(tg, settings)
    await consent_and_open_rating(citizen)
    await citizen.tap("4 – Hài lòng", "Yếu tố 2/5")
    await first.stop()

    async with bot_on(tg, settings) as second:
        await finish_rating(citizen)
        await citizen.tap("Gửi đánh giá", "đã được ghi nhận")
        rating, _ = await only_rating(second)
    assert (rating.score_access, rating.score_procedure) == (4, 5)


async def test_the_same_update_delivered_twice_makes_one_rating(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    citizen = Citizen(tg, CHAT)
    await consent_and_open_rating(citizen)
    await citizen.tap("4 – Hài lòng", "Yếu tố 2/5")
    await finish_rating(citizen)
    before = len(tg.messages(CHAT))
    message = tg.last_message(CHAT)
    data = next(d for label, d in message.buttons if "Gửi đánh giá" in label)
    assert data is not None
    update = tg.press(CHAT, message.message_id, data)
    await tg.wait_until(lambda: any("ghi nhận" in m.text for m in tg.messages(CHAT)[before:]))
    tg.redeliver(update)
    await tg.wait_until(lambda: not tg.pending_updates)
    await settled(running.runtime)
    thanks = [m for m in tg.messages(CHAT)[before:] if "ghi nhận" in m.text]
    assert len(thanks) == 1
    async with running.runtime.sessions() as session:
        assert len((await session.scalars(select(Rating))).all()) == 1


async def test_a_429_then_a_500_are_retried_and_delivered_once(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    tg.fail_next("sendMessage", 429, description="Too Many Requests: retry after 1", retry_after=1)
    tg.fail_next("sendMessage", 500, description="Internal Server Error")
    await Citizen(tg, CHAT).type("/start", "Thông báo về dữ liệu cá nhân")
    notices = [m for m in tg.messages(CHAT) if "Thông báo về dữ liệu cá nhân" in m.text]
    assert len(notices) == 1
    sends = [c for c in tg.calls if c.method == "sendMessage"]
    assert len(sends) == 3
    assert sends[1].at - sends[0].at >= 0.9

    async def delivered() -> OutboxMessage | None:
        async with running.runtime.sessions() as session:
            [row] = (await session.scalars(select(OutboxMessage))).all()
        return row if row.status == "sent" else None

    await tg.wait_until(delivered)
    row = await delivered()
    assert row is not None
    assert row.attempts == 3


async def test_old_foreign_and_forged_buttons_are_refused_and_change_nothing(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    citizen = Citizen(tg, CHAT)
    await consent_and_open_rating(citizen)
    question = tg.last_message(CHAT)
    menu = next(m for m in tg.messages(CHAT) if "Mời Ông/Bà chọn chức năng" in m.text)
    assert menu.edits, "a pressed question is edited to show the choice"
    keyboard = menu.edits[0].before_reply_markup or {}
    old_data = next(
        button["callback_data"]
        for row in keyboard["inline_keyboard"]
        for button in row
        if "Đánh giá" in button["text"]
    )
    current = dict(question.buttons)["4 – Hài lòng"]
    assert current is not None
    other = Citizen(tg, 6001)
    await other.type("/start", "Thông báo về dữ liệu cá nhân")
    attempts = [
        (CHAT, question.message_id, "forged:1"),
        (6001, question.message_id, current),
        (CHAT, menu.message_id, old_data),
    ]
    before = len(tg.messages(CHAT)) + len(tg.messages(6001))
    for chat, message_id, data in attempts:
        tg.press(chat, message_id, data)
    await tg.wait_until(lambda: len(tg.callback_answers) >= 5 + len(attempts))
    await settled(running.runtime)
    refusals = [a for a in tg.callback_answers.values() if a.get("text")]
    assert len(refusals) == len(attempts)
    assert all("câu hỏi trước" in a["text"] for a in refusals)
    assert len(tg.messages(CHAT)) + len(tg.messages(6001)) == before
    await citizen.tap("4 – Hài lòng", "Yếu tố 2/5")


async def test_a_photo_or_sticker_where_a_choice_is_expected_gets_a_polite_line(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    citizen = Citizen(tg, CHAT)
    await consent_and_open_rating(citizen)
    before = len(tg.messages(CHAT))
    tg.send_sticker(CHAT)
    await tg.wait_until(
        lambda: any("chỉ nhận tin nhắn bằng chữ" in m.text for m in tg.messages(CHAT)[before:])
    )
    tg.send_location(CHAT, 14.35, 108.0)
    await tg.wait_until(lambda: len(tg.messages(CHAT)) >= before + 2)
    await citizen.tap("4 – Hài lòng", "Yếu tố 2/5")


async def test_typed_labels_are_understood_and_other_words_asked_to_press(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    citizen = Citizen(tg, CHAT)
    await consent_and_open_rating(citizen)
    await citizen.type("tốt lắm", "Xin Ông/Bà bấm một trong các nút dưới đây")
    await citizen.type("Hài lòng", "Yếu tố 2/5")
    await citizen.type("rat hai long", "Yếu tố 3/5")
    await citizen.tap("2 – Không hài lòng", "công chức nào đã trực tiếp giải quyết")
    await citizen.type("/cancel", "Đã hủy")
    async with running.runtime.sessions() as session:
        assert (await session.scalars(select(Rating))).all() == []


async def test_english_speaking_user_gets_english(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    citizen = Citizen(tg, 7001, language="en")
    await citizen.type("/start", "About your personal data")
    await citizen.tap("I agree", "Please choose what you would like to do")
    await citizen.type("/nonsense", "that command is not known")


async def test_one_chat_gets_a_short_burst_then_about_one_message_a_second(
    tg: FakeTelegramServer, settings: Settings
) -> None:
    """Telegram's default per-chat pacing (a burst of 3, then one a second), kept in order."""
    channel = TelegramChannel(tg.token, base_url=tg.base_url)
    assert channel.per_chat_limit == (settings.per_chat_burst, settings.per_chat_period_seconds)
    runtime = await open_runtime(settings, {CHANNEL: channel})
    await channel.start()
    delivery = asyncio.create_task(runtime.dispatcher.run())
    try:
        async with runtime.sessions() as session, session.begin():
            burst = [
                Outgoing(CHANNEL, str(CHAT), encode_reply(Reply(f"Tin {n}"))) for n in range(6)
            ]
            await enqueue(burst, datetime.now(UTC), session=session)
        runtime.dispatcher.wake()  # as a turn does once it commits replies
        await tg.wait_for_messages(CHAT, 6, timeout=15)
    finally:
        delivery.cancel()
        await asyncio.gather(delivery, return_exceptions=True)
        await channel.stop()
        await runtime.close()
    sends = [c.at for c in tg.calls_to("sendMessage")]
    assert [m.text for m in tg.messages(CHAT)] == [f"Tin {n}" for n in range(6)]
    assert sends[2] - sends[0] < 1.0, "the first three go at once"
    assert sends[5] - sends[0] >= 2.5, "the rest wait for the bucket to drain"
