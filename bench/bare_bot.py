"""A bare python-telegram-bot bot: the Bot API calls of one rating press, and nothing stored.

The baseline of `bench.end_to_end`, run there as its own process. `/start` sends the first
question; each button press is answered, the pressed question is edited to show the chosen
option without buttons (as the real bot marks it), and the next question is sent with five
options. The question number rides in the callback data, so nothing is kept between updates.

Run: .venv/bin/python -m bench.bare_bot --token T --base-url URL [--concurrency 16]
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.channels.telegram import ALLOWED_UPDATES

# The same scale and a question as long as the real bot's factor questions, so the fake server
# parses and stores as much per call.
SCALE = (
    "1 – Rất không hài lòng",
    "2 – Không hài lòng",
    "3 – Bình thường",
    "4 – Hài lòng",
    "5 – Rất hài lòng",
)
QUESTION = (
    "Câu hỏi {number} – Thủ tục hành chính: được niêm yết công khai đầy đủ, chính xác; thành "
    "phần hồ sơ, phí, lệ phí và thời hạn giải quyết đúng quy định. Xin Ông/Bà chọn một mức "
    "từ 1 đến 5."
)


def question(number: int) -> tuple[str, InlineKeyboardMarkup]:
    """Question `number` with the scale as buttons; the data carries the number forward."""
    buttons = [
        [InlineKeyboardButton(label, callback_data=f"{number}:{value}")]
        for value, label in enumerate(SCALE, start=1)
    ]
    return QUESTION.format(number=number), InlineKeyboardMarkup(buttons)


def chosen_label(markup: InlineKeyboardMarkup | None, data: str) -> str:
    """The label of the pressed button, read back from the message (nothing is stored)."""
    rows = markup.inline_keyboard if markup else ()
    return next((b.text for row in rows for b in row if b.callback_data == data), data)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Setup only: the first question, so there is something to press."""
    if update.effective_chat is None:
        return
    text, markup = question(1)
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the real bot does per press: answer it, mark the choice, send the next question."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    await query.answer()
    message = query.message
    label = chosen_label(message.reply_markup, query.data)  # type: ignore[union-attr]
    await query.edit_message_text(
        f"{message.text_html}\n\n✔ <b>{escape(label)}</b>",  # type: ignore[union-attr]
        parse_mode=ParseMode.HTML,
    )
    text, markup = question(int(query.data.split(":", 1)[0]) + 1)
    await context.bot.send_message(message.chat.id, text, reply_markup=markup)


def build(token: str, base_url: str, concurrency: int) -> Application:  # type: ignore[type-arg]
    """The application: no rate limiter (pacing lifted), `concurrency` updates at once."""
    root = base_url.rstrip("/").removesuffix("/bot")
    application = (
        Application.builder()
        .token(token)
        .base_url(base_url)
        .base_file_url(f"{root}/file/bot")
        .concurrent_updates(concurrency)
        .build()
    )
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CallbackQueryHandler(on_press))
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--token", required=True)
    parser.add_argument("--base-url", required=True, help="the API base, ending in /bot")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--poll-timeout", type=float, default=1.0)
    arguments = parser.parse_args()
    build(arguments.token, arguments.base_url, arguments.concurrency).run_polling(
        timeout=timedelta(seconds=arguments.poll_timeout),
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=True,
    )


if __name__ == "__main__":
    main()
