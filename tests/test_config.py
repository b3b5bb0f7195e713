"""Settings refuse placeholder secrets outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import Settings
from storage.identity import new_encryption_key


def test_development_accepts_the_placeholder_key() -> None:
    assert Settings(_env_file=None).env == "development"


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"pseudonym_key": "change-me"},
        {"pseudonym_key": "short-but-real"},
        {"pseudonym_key": "k" * 40, "telegram_bot_token": "123456:ABC-your-token"},
        {"pseudonym_key": "k" * 40},  # the development ENCRYPTION_KEY
        {"pseudonym_key": "k" * 40, "encryption_key": "not-a-key"},
    ],
)
def test_production_refuses_placeholders(overrides: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, env="production", **overrides)  # type: ignore[arg-type]


def test_production_accepts_real_secrets() -> None:
    settings = Settings(
        _env_file=None,
        env="production",
        pseudonym_key="Zq8" * 15,  # type: ignore[arg-type]
        encryption_key=new_encryption_key(),  # type: ignore[arg-type]
        controller_contact="Sở Nội vụ, 01 Trần Hưng Đạo",
        telegram_bot_token="987654321:AAF-realistic-token-value",
    )
    assert settings.telegram_token == "987654321:AAF-realistic-token-value"
