"""The admins' dashboard over HTTP: signing in with the one-time link /dashboard sends, what the
session cookie is, and everything refused (other people, used, expired and forged links, a
signed-out or revoked session) with the same polite 403 page."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.runtime import Runtime
from handlers.texts import Texts
from storage.models import AuditEntry, DashboardLogin, Officer
from tests.casework import citizen, officer
from tests.conftest import Chat, Clock, make_settings
from tests.web import default_period, seed, site_app, summary_of

World = tuple[Runtime, list[tuple[str, str]]]
BASE = "http://bot.test"
REFUSED = Texts("vi")("dashboard.refused")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url, public_base_url=BASE)


@pytest.fixture
async def admin(runtime: World, clock: Clock) -> Chat:
    await seed(runtime[0], clock.now)
    return await officer(*runtime, "intake", "62-SNV", "admin")


@pytest.fixture
async def web(
    runtime: World, settings: Settings, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    app = site_app(runtime[0], settings, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def link_in(reply: str) -> str:
    found = re.search(r"http\S+/dashboard/login\?token=\S+", reply)
    assert found, reply
    parts = urlsplit(found[0])
    return f"{parts.path}?{parts.query}"


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]


async def sign_in(web: httpx.AsyncClient, link: str) -> httpx.Response:
    page = await web.get(link)
    assert page.status_code == 200
    assert 'id="sign-in"' in page.text
    return await web.post("/dashboard/login", data={"token": token_of(link)})


async def test_an_admin_signs_in_with_the_link_and_sees_the_dashboard(
    web: httpx.AsyncClient, admin: Chat, runtime: World, clock: Clock
) -> None:
    reply = await admin.say("/dashboard")
    assert Texts("vi")("dashboard.link", link="", minutes=10).strip() in reply
    link = link_in(reply)
    signed = await sign_in(web, link)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/dashboard"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/dashboard" in cookie
    assert "Max-Age=28800" in cookie
    assert "Secure" not in cookie  # the public address here is http
    page = await web.get("/dashboard")
    assert page.status_code == 200
    summary = await summary_of(runtime[0], default_period(clock.now), clock.now, "vi")
    top = next(row for rows in summary.ranking.groups.values() for row in rows)
    assert summary.names[top.key] in page.text
    assert 'id="cases"' in page.text
    chart = await web.get("/dashboard/chart.png")
    assert chart.status_code == 200
    assert chart.content.startswith(b"\x89PNG")


async def test_a_link_works_once_and_a_signed_out_session_is_over(
    web: httpx.AsyncClient, admin: Chat
) -> None:
    link = link_in(await admin.say("/dashboard"))
    await sign_in(web, link)
    cookie = web.cookies.get("feedbackbot_dashboard", path="/dashboard")
    assert cookie
    again = await web.get(link)
    assert again.status_code == 403
    assert REFUSED in again.text
    reused = await web.post("/dashboard/login", data={"token": token_of(link)})
    assert reused.status_code == 403
    out = await web.post("/dashboard/logout")
    assert out.status_code == 200
    web.cookies.set("feedbackbot_dashboard", cookie, path="/dashboard")
    after = await web.get("/dashboard")
    assert after.status_code == 403
    assert REFUSED in after.text


async def test_a_link_expires(web: httpx.AsyncClient, admin: Chat, clock: Clock) -> None:
    link = link_in(await admin.say("/dashboard"))
    clock.advance(minutes=11)
    assert (await web.get(link)).status_code == 403
    assert (await web.post("/dashboard/login", data={"token": token_of(link)})).status_code == 403


async def test_a_session_ends_after_its_hours(
    web: httpx.AsyncClient, admin: Chat, clock: Clock
) -> None:
    await sign_in(web, link_in(await admin.say("/dashboard")))
    assert (await web.get("/dashboard")).status_code == 200
    clock.advance(hours=8, minutes=1)
    assert (await web.get("/dashboard")).status_code == 403


async def test_no_one_else_gets_a_link_or_in(
    web: httpx.AsyncClient, runtime: World, admin: Chat
) -> None:
    leader = await officer(*runtime, "leader", "615-MC", "leader")
    person = await citizen(*runtime, "citizen-9")
    for chat in (leader, person):
        reply = await chat.say("/dashboard")
        assert "/dashboard/login" not in reply
        assert Texts("vi")("officer.not_allowed") in reply
    for forged in ("", "x" * 43, "x" * 5000, "<script>"):
        page = await web.get("/dashboard/login", params={"token": forged})
        assert page.status_code == 403
        assert "<script>" not in page.text
    for body in ("token=" + "x" * 5000, "&".join(f"f{n}=1" for n in range(50)), "\xff"):
        posted = await web.post(
            "/dashboard/login",
            content=body.encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert posted.status_code == 403
    web.cookies.set("feedbackbot_dashboard", "1.forged.signature", path="/dashboard")
    for path in ("/dashboard", "/dashboard/chart.png", "/dashboard/export?format=csv"):
        refused = await web.get(path)
        assert refused.status_code == 403, path
        assert REFUSED in refused.text


async def test_a_revoked_admin_is_signed_out(
    web: httpx.AsyncClient, admin: Chat, runtime: World
) -> None:
    await sign_in(web, link_in(await admin.say("/dashboard")))
    async with runtime[0].sessions() as session, session.begin():
        for row in (await session.scalars(select(Officer))).all():
            row.active = False
    assert (await web.get("/dashboard")).status_code == 403


async def test_the_tokens_are_kept_only_as_hashes(admin: Chat, runtime: World) -> None:
    token = token_of(link_in(await admin.say("/dashboard")))
    rows = await admin.rows(DashboardLogin)
    assert len(rows) == 1
    assert token not in rows[0].token_hash


async def test_behind_https_the_cookie_is_secure(
    runtime: World, admin: Chat, tmp_path: Path, database_url: str, clock: Clock
) -> None:
    secure = make_settings(tmp_path, database_url=database_url, public_base_url="https://x.vn")
    app = site_app(runtime[0], secure, clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://x.vn"
    ) as http:
        signed = await sign_in(http, link_in(await admin.say("/dashboard")))
    assert "Secure" in signed.headers["set-cookie"]


async def test_an_export_downloads_as_csv_and_is_audited(
    web: httpx.AsyncClient, admin: Chat
) -> None:
    await sign_in(web, link_in(await admin.say("/dashboard")))
    download = await web.get("/dashboard/export", params={"format": "summary"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    t = Texts("vi")
    assert rows[0][0] == t("export.col_sector")
    assert rows[0][1].startswith(t("export.col_agency_as_of_code", day="").strip())
    assert len(rows) > 1
    actions = [row.action for row in await admin.rows(AuditEntry)]
    assert "dashboard_sign_in" in actions
    assert "export_csv" in actions
