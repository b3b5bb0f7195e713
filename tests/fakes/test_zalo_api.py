"""Tests of the fake Zalo Bot API, driven with plain httpx (no project code).

They pin down the Zalo rules the adapter must cope with (one update per poll, ok:false/408 when
idle, 2000-character texts, photos by URL, the wrapped webhook body) so end-to-end tests built
on the fake are trustworthy.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.serving import serve
from tests.fakes.zalo_api import TINY_PNG, FakeZaloServer

CHAT = "7f3a9c0e51d2b4"


@pytest_asyncio.fixture
async def zalo() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as server:
        yield server


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        yield client


def api(zalo: FakeZaloServer, method: str) -> str:
    return f"{zalo.base_url}/bot{zalo.token}/{method}"


@asynccontextmanager
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A throwaway webhook endpoint that records (headers, body) and answers 200."""
    seen: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        seen.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with serve(app, "webhook-receiver") as origin:
        yield f"{origin}/hook", seen


async def test_get_me_token_and_unknown_method(
    zalo: FakeZaloServer, http: httpx.AsyncClient
) -> None:
    r = await http.post(api(zalo, "getMe"), json={})
    assert r.status_code == 200
    assert r.json() == {
        "ok": True,
        "result": {
            "id": zalo.bot_id,
            "account_name": "bot.feedback",
            "account_type": "BASIC",
            "can_join_groups": False,
        },
    }
    assert isinstance(zalo.bot_id, str)
    assert (await http.get(api(zalo, "getMe"))).json()["ok"] is True

    r = await http.post(f"{zalo.base_url}/bot999:WRONG/getMe", json={})
    assert r.status_code == 401
    assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    r = await http.post(api(zalo, "getme"), json={})  # names are case-sensitive
    assert r.status_code == 404
    assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert [c.method for c in zalo.calls] == ["getMe", "getMe", "getme"]


async def test_get_updates_one_at_a_time_in_any_encoding(
    zalo: FakeZaloServer, http: httpx.AsyncClient
) -> None:
    first = zalo.send_text(CHAT, "Xin chào")
    second = zalo.send_text(CHAT, "Tôi muốn góp ý")

    r = await http.post(api(zalo, "getUpdates"), json={"timeout": "0"})
    assert r.json() == {"ok": True, "result": first}
    message = first["message"]
    assert re.fullmatch(r"[0-9a-f]{20}", message["message_id"])
    assert message["date"] > 1_700_000_000_000  # milliseconds
    assert message["from"] == {"id": CHAT, "display_name": "Người dân", "is_bot": False}
    assert message["chat"] == {"id": CHAT, "chat_type": "PRIVATE"}

    r = await http.post(api(zalo, "getUpdates"), data={"timeout": "0"})  # form body
    assert r.json()["result"] == second
    assert zalo.delivered_updates == [first, second]

    # Empty: ok:false 408 inside HTTP 200 by default, HTTP 408 when the knob says so.
    r = await http.get(api(zalo, "getUpdates"), params={"timeout": "0"})
    assert (r.status_code, r.json()) == (
        200,
        {"ok": False, "error_code": 408, "description": "Request timeout"},
    )
    zalo.timeout_http_status = 408
    r = await http.post(api(zalo, "getUpdates"), json={"timeout": 0})
    assert (r.status_code, r.json()["error_code"]) == (408, 408)


async def test_long_poll_wakes_on_update_and_is_capped(http: httpx.AsyncClient) -> None:
    async with FakeZaloServer(long_poll_cap=0.1) as zalo:
        loop = asyncio.get_running_loop()
        started = loop.time()
        r = await http.post(api(zalo, "getUpdates"), json={"timeout": 30})
        assert r.json()["error_code"] == 408
        assert 0.08 < loop.time() - started < 1.0

        zalo.long_poll_cap = 2.0
        poll = asyncio.create_task(http.post(api(zalo, "getUpdates"), data={"timeout": "30"}))
        await asyncio.sleep(0.05)
        update = zalo.send_sticker(CHAT)
        assert (await poll).json()["result"] == update
        assert update["event_name"] == "message.sticker.received"

        # A poll the client gave up on must not swallow the next update.
        abandoned = asyncio.create_task(http.post(api(zalo, "getUpdates"), json={"timeout": 30}))
        await asyncio.sleep(0.05)
        abandoned.cancel()
        await asyncio.gather(abandoned, return_exceptions=True)
        await asyncio.sleep(0.05)
        kept = zalo.send_text(CHAT, "còn đó không?")
        await asyncio.sleep(0.05)
        assert zalo.pending_updates == [kept]
        r = await http.post(api(zalo, "getUpdates"), json={"timeout": 0})
        assert r.json()["result"] == kept


async def test_webhook_lifecycle_and_polling_exclusion(
    zalo: FakeZaloServer, http: httpx.AsyncClient
) -> None:
    r = await http.post(api(zalo, "getWebhookInfo"), json={})
    assert (r.status_code, r.json()["error_code"]) == (404, 404)
    zalo.webhook_info_when_unset = "empty"
    r = await http.post(api(zalo, "getWebhookInfo"), json={})
    assert r.json()["ok"] is True
    assert r.json()["result"]["url"] == ""

    bad = [{"url": "https://x.test/h"}, {"url": "https://x.test/h", "secret_token": "short"}]
    bad.append({"secret_token": "s" * 8})
    bad.append({"url": "https://x.test/h", "secret_token": "s" * 257})
    for params in bad:
        r = await http.post(api(zalo, "setWebhook"), json=params)
        assert r.json() == {"ok": False, "error_code": 400, "description": "Bad Request"}

    r = await http.post(
        api(zalo, "setWebhook"), json={"url": "https://x.test/h", "secret_token": "s" * 8}
    )
    assert r.json()["result"]["url"] == "https://x.test/h"
    assert r.json()["result"]["updated_at"] > 1_700_000_000_000
    info = (await http.post(api(zalo, "getWebhookInfo"), json={})).json()["result"]
    assert set(info) == {"url", "updated_at"}  # never the secret

    zalo.send_text(CHAT, "hello")
    r = await http.post(api(zalo, "getUpdates"), json={"timeout": 0})
    assert r.json()["error_code"] == 408
    assert len(zalo.pending_updates) == 1

    r = await http.post(api(zalo, "deleteWebhook"), json={})
    assert r.json()["result"]["url"] == ""
    r = await http.post(api(zalo, "getUpdates"), json={"timeout": 0})
    assert r.json()["result"]["message"]["text"] == "hello"


async def test_send_message_limits_and_chat_action(
    zalo: FakeZaloServer, http: httpx.AsyncClient
) -> None:
    async def send(text: Any, chat_id: str = CHAT) -> dict[str, Any]:
        r = await http.post(api(zalo, "sendMessage"), json={"chat_id": chat_id, "text": text})
        return r.json()

    bad_length = {
        "ok": False,
        "error_code": 400,
        "description": "text must be between 1 and 2000 characters",
    }
    assert (await send("x", chat_id="stranger"))["error_code"] == 400  # never wrote to the bot
    zalo.send_text(CHAT, "hi")
    assert (await send("ạ" * 2001)) == bad_length  # Python characters, not bytes
    assert (await send("")) == bad_length
    assert (await send(5)) == bad_length
    assert (await send(" ", chat_id=""))["error_code"] == 400

    ok = await send("ệ" * 2000)
    assert re.fullmatch(r"[0-9a-f]{20}", ok["result"]["message_id"])
    assert ok["result"]["date"] > 1_700_000_000_000
    r = await http.post(api(zalo, "sendMessage"), data={"chat_id": CHAT, "text": "123"})
    assert r.json()["ok"] is True
    assert zalo.texts(CHAT) == ["ệ" * 2000, "123"]  # a numeric text stays a string
    assert zalo.messages(CHAT)[0].message_id == ok["result"]["message_id"]

    r = await http.post(api(zalo, "sendChatAction"), json={"chat_id": CHAT, "action": "typing"})
    assert r.json() == {"ok": True}
    assert zalo.chat_actions == [(CHAT, "typing")]


async def test_send_photo_fetches_local_urls(
    zalo: FakeZaloServer, http: httpx.AsyncClient
) -> None:
    zalo.send_text(CHAT, "hi")
    url = zalo.serve_file(TINY_PNG)
    assert (await http.get(url)).content == TINY_PNG

    r = await http.post(
        api(zalo, "sendPhoto"), json={"chat_id": CHAT, "photo": url, "caption": "Biểu đồ"}
    )
    assert r.json()["ok"] is True
    [sent] = zalo.messages(CHAT)
    assert (sent.kind, sent.caption, sent.photo_bytes, sent.photo_status) == (
        "photo",
        "Biểu đồ",
        TINY_PNG,
        200,
    )

    zalo.expire_file(url)
    r = await http.post(api(zalo, "sendPhoto"), json={"chat_id": CHAT, "photo": url})
    assert r.json()["description"] == "photo url is not reachable"
    dead = url.replace(str(zalo.port), "1")  # nothing listens there
    r = await http.post(api(zalo, "sendPhoto"), json={"chat_id": CHAT, "photo": dead})
    assert r.json()["description"] == "photo url is not reachable"
    r = await http.post(
        api(zalo, "sendPhoto"),
        json={"chat_id": CHAT, "photo": "https://cdn.test/a.png", "caption": "c" * 2001},
    )
    assert r.json()["error_code"] == 400

    r = await http.post(api(zalo, "sendPhoto"), json={"chat_id": CHAT, "photo": "https://a.b/c"})
    assert r.json()["ok"] is True
    assert [m.photo_bytes for m in zalo.messages(CHAT)] == [TINY_PNG, None]


async def test_faults_and_waiting(zalo: FakeZaloServer, http: httpx.AsyncClient) -> None:
    zalo.send_text(CHAT, "hi")
    zalo.fail_next("sendMessage", 429, "Quota exceeded", http_status=429, times=2)
    for _ in range(2):
        r = await http.post(api(zalo, "sendMessage"), json={"chat_id": CHAT, "text": "a"})
        assert r.status_code == 429
        assert r.json() == {"ok": False, "error_code": 429, "description": "Quota exceeded"}
    assert zalo.messages(CHAT) == []

    async def later() -> None:
        await asyncio.sleep(0.05)
        await http.post(api(zalo, "sendMessage"), json={"chat_id": CHAT, "text": "a"})

    task = asyncio.create_task(later())
    [sent] = await zalo.wait_for_messages(CHAT, 1, timeout=2)
    await task
    assert sent.text == "a"
    with pytest.raises(AssertionError, match=r"(?s)2 message\(s\).*'a'"):
        await zalo.wait_for_messages(CHAT, 2, timeout=0.1)


async def test_injected_shapes_and_webhook_delivery(zalo: FakeZaloServer) -> None:
    image = zalo.send_image(CHAT, "https://photo.test/1.jpg", caption="Ổ gà")["message"]
    assert (image["photo_url"], image["photo"], image["message_type"]) == (
        "https://photo.test/1.jpg",
        "https://photo.test/1.jpg",
        "CHAT_PHOTO",
    )
    unsupported = zalo.send_unsupported(CHAT)
    assert unsupported["event_name"] == "message.unsupported.received"
    assert set(unsupported["message"]) == {"message_id", "date", "from", "chat"}
    odd = zalo.send_event(CHAT, "message.reaction.received", {"reaction": "❤"})
    assert odd["message"]["reaction"] == "❤"
    raw = zalo.inject({"event_name": "x"})
    assert [u["event_name"] for u in zalo.pending_updates][-1] == raw["event_name"]

    async with receiver() as (url, seen):
        zalo.webhook_secret = "secret-123"  # as if set by setWebhook
        assert await zalo.deliver(url, odd) == 200
        assert await zalo.deliver(url, odd, secret="other", wrapped=False) == 200
        assert await zalo.probe(url) == 200
    (h1, b1), (h2, b2), (h3, b3) = seen
    assert h1["x-bot-api-secret-token"] == "secret-123"
    assert h1["content-type"] == "application/json"
    assert json.loads(b1) == {"ok": True, "result": odd}
    assert (h2["x-bot-api-secret-token"], json.loads(b2)) == ("other", odd)
    assert b3 == b""
    assert "content-type" not in h3
    assert "x-bot-api-secret-token" not in h3
