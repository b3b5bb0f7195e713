"""Tests of the fake Telegram server, driven by the real PTB client over HTTP.

They pin down that PTB can parse everything the fake returns and that the fake enforces the
Telegram rules our bot relies on, so end-to-end tests built on it are trustworthy.

PTB strips "Bad Request: " from error descriptions and str.capitalize()s the rest (so
"BUTTON_DATA_INVALID" reads "Button_data_invalid"): match error texts case-insensitively.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.fakes.telegram_api import DEFAULT_PNG, FakeTelegramServer

pytestmark = pytest.mark.asyncio

CHAT = 4242


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest_asyncio.fixture
async def bot(tg: FakeTelegramServer) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_get_me_send_message_and_bad_token(tg: FakeTelegramServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "feedback_test_bot")

    first = await bot.send_message(CHAT, "Chào bạn", reply_markup=keyboard(("Tốt", "rate:5")))
    second = await bot.send_message(CHAT, "123")  # a numeric text must stay a string
    assert second.message_id == first.message_id + 1
    assert first.chat.type == "private"
    assert first.reply_markup == keyboard(("Tốt", "rate:5"))
    assert tg.buttons(CHAT, first.message_id) == [("Tốt", "rate:5")]
    assert tg.last_message(CHAT).text == "123"
    assert [c.method for c in tg.calls] == ["getMe", "getMe", "sendMessage", "sendMessage"]

    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=tg.base_url):  # getMe answers 401
            pass


async def test_updates_commands_offsets_and_long_poll(tg: FakeTelegramServer, bot: Bot) -> None:
    tg.send_text(CHAT, "/start abc")
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.text == "/start abc"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "vi"

    # Not confirmed yet: delivered again. Confirmed: gone for good.
    assert [u.update_id for u in await bot.get_updates()] == [update.update_id]
    assert await bot.get_updates(offset=update.update_id + 1) == ()

    async def type_later() -> None:
        await asyncio.sleep(0.05)
        tg.send_text(CHAT, "xin chào")

    task = asyncio.create_task(type_later())
    [later] = await bot.get_updates(offset=update.update_id + 1, timeout=2)
    await task
    assert later.message is not None
    assert later.message.text == "xin chào"
    assert not later.message.entities

    await bot.set_webhook("http://127.0.0.1:1/hook", secret_token="s3cret")
    assert tg.webhook_secret == "s3cret"
    with pytest.raises(Conflict):
        await bot.get_updates()


async def test_press_answer_and_edit(tg: FakeTelegramServer, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Đánh giá?", reply_markup=keyboard(("1", "r:1")))
    tg.click(CHAT, "1")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.data == "r:1"
    assert query.message is not None
    assert query.message.text == "Đánh giá?"

    assert await query.answer("Cảm ơn!")
    assert tg.callback_answers[query.id]["text"] == "Cảm ơn!"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()

    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    assert tg.buttons(CHAT) == []
    assert tg.last_message(CHAT).edits[0].before_reply_markup is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", CHAT, 999)

    forged = tg.press(CHAT, 777, "r:5")  # a message the bot never sent
    assert forged["callback_query"]["message"]["message_id"] == 777


async def test_retry_after_and_blocked_user(
    tg: FakeTelegramServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without this, PTB 22 warns (PTBDeprecationWarning) while *constructing* RetryAfter, which
    # -W error turns into the exception the bot sees instead of RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    tg.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "hello")
    assert caught.value.retry_after == dt.timedelta(seconds=3)
    assert tg.messages(CHAT) == []
    await bot.send_message(CHAT, "hello")
    assert len(tg.messages(CHAT)) == 1

    tg.block_user(CHAT + 1)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(CHAT + 1, "hello")
    assert tg.messages(CHAT + 1) == []


async def test_text_rules(tg: FakeTelegramServer, bot: Bot) -> None:
    await bot.send_message(CHAT, "<b>Phản hồi</b> &lt;3 <i>ok</i>", parse_mode="HTML")
    assert tg.last_message(CHAT).plain_text == "Phản hồi <3 ok"
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "a <br> b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "<b>x</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "   ")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard(("a", "đ" * 33)))  # 66 bytes
    assert len(tg.messages(CHAT)) == 1


async def test_files_both_ways(tg: FakeTelegramServer, bot: Bot) -> None:
    tg.send_photo(CHAT, caption="ổ gà")
    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.caption == "ổ gà"
    file = await update.message.photo[-1].get_file()
    assert await file.download_as_bytearray() == DEFAULT_PNG

    await bot.send_photo(CHAT, DEFAULT_PNG, caption="ảnh")
    photo = tg.last_message(CHAT)
    assert (photo.kind, photo.content, photo.caption) == ("photo", DEFAULT_PNG, "ảnh")

    doc = await bot.send_document(CHAT, InputFile(b"a;b\n1;2\n", filename="báo cáo.csv"))
    assert doc.document is not None
    assert tg.last_message(CHAT).filename == "báo cáo.csv"
    assert tg.last_message(CHAT).content == b"a;b\n1;2\n"
    again = await bot.send_document(CHAT, doc.document.file_id)  # reuse by file_id
    assert again.document is not None
    assert tg.last_message(CHAT).content == b"a;b\n1;2\n"


async def test_commands_per_scope_and_language(tg: FakeTelegramServer, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Bắt đầu")], language_code="vi")
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands([BotCommand("inbox", "Hộp thư")], scope=BotCommandScopeChat(7))
    assert tg.commands == {
        ("default", "vi"): [("start", "Bắt đầu")],
        ("default", ""): [("start", "Start")],
        ("chat:7", ""): [("inbox", "Hộp thư")],
    }
    [command] = await bot.get_my_commands(language_code="vi")
    assert command.description == "Bắt đầu"
    assert await bot.delete_my_commands(language_code="vi")
    assert await bot.get_my_commands(language_code="vi") == ()


async def test_wait_for_messages_times_out_with_summary(tg: FakeTelegramServer, bot: Bot) -> None:
    async def reply_soon() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(CHAT, "đã nhận")

    task = asyncio.create_task(reply_soon())
    [message] = await tg.wait_for_messages(CHAT, 1, timeout=2)
    await task
    assert message.text == "đã nhận"
    with pytest.raises(AssertionError, match="đã nhận"):
        await tg.wait_for_messages(CHAT, 2, timeout=0.1)
