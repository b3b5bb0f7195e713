"""Server-rendered HTML: Jinja2 templates with autoescaping on, every word from the catalogs.

A template is rendered in a worker thread, so a long table never holds the event loop that
also serves the webhooks. The pages load nothing from another site (the stylesheet is served
from `static/`), and the headers say so to the browser.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.datastructures import URL, QueryParams
from starlette.responses import HTMLResponse

from handlers.texts import Texts, pick_locale

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def texts_for(language: str | None) -> Texts:
    """The catalog a `lang` query parameter asks for: Vietnamese unless it says English."""
    return Texts(pick_locale((language or "")[:8]))


def with_query(url: URL, **changes: str | None) -> str:
    """The page's own path and query with some parameters changed (None removes one): the
    language switch and the period links keep every other choice."""
    params = dict(QueryParams(url.query))
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return f"{url.path}?{urlencode(params)}" if params else url.path


async def page_html(name: str, context: Callable[[], Mapping[str, Any]]) -> str:
    """The template filled in, in a worker thread: `context` (the figures worded and
    formatted, a few hundred rows) is built there too, so neither holds the event loop."""
    template = environment().get_template(name)
    return await asyncio.to_thread(lambda: template.render(**context()))


def html_response(html: str, *, status_code: int = 200, private: bool = False) -> HTMLResponse:
    """A page with the pages' security headers."""
    headers = dict(HEADERS)
    headers["Cache-Control"] = "private, no-store" if private else "public, max-age=60"
    return HTMLResponse(html, status_code=status_code, headers=headers)


async def render(
    name: str, context: Mapping[str, Any], *, status_code: int = 200, private: bool = False
) -> HTMLResponse:
    """The template filled in, as an HTML response with the pages' security headers."""
    html = await page_html(name, lambda: context)
    return html_response(html, status_code=status_code, private=private)
