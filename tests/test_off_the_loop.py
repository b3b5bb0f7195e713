"""Nothing one chat asks for holds up the others: an export is built and a photo is cleaned
while other chats get their replies, and messages for a messenger this process does not serve
are left alone."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from PIL import Image

from bot import demo
from bot.channels.console import console_incoming
from bot.runtime import Runtime, freeze_startup_objects
from handlers.messages import Attachment, AttachmentKind, Reply, encode_reply
from storage import outbox
from storage.models import Evidence
from tests.casework import citizen, officer, report_until_evidence
from tests.conftest import Clock

World = tuple[Runtime, list[tuple[str, str]]]


@contextlib.asynccontextmanager
async def delivering(rt: Runtime) -> AsyncIterator[None]:
    """The dispatcher running as in production, until the block ends."""
    task = asyncio.create_task(rt.dispatcher.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def arrival(
    output: list[tuple[str, str]], found: Callable[[str, str], bool], since: int = 0
) -> float:
    """When a message matching `found` has been delivered after the first `since` (polling
    the terminal's output)."""
    while not any(found(chat, text) for chat, text in output[since:]):  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # the fixture's terminal only appends to a list
    return time.perf_counter()


@pytest.mark.slow
async def test_a_reply_to_another_chat_is_sent_while_an_export_is_built(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    await demo.seed(rt.sessions, ratings=30_000, reports=40, seed_value=5, now=clock.now)
    intake = await officer(rt, output, "intake", "62-SNV", "admin")
    other = await citizen(rt, output, "citizen-2")
    async with delivering(rt):
        await rt.engine.handle(
            console_incoming("/export 2025-12-01..2026-11-30 xlsx", chat_id=intake.chat_id)
        )
        exported = asyncio.create_task(
            arrival(output, lambda chat, text: chat == "intake" and ".xlsx ·" in text)
        )
        await asyncio.sleep(0.2)  # the export is being written now
        since = len(output)
        await rt.engine.handle(console_incoming("/help", chat_id=other.chat_id))
        # How long the reply takes is measured in bench/ (a loaded machine makes a bound flaky);
        # what must hold is that it does not wait for the export.
        await asyncio.wait_for(
            arrival(output, lambda chat, _: chat == other.chat_id, since), timeout=30
        )
        assert not exported.done(), "the other chat was answered before the export was ready"
        await asyncio.wait_for(exported, timeout=120)


async def test_rows_of_an_unserved_channel_cause_no_spin_and_others_are_delivered(
    runtime: World, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rt, output = runtime
    async with rt.sessions() as session, session.begin():
        payload = encode_reply(Reply("Xin chào"))
        unserved = [outbox.Outgoing("zalo", f"zalo-{n}", payload) for n in range(600)]
        await outbox.enqueue(unserved, clock.now, session=session)
    passes = 0
    claim = outbox.claim

    async def counted(*args: Any, **kwargs: Any) -> list[outbox.Delivery]:
        nonlocal passes
        passes += not kwargs["news"]  # one claim of live replies per pass
        return await claim(*args, **kwargs)

    monkeypatch.setattr(outbox, "claim", counted)
    with caplog.at_level(logging.WARNING, logger="bot.dispatcher"):
        async with delivering(rt):
            await rt.engine.handle(console_incoming("/start", chat_id="citizen-1"))
            await asyncio.wait_for(arrival(output, lambda chat, _: chat == "citizen-1"), 5)
            await asyncio.sleep(1.0)
    assert passes <= 4, f"{passes} passes in about a second: the dispatcher spins"
    warnings = [r for r in caplog.records if "zalo" in r.getMessage()]
    assert len(warnings) == 1, "the unserved channel is reported once"


def _camera_photo(side: int) -> bytes:
    """A large JPEG that says which phone took it."""
    exif = Image.Exif()
    exif[0x010F] = "Điện thoại của người phản ánh"  # Make
    out = io.BytesIO()
    Image.effect_noise((side, side), 80).convert("RGB").save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def test_another_chat_is_answered_while_a_photo_is_cleaned(
    runtime: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo is re-encoded (its metadata dropped) before its turn takes the one writer, so a
    turn of another chat that starts meanwhile commits first; what is stored has no metadata.

    Pillow's encoder is held until the other turn has committed (or 10 s have passed), so the
    order does not depend on how fast this machine encodes."""
    rt, output = runtime
    reporter = await citizen(rt, output, "citizen-photo")
    await report_until_evidence(reporter)
    other = await citizen(rt, output, "citizen-2")
    content = _camera_photo(2500)
    photo = Attachment(AttachmentKind.PHOTO, "f", None, "image/jpeg", len(content), content)
    committed: list[str] = []
    encoding, other_done = threading.Event(), threading.Event()
    encode = Image.Image.save

    def held_encode(image: Image.Image, *args: Any, **kwargs: Any) -> None:
        encoding.set()
        other_done.wait(timeout=10)
        encode(image, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", held_encode)

    async def send_photo() -> None:
        await rt.engine.handle(reporter.incoming(attachments=(photo,)))
        committed.append("photo")

    async def meanwhile() -> None:
        assert await asyncio.to_thread(encoding.wait, 10), "the photo is being re-encoded"
        await rt.engine.handle(console_incoming("/help", chat_id=other.chat_id))
        committed.append("other")
        other_done.set()

    await asyncio.gather(send_photo(), meanwhile())
    assert committed == ["other", "photo"]
    [evidence] = await reporter.rows(Evidence)
    with Image.open(io.BytesIO(evidence.content)) as stored:
        assert not stored.getexif()
        assert stored.size == (2500, 2500)


def test_a_full_collection_leaves_out_what_was_loaded_at_start() -> None:
    """Once the bot is up, Python's cycle collector no longer walks the modules, mappings and
    catalogs loaded at start: a full collection falling inside a turn held the one writer for
    a tenth of a second or more."""
    import bot.cli  # noqa: F401  (everything `feedbackbot run` loads)

    before = len(gc.get_objects())
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > before // 2
        assert len(gc.get_objects()) < before // 10, "a collection now walks only what is new"
    finally:
        gc.unfreeze()
