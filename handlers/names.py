"""How directory rows read in a chat: an agency's or a service's name and an official's post
in the chat's language, and an official as lists show them."""

from __future__ import annotations

from storage.models import Agency, Official, Service


def name_of(row: Agency | Service, locale: str) -> str:
    return row.name_en if locale == "en" else row.name_vi


def post_of(official: Official, locale: str) -> str:
    return official.post_en if locale == "en" else official.post_vi


def official_label(official: Official, locale: str) -> str:
    """How an official is listed to choose from: name and post."""
    return f"{official.name} – {post_of(official, locale)}"
