"""The admins' web dashboard, /dashboard: signed in through a one-time link from the bot.

An admin sends /dashboard in their private chat and gets a link (`handlers.admin.dashboard`).
Opening it shows a sign-in button (a link preview fetching the page spends nothing); pressing it
takes the link once and sets a session cookie signed with itsdangerous (HttpOnly,
SameSite=Strict, Secure behind https, expiring with the session). Every request checks the
session server-side (not ended, not expired) and the officer again (`access.is_admin`), so a
revoked admin or a signed-out session is refused at once. Anything refused gets the same polite
page with 403 and says nothing about why.

The pages: the period's figures per agency (ranked within the group chosen), per service (of
the sector chosen) and per criterion, the chart of /summary, each agency's open and overdue
cases, and the exports of /export as downloads. Exports and sign-ins are audited.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.charts import ChartData, chart_data, draw, render_png
from bot.config import Settings
from bot.exports import XLSX, ExportRequest, export_file, in_own_process
from bot.web.pages import render, texts_for, with_query
from bot.web.reading import read_off_the_loop
from bot.web.results import (
    LONGEST_PARAMETER,
    chosen_period,
    period_choices,
    period_code,
    period_name,
)
from handlers import access
from handlers.admin.dashboard_figures import Dashboard, dashboard
from handlers.admin.summary import percent, ranked_for, scope_label
from handlers.clock import Clock
from handlers.indicators import FACTORS, Indicators
from handlers.periods import Period
from handlers.texts import Texts
from storage import dashboard_logins, officers
from storage.directory import SECTORS
from storage.models import Officer

COOKIE = "feedbackbot_dashboard"
EXPORTS = {
    "xlsx": ("xlsx", None, XLSX, "xlsx"),
    "csv": ("csv", None, "application/zip", "zip"),
    "summary": ("csv", "summary", "text/csv; charset=utf-8", "csv"),
}
"""What `?format=` may ask for: the export's format, one sheet alone, its type and ending."""


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    secret: str
    session_hours: float
    secure_cookie: bool
    min_sample: int
    cutoff: int | None

    @classmethod
    def from_settings(cls, settings: Settings) -> DashboardSettings:
        return cls(
            settings.pseudonym_key.get_secret_value(),
            settings.dashboard_session_hours,
            (settings.public_base_url or "").startswith("https://"),
            settings.min_sample,
            settings.reporting_cutoff_day,
        )


FORM_LIMIT = 1024
"""The sign-in form holds a token and a language: anything longer is not read."""


async def _small_form(request: Request) -> dict[str, str]:
    """The fields of a short URL-encoded form (the sign-in button's); {} if it is too long."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            return {}
    try:
        fields = parse_qs(body.decode("latin-1"), max_num_fields=4)
    except ValueError:  # more fields than the form has
        return {}
    return {name: values[0] for name, values in fields.items()}


def _indicator_cells(t: Texts, i: Indicators) -> dict[str, object]:
    return {
        "ratings": i.ratings,
        "index": percent(i.overall, t.locale),
        "factors": [percent(i.satisfaction[f], t.locale) for f in FACTORS],
    }


def dashboard_routes(
    sessions: async_sessionmaker[AsyncSession],
    reads: async_sessionmaker[AsyncSession],
    database_url: str,
    config: DashboardSettings,
    clock: Clock,
) -> list[Route]:
    signer = URLSafeTimedSerializer(config.secret, salt="feedbackbot dashboard session")
    max_age = round(config.session_hours * 3600)

    async def signed_in(request: Request) -> tuple[Officer, int] | None:
        """The admin and session of a valid cookie, else None."""
        raw = request.cookies.get(COOKIE, "")
        if not raw or len(raw) > 200:
            return None
        try:
            login_id = signer.loads(raw, max_age=max_age)
        except BadSignature:  # expired ones too
            return None
        if not isinstance(login_id, int):
            return None
        async with reads() as session:
            officer = await dashboard_logins.signed_in(login_id, now=clock(), session=session)
        if officer is None or not access.is_admin(officer):
            return None
        return officer, login_id

    async def message(t: Texts, name: str, status_code: int, token: str = "") -> Response:
        """A page of one message: `dashboard.NAME_title` over `dashboard.NAME`; with a token,
        the sign-in button."""
        return await render(
            "message.html",
            {
                "t": t,
                "lang": t.locale,
                "notices": [],
                "title": t(f"dashboard.{name}_title"),
                "text": t(f"dashboard.{name}" if not token else "dashboard.sign_in_text"),
                "token": token,
            },
            status_code=status_code,
            private=True,
        )

    async def audit(officer: Officer, action: str) -> None:
        async with sessions() as session, session.begin():
            await officers.audit(
                access.officer_actor(officer), action, allowed=True, now=clock(), session=session
            )

    async def sign_in_page(request: Request) -> Response:
        t = texts_for(request.query_params.get("lang"))
        token = request.query_params.get("token", "")
        if not token or len(token) > LONGEST_PARAMETER * 2:
            return await message(t, "refused", 403)
        async with reads() as session:
            open_link = await dashboard_logins.usable(token, now=clock(), session=session)
        if not open_link:
            return await message(t, "refused", 403)
        return await message(t, "sign_in", 200, token=token)

    async def sign_in(request: Request) -> Response:
        form = await _small_form(request)
        t = texts_for(form.get("lang"))
        token = form.get("token", "")
        now = clock()
        async with sessions() as session, session.begin():
            login_id = await dashboard_logins.take(
                token,
                now=now,
                session_length=timedelta(hours=config.session_hours),
                session=session,
            )
            officer = (
                await dashboard_logins.signed_in(login_id, now=now, session=session)
                if login_id is not None
                else None
            )
        if officer is None or not access.is_admin(officer):
            return await message(t, "refused", 403)
        await audit(officer, "dashboard_sign_in")
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(
            COOKIE,
            signer.dumps(login_id),
            max_age=max_age,
            path="/dashboard",
            secure=config.secure_cookie,
            httponly=True,
            samesite="strict",
        )
        return response

    async def sign_out(request: Request) -> Response:
        t = texts_for(request.query_params.get("lang"))
        found = await signed_in(request)
        if found is not None:
            async with sessions() as session, session.begin():
                await dashboard_logins.sign_out(found[1], now=clock(), session=session)
        response = await message(t, "signed_out", 200)
        response.delete_cookie(COOKIE, path="/dashboard")
        return response

    def chosen(request: Request) -> tuple[Texts, Period, list[str]]:
        t = texts_for(request.query_params.get("lang"))
        period, unreadable = chosen_period(
            request.query_params.get("period"), clock(), config.cutoff
        )
        return t, period, [t("web.notice_period")] if unreadable else []

    async def page(request: Request) -> Response:
        t, period, notices = chosen(request)
        if await signed_in(request) is None:
            return await message(t, "refused", 403)
        now = clock()

        async def read(session: AsyncSession) -> tuple[Dashboard, str]:
            figures = await dashboard(
                session, period, None, now=now, min_sample=config.min_sample, locale=t.locale
            )
            return figures, await scope_label(t, None, t.locale, session=session)

        figures, scope = await read_off_the_loop(database_url, read)
        ranking = figures.summary.ranking
        group = request.query_params.get("group") or None
        if group is not None and group not in ranking.order:
            notices.append(t("web.notice_group"))
            group = None
        sector = request.query_params.get("sector") or None
        if sector is not None and sector not in SECTORS:
            sector = None
        shown = [group] if group else [g for g in ranking.order if ranking.groups.get(g)]
        code = period_code(period)
        context = {
            "t": t,
            "lang": t.locale,
            "notices": notices,
            "scope": scope,
            "period_name": period_name(t, period),
            "periods": period_choices(t, request, period, clock(), config.cutoff),
            "groups": [{"code": g, "label": ranking.label(t, g)} for g in ranking.order],
            "group": group or "",
            "sectors": [{"code": s, "label": t(f"web.sector_{s}")} for s in SECTORS],
            "sector": sector or "",
            "factor_names": [t(f"rating.short_{f}") for f in FACTORS],
            "criteria": [
                {
                    "name": t(f"rating.short_{f}"),
                    "index": percent(figures.summary.overall.satisfaction[f], t.locale),
                    "answers": figures.summary.overall.samples[f],
                }
                for f in FACTORS
            ],
            "agencies": [
                {
                    "code": g,
                    "label": ranking.label(t, g),
                    "rows": [
                        {
                            "rank": str(row.rank) if row.rank else t("web.small_sample"),
                            "name": figures.summary.names.get(row.key, "?"),
                            **_indicator_cells(t, row.indicators),
                        }
                        for row in ranking.groups.get(g, [])
                    ],
                }
                for g in shown
            ],
            "services": [
                {"name": s.name, **_indicator_cells(t, s.indicators)}
                for s in figures.services
                if sector is None or s.sector == sector
            ],
            "cases": [c for c in figures.cases if group is None or c.group == group],
            "chart": with_query(request.url.replace(path="/dashboard/chart.png")),
            "exports": [
                (
                    t(f"dashboard.export_{name}"),
                    f"/dashboard/export?period={code}&format={name}&lang={t.locale}",
                )
                for name in EXPORTS
            ],
            "other_language": with_query(request.url, lang="vi" if t.locale == "en" else "en"),
            "other_lang": "vi" if t.locale == "en" else "en",
        }
        return await render("dashboard.html", context, private=True)

    async def chart(request: Request) -> Response:
        t, period, _ = chosen(request)
        if await signed_in(request) is None:
            return await message(t, "refused", 403)
        group = request.query_params.get("group") or None

        async def read(session: AsyncSession) -> ChartData:
            ids = None
            if group is not None:
                ranking = await ranked_for(session, period, None, config.min_sample, t.locale)
                ids = [row.key for row in ranking.groups.get(group, [])]
            return await chart_data(
                session, period.start, period.end, ids, t.locale, config.min_sample
            )

        data = await read_off_the_loop(database_url, read)
        png = await asyncio.to_thread(lambda: render_png(draw(data)))
        return Response(png, media_type="image/png", headers={"Cache-Control": "private"})

    async def export(request: Request) -> Response:
        t, period, _ = chosen(request)
        found = await signed_in(request)
        wanted = EXPORTS.get(request.query_params.get("format", "xlsx"))
        if found is None or wanted is None:
            return await message(t, "refused", 403)
        file_format, sheet, media_type, ending = wanted
        folder = Path(tempfile.mkdtemp(prefix="dashboard-export-"))
        path = folder / f"export.{ending}"
        asked = ExportRequest(period, None, free_text=False, locale=t.locale, pseudonyms=True)
        await in_own_process(
            export_file,
            database_url,
            asked,
            file_format,
            path,
            t(f"export.sheet_{sheet}") if sheet else None,
        )
        await audit(found[0], f"export_{file_format}")
        return FileResponse(
            path,
            media_type=media_type,
            filename=f"phan-anh-danh-gia-{period.start}-{period.end}.{ending}",
            headers={"Cache-Control": "private, no-store"},
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )

    return [
        Route("/dashboard/login", sign_in_page, methods=["GET"]),
        Route("/dashboard/login", sign_in, methods=["POST"]),
        Route("/dashboard/logout", sign_out, methods=["POST"]),
        Route("/dashboard", page, methods=["GET"]),
        Route("/dashboard/chart.png", chart, methods=["GET"]),
        Route("/dashboard/export", export, methods=["GET"]),
    ]
