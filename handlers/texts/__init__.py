"""Message catalogs: every user-facing string, Vietnamese first, English second.

Catalogs are TOML files (`vi.toml`, `en.toml`) so translators edit text, not code; tables give
keys a prefix (`[rating] intro` is `rating.intro`) and `{name}` marks a placeholder.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
_HERE = Path(__file__).parent


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(locale: str) -> dict[str, str]:
    """The flattened catalog of a locale (read once)."""
    with (_HERE / f"{locale}.toml").open("rb") as file:
        return _flatten(tomllib.load(file))


def pick_locale(language: str | None) -> str:
    """Map a platform language code ("en-GB", "vi") to a catalog; Vietnamese by default."""
    code = (language or "").split("-")[0].lower()
    return code if code in LOCALES else DEFAULT_LOCALE


class Texts:
    """Looks up and fills messages of one locale: `texts("rating.thanks", name=...)`."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._catalog = catalog(self.locale)

    def __call__(self, key: str, **values: object) -> str:
        return self._catalog[key].format(**values)

    def has(self, key: str) -> bool:
        return key in self._catalog
