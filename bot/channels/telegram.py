"""Telegram through python-telegram-bot, used purely as the transport.

Polling is our own loop over `getUpdates` so that an update's offset is confirmed only after its
turn has committed: a crash in between means Telegram delivers it again, and the processed-update
ledger makes the repeat harmless. The turns of a batch run at once in their chats' lanes, and a
pressed button is answered in the background, so neither one slow chat nor a slow answer holds up
the others. Sending goes through PTB's AIORateLimiter for the platform-wide limit; retries belong
to the outbox dispatcher, so the limiter itself never retries.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from html import escape
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from bot.channels.base import (
    DeliveryError,
    Rejected,
    RetryLater,
    Transient,
    Unreachable,
    split_text,
)
from bot.channels.lanes import DEFAULT_LIMIT, Lanes, cancel_all
from bot.engine import TurnEngine
from handlers.messages import (
    Attachment,
    AttachmentKind,
    ChatKind,
    ConversationKey,
    Incoming,
    OutgoingFile,
    Reply,
    TurnResult,
)
from handlers.texts import DEFAULT_LOCALE, LOCALES, Texts

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MENU_COMMANDS = (
    "start",
    "report",
    "status",
    "commend",
    "mydata",
    "forget",
    "language",
    "help",
    "cancel",
)
ALLOWED_UPDATES = ["message", "callback_query"]
"""The updates the bot asks Telegram for, by polling and by webhook alike."""
ANSWER_SECONDS = 2.5
"""How long answering a button press may take: Telegram stops the spinner by itself soon after,
so a later answer is worth nothing and would only hold a connection."""


def file_url_for(base_url: str) -> str:
    """The file-download base that matches an API base ("…/bot" -> "…/file/bot")."""
    root, _, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{root}/file/bot"


class TelegramChannel:
    """Sends replies as messages with inline buttons and turns updates into Incoming."""

    name = CHANNEL

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.telegram.org/bot",
        overall_per_second: int = 30,
        per_chat_limit: tuple[int, float] | None = (3, 3.0),
        download_limit_bytes: int = 10 * 1024 * 1024,
        max_concurrent_turns: int = DEFAULT_LIMIT,
    ) -> None:
        self.per_chat_limit = per_chat_limit
        self._download_limit = download_limit_bytes
        self.lanes = Lanes(max_concurrent_turns)
        self._answers: set[asyncio.Task[None]] = set()
        # Time periods as timedelta: PTB 22 deprecates the int form and warns on every 429.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self.bot = ExtBot(
            token,
            base_url=base_url,
            base_file_url=file_url_for(base_url),
            rate_limiter=AIORateLimiter(overall_max_rate=overall_per_second, max_retries=0),
        )

    async def start(self) -> None:
        """Check the token (getMe) and publish the command menus in Vietnamese and English."""
        await self.bot.initialize()
        for locale in LOCALES:
            await self.bot.set_my_commands(_commands(locale), language_code=locale)
        await self.bot.set_my_commands(_commands(DEFAULT_LOCALE))

    async def stop(self) -> None:
        await self.lanes.cancel()
        await cancel_all(self._answers)
        await self.bot.shutdown()

    def parts(self, reply: Reply) -> list[Reply]:
        """A file takes the text as its caption (and the buttons) when it fits; otherwise the
        text follows in messages of at most 4,096 characters, the buttons on the last."""
        if reply.file is not None and len(reply.text) <= CAPTION_LIMIT:
            return [reply]
        head = [Reply("", file=reply.file)] if reply.file is not None else []
        *texts, last = split_text(reply.text, TEXT_LIMIT)
        return head + [Reply(text) for text in texts] + [replace(reply, text=last, file=None)]

    async def send_part(self, chat_id: str, part: Reply) -> None:
        markup = None
        if part.choices:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(c.label, callback_data=f"{part.token}:{c.id}")]
                    for c in part.choices
                ]
            )
        chat = int(chat_id)
        try:
            if part.file is not None:
                await self._send_file(chat, part.file, part.text or None, markup)
            else:
                await self.bot.send_message(chat_id=chat, text=part.text, reply_markup=markup)
        except TelegramError as error:
            raise delivery_error(error) from error

    async def _send_file(
        self,
        chat: int,
        file: OutgoingFile,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        if file.mime_type.startswith("image/"):
            await self.bot.send_photo(
                chat_id=chat,
                photo=file.content,
                caption=caption,
                reply_markup=markup,
            )
        else:
            await self.bot.send_document(
                chat_id=chat,
                document=file.content,
                filename=file.name,
                caption=caption,
                reply_markup=markup,
            )

    async def poll(self, engine: TurnEngine, *, poll_seconds: int = 30) -> None:
        """Fetch updates until cancelled; run a batch's turns at once (a chat's in order) and
        confirm the offset only past the stored ones, so a crash never skips an update."""
        await self.bot.delete_webhook()
        offset: int | None = None
        while True:
            updates = await self._next_batch(offset, poll_seconds)
            stored = await asyncio.gather(*(self._turn(update, engine) for update in updates))
            offset = _offset_after(updates, stored, offset)
            if not all(stored):
                await asyncio.sleep(1.0)

    async def _next_batch(self, offset: int | None, poll_seconds: int) -> tuple[Update, ...]:
        """The next updates from `offset` on, retrying a failed call with bounded backoff."""
        failures = 0
        while True:
            try:
                return await self.bot.get_updates(
                    offset=offset, timeout=poll_seconds, allowed_updates=ALLOWED_UPDATES
                )
            except TelegramError as error:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning("getUpdates failed (%s); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)

    async def process(self, update: Update, engine: TurnEngine) -> bool:
        """Run the turn of one update (a webhook's) in its chat's lane. False when nothing
        could be stored, so the update must not be acknowledged to Telegram."""
        return await self._turn(update, engine)

    def _turn(self, update: Update, engine: TurnEngine) -> Awaitable[bool]:
        return self.lanes.run(to_incoming(update), partial(self._handle, update, engine))

    async def _handle(self, update: Update, engine: TurnEngine, incoming: Incoming) -> bool:
        if incoming.attachments:
            incoming = replace(incoming, attachments=await self._fetched(incoming.attachments))
        result = await engine.handle(incoming)
        if result.failed:
            return False
        if update.callback_query is not None:
            self._answer_later(update.callback_query, result)
        return True

    async def _fetched(self, attachments: tuple[Attachment, ...]) -> tuple[Attachment, ...]:
        """Download photos and documents small enough to keep, before the turn's transaction,
        so evidence is stored as bytes and not only as Telegram's file id."""
        fetched = []
        for item in attachments:
            wanted = item.kind in (AttachmentKind.PHOTO, AttachmentKind.DOCUMENT)
            if wanted and item.ref and (item.size or 0) <= self._download_limit:
                try:
                    file = await self.bot.get_file(item.ref)
                    item = replace(item, content=bytes(await file.download_as_bytearray()))
                except TelegramError as error:
                    log.warning("could not download an attachment: %s", error)
            fetched.append(item)
        return tuple(fetched)

    def _answer_later(self, query: CallbackQuery, result: TurnResult) -> None:
        """Answer a press in the background: its turn is stored, and neither polling nor other
        chats should wait for Telegram's answer."""
        task = asyncio.create_task(self._answer(query, result))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer(self, query: CallbackQuery, result: TurnResult) -> None:
        """Stop the button spinning, then mark the chosen option in the question and remove its
        buttons. A redelivered press (a duplicate) is answered too: the crash that caused the
        redelivery may have come before its first answer."""
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                await query.answer(text=result.notice)
        except (TelegramError, TimeoutError) as error:
            log.info("could not answer a button press: %r", error)
        message = query.message
        if not (result.chosen_label and isinstance(message, Message) and message.text):
            return
        try:
            await message.edit_text(
                f"{message.text_html}\n\n✔ <b>{escape(result.chosen_label)}</b>",
                parse_mode=ParseMode.HTML,
            )
        except TelegramError as error:
            log.info("could not mark the chosen option: %s", error)


def _offset_after(
    updates: Sequence[Update], stored: Sequence[bool], offset: int | None
) -> int | None:
    """The offset past the longest run of stored updates from the start of a batch: the first
    one not stored comes again, with every update after it (their repeats are dropped)."""
    for update, done in zip(updates, stored, strict=True):
        if not done:
            log.warning("update %s not stored; it will be fetched again", update.update_id)
            break
        offset = update.update_id + 1
    return offset


def _commands(locale: str) -> list[BotCommand]:
    texts = Texts(locale)
    return [BotCommand(name, texts(f"commands.{name}")) for name in MENU_COMMANDS]


def delivery_error(error: TelegramError) -> DeliveryError:
    """What a failed send means for delivery, decided here only. Permanent: a user who blocked
    the bot, a chat that no longer exists or became another (unreachable), a message Telegram
    refuses (bad request). Everything else (timeouts, no connection, 5xx, a token Telegram
    does not accept right now) says Telegram is not serving us: the channel pauses and nothing
    is lost."""
    if isinstance(error, RetryAfter):
        return RetryLater(_seconds(error), str(error))
    if isinstance(error, Forbidden | ChatMigrated):
        return Unreachable(str(error))
    if isinstance(error, BadRequest):
        if "chat not found" in error.message.lower():
            return Unreachable(str(error))
        return Rejected(str(error))
    return Transient(str(error))


def _seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class UnreadableUpdate(ValueError):
    """A webhook body that is not a Telegram update this adapter can read."""


def read_update(body: dict[str, Any], bot: Bot) -> Update:
    """A webhook body as an update; python-telegram-bot takes odd shapes on trust, so the body
    is also translated once here, and a shape that breaks either is refused before any turn."""
    if not isinstance(body.get("update_id"), int):
        raise UnreadableUpdate("no numeric update_id")
    try:
        update = Update.de_json(body, bot)
        to_incoming(update)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise UnreadableUpdate(type(error).__name__) from error
    return update


def to_incoming(update: Update) -> Incoming | None:
    """Translate an update; None for kinds the bot does not handle."""
    update_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        return Incoming(
            key=ConversationKey(CHANNEL, str(chat.id if chat else query.from_user.id)),
            update_id=update_id,
            user_id=str(query.from_user.id),
            choice_token=query.data or "",
            language=query.from_user.language_code,
            chat_kind=_chat_kind(chat),
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    return Incoming.typed(
        message.text,
        key=ConversationKey(CHANNEL, str(message.chat.id)),
        update_id=update_id,
        user_id=str(message.from_user.id),
        attachments=_attachments(message),
        language=message.from_user.language_code,
        chat_kind=_chat_kind(message.chat),
    )


def _chat_kind(chat: Chat | None) -> ChatKind:
    """Groups, supergroups and channels are read by others; no chat means the presser's own."""
    return ChatKind.PRIVATE if chat is None or chat.type == Chat.PRIVATE else ChatKind.GROUP


def _attachments(message: Message) -> tuple[Attachment, ...]:
    if message.photo:
        largest = message.photo[-1]
        return (
            Attachment(
                AttachmentKind.PHOTO, largest.file_id, "photo.jpg", "image/jpeg", largest.file_size
            ),
        )
    if message.document:
        doc = message.document
        return (
            Attachment(
                AttachmentKind.DOCUMENT, doc.file_id, doc.file_name, doc.mime_type, doc.file_size
            ),
        )
    if message.sticker:
        return (Attachment(AttachmentKind.STICKER, message.sticker.file_id),)
    if message.location:
        return (Attachment(AttachmentKind.LOCATION),)
    if message.voice:
        return (Attachment(AttachmentKind.VOICE, message.voice.file_id),)
    if message.text is None:
        return (Attachment(AttachmentKind.OTHER),)
    return ()
