"""End to end on Telegram: chats do not wait for each other, and one chat's messages keep their
order. A slow photo download stands in for any slow turn; times are compared with each other,
never with a fixed threshold, so a loaded machine changes nothing."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from tests.e2e.telegram_bot import Citizen, RunningBot, bot_on
from tests.fakes import FakeTelegramServer

SLOW, OTHER = 5101, 5102
NOTICE = "Thông báo về dữ liệu cá nhân"
MENU = "Mời Ông/Bà chọn chức năng"
TEXT_ONLY, HELP = "chỉ nhận tin nhắn bằng chữ", "Các lệnh:"
DOWNLOAD_SECONDS = 3.0


def texts(tg: FakeTelegramServer, chat: int) -> list[str]:
    return [m.text or m.caption or "" for m in tg.messages(chat)]


def sent_at(tg: FakeTelegramServer, chat: int, part: str) -> float:
    """When the bot's first message to `chat` containing `part` reached the server."""
    return next(
        c.at
        for c in tg.calls_to("sendMessage")
        if c.params.get("chat_id") == chat and part in str(c.params.get("text"))
    )


async def slow_photo_then_help(tg: FakeTelegramServer) -> dict[str, Any]:
    """A citizen at the menu sends a photo that takes long to download and then /help; another
    citizen sends /start just after. All three arrive in one batch. Returns the photo's update."""
    citizen = Citizen(tg, SLOW)
    await citizen.type("/start", NOTICE)
    await citizen.tap("Tôi đồng ý", MENU)
    tg.set_latency(DOWNLOAD_SECONDS, "getFile")
    photo = tg.send_photo(SLOW)
    tg.send_text(SLOW, "/help")
    tg.send_text(OTHER, "/start")
    return photo


def answered_in_order(tg: FakeTelegramServer) -> bool:
    """The photo's polite line came before the help, once each."""
    replies = [t for t in texts(tg, SLOW) if TEXT_ONLY in t or HELP in t]
    return len(replies) == 2 and TEXT_ONLY in replies[0] and HELP in replies[1]


async def test_another_chat_is_answered_while_one_waits_and_each_keeps_its_order(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    await slow_photo_then_help(tg)
    await tg.wait_until(lambda: NOTICE in "".join(texts(tg, OTHER)), message="the other chat")
    [download] = tg.calls_to("getFile")
    assert sent_at(tg, OTHER, NOTICE) < download.at + DOWNLOAD_SECONDS, (
        "the other chat's reply went out before the photo was even downloaded"
    )
    await tg.wait_until(lambda: any(HELP in t for t in texts(tg, SLOW)), timeout=15)
    assert answered_in_order(tg), "the photo is answered first"


async def test_a_crash_while_one_chat_waits_skips_none_of_its_updates(
    tg: FakeTelegramServer, settings: Settings
) -> None:
    async with bot_on(tg, settings) as first:
        photo = await slow_photo_then_help(tg)
        await tg.wait_until(lambda: NOTICE in "".join(texts(tg, OTHER)), message="other chat")
        await first.delivered_all()
    # Stopped mid-download: the other chat's later update is stored, the photo is not.
    assert photo["update_id"] in [u["update_id"] for u in tg.pending_updates]
    assert not any(TEXT_ONLY in t for t in texts(tg, SLOW))

    tg.set_latency(0.0, "getFile")
    async with bot_on(tg, settings):
        await tg.wait_until(lambda: any(HELP in t for t in texts(tg, SLOW)), timeout=15)
        await tg.wait_until(lambda: not tg.pending_updates)
    assert answered_in_order(tg)
    assert sum(NOTICE in t for t in texts(tg, OTHER)) == 1


async def test_a_slow_button_answer_holds_up_no_other_chat(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    citizen = Citizen(tg, SLOW)
    await citizen.type("/start", NOTICE)
    tg.set_latency(2.0, "answerCallbackQuery")
    press = tg.click(SLOW, "Tôi đồng ý")
    await tg.wait_until(lambda: tg.calls_to("answerCallbackQuery"), message="the answer begun")
    await Citizen(tg, OTHER).type("/start", NOTICE)
    query = press["callback_query"]["id"]
    await tg.wait_until(lambda: query in tg.callback_answers, message="the press answered")
    assert sent_at(tg, OTHER, NOTICE) < tg.callback_answers[query]["at"], (
        "the other citizen was answered while the press's answer was still on its way"
    )


async def test_a_press_redelivered_after_a_crash_is_answered_and_counts_once(
    tg: FakeTelegramServer, settings: Settings
) -> None:
    citizen = Citizen(tg, SLOW)
    async with bot_on(tg, settings) as first:
        await citizen.type("/start", NOTICE)
        tg.fail_next("answerCallbackQuery", 500)  # the answer is lost, as in a crash
        press = tg.click(SLOW, "Tôi đồng ý")
        await tg.wait_until(lambda: MENU in "".join(texts(tg, SLOW)))
        await tg.wait_until(lambda: tg.calls_to("answerCallbackQuery"))
        await first.delivered_all()
    query = press["callback_query"]["id"]
    assert query not in tg.callback_answers

    tg.redeliver(press)
    async with bot_on(tg, settings):
        await tg.wait_until(lambda: query in tg.callback_answers, message="the press answered")
        await tg.wait_until(lambda: not tg.pending_updates)
    assert sum(MENU in t for t in texts(tg, SLOW)) == 1, "the repeated press changed nothing"
