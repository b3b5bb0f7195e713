"""/dashboard: an administrator asks for a one-time link that signs them in to the web
dashboard, with no password.

The link goes only to the admin's own private chat (never a group, where someone else could
open it first), works once, and expires after `Rules.dashboard_link_minutes`. Only a hash of it
is stored. The web server checks the same rule again when the link is opened (`access.is_admin`).
"""

from __future__ import annotations

from datetime import timedelta

from handlers import access
from handlers.flow import Turn
from storage import dashboard_logins

LOGIN_PATH = "/dashboard/login"


async def send_link(turn: Turn) -> None:
    officer = await access.current_officer(turn)
    if officer is None or not access.is_admin(officer):
        await access.refuse(turn, officer, "dashboard", None)
        return
    if not access.in_private_chat(turn, officer):
        await access.refuse(turn, officer, "dashboard", None, reason="dashboard.private_only")
        return
    base = turn.rules.web_base_url
    if not base:
        turn.say("dashboard.no_address")
        return
    minutes = turn.rules.dashboard_link_minutes
    token = await dashboard_logins.issue(
        officer.id or 0,
        now=turn.now,
        valid_for=timedelta(minutes=minutes),
        session=turn.session,
    )
    await access.record(turn, officer, "dashboard_link", None)
    link = f"{base.rstrip('/')}{LOGIN_PATH}?token={token}"
    turn.say("dashboard.link", link=link, minutes=minutes)
