"""The turn engine: exactly-once updates, restart resume, nothing half-written on failure."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.channels.console import CHANNEL, ConsoleChannel, console_incoming
from bot.config import Settings
from bot.engine import TURN_ATTEMPTS
from bot.runtime import open_runtime
from storage.models import Conversation, OutboxMessage, Rating
from tests.conftest import Chat
from tests.dialogue import number_of
from tests.test_rating_dialogue import answer_rest, open_rating

REFUSE_RATINGS = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON rating "
        "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk trouble'; "
        "END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE INSERT ON rating FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}
ALLOW_RATINGS = {"sqlite": "DROP TRIGGER refuse", "postgresql": "DROP TRIGGER refuse ON rating"}


async def reach_summary(chat: Chat) -> str:
    await open_rating(chat)
    out = await answer_rest(chat)
    return await chat.say(number_of(out, "Không có góp ý"))


async def test_the_same_update_twice_produces_one_rating(consented: Chat) -> None:
    out = await reach_summary(consented)
    submit = console_incoming(number_of(out, "Gửi đánh giá"), chat_id=consented.chat_id)
    first = await consented.send(submit)
    again = await consented.send(submit)
    assert "đã được ghi nhận" in first and again == ""
    assert len(await consented.rows(Rating)) == 1


async def test_a_restarted_bot_resumes_at_the_same_question(settings: Settings) -> None:
    output: list[tuple[str, str]] = []

    def write(chat: str, text: str) -> None:
        output.append((chat, text))

    first = await open_runtime(settings, {CHANNEL: ConsoleChannel(write=write)})
    chat = Chat(first, output, "citizen-1")
    await chat.say("/start")
    await chat.say("1")
    await open_rating(chat)
    assert "Yếu tố 2/5" in await chat.say("4")
    await first.close()

    second = await open_runtime(settings, {CHANNEL: ConsoleChannel(write=write)})
    chat = Chat(second, output, "citizen-1")
    try:
        out = await chat.say("5")
        assert "Yếu tố 3/5" in out
        [conversation] = await chat.rows(Conversation)
        assert conversation.state == "rating.conduct"
        assert conversation.data["drafts"]["rating"]["procedure"] == "5"
    finally:
        await second.close()


async def test_a_failing_write_leaves_nothing_half_done(consented: Chat) -> None:
    out = await reach_summary(consented)
    async with consented.runtime.db.begin() as connection:
        for statement in REFUSE_RATINGS[connection.dialect.name]:
            await connection.execute(text(statement))
    failed = await consented.say(number_of(out, "Gửi đánh giá"))
    assert "hệ thống đang gặp sự cố" in failed
    assert await consented.rows(Rating) == []
    [conversation] = await consented.rows(Conversation)
    assert conversation.state == "rating.summary"

    async with consented.runtime.db.begin() as connection:
        await connection.execute(text(ALLOW_RATINGS[connection.dialect.name]))
    out = await consented.say(number_of(out, "Gửi đánh giá"))
    assert "đã được ghi nhận" in out
    assert len(await consented.rows(Rating)) == 1
    assert all(row.status == "sent" for row in await consented.rows(OutboxMessage))


def conflicts_on_ratings(times: int) -> list[str]:
    """The next `times` rating INSERTs fail as PostgreSQL fails the victim of a deadlock (a
    sequence counts them: it is not rolled back with the failed turn)."""
    return [
        f"CREATE SEQUENCE conflicts MAXVALUE {times + 1000}",
        "CREATE FUNCTION conflict() RETURNS trigger AS $$ BEGIN "
        f"IF nextval('conflicts') <= {times} THEN "
        "RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER conflict BEFORE INSERT ON rating FOR EACH ROW EXECUTE FUNCTION conflict()",
    ]


@pytest.mark.postgres  # deadlocks are PostgreSQL's: SQLite has one writer
@pytest.mark.parametrize(("conflicts", "stored"), [(TURN_ATTEMPTS - 1, 1), (TURN_ATTEMPTS, 0)])
async def test_a_turn_that_meets_a_deadlock_is_run_again_a_bounded_number_of_times(
    consented: Chat, conflicts: int, stored: int
) -> None:
    out = await reach_summary(consented)
    async with consented.runtime.db.begin() as connection:
        for statement in conflicts_on_ratings(conflicts):
            await connection.execute(text(statement))
    out = await consented.say(number_of(out, "Gửi đánh giá"))
    assert len(await consented.rows(Rating)) == stored
    if stored:
        assert "đã được ghi nhận" in out and "sự cố" not in out, "no apology for a retried turn"
    else:
        assert "hệ thống đang gặp sự cố" in out, "past the bound, the citizen is told"
