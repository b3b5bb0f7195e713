"""Settings from the environment and `.env` (pydantic-settings). Every field is in .env.example."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.channels.lanes import DEFAULT_LIMIT
from handlers.flow import Rules
from handlers.periods import DECREE_09_CUTOFF
from handlers.workdays import WorkCalendar
from storage.identity import IdentityKeys, is_encryption_key

_DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE_DIRECTORY = _DATA / "quangngai-2025.yaml"
SAMPLE_HISTORY = _DATA / "kontum-2022.yaml"
DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key-change-me"
DEV_CONTROLLER_CONTACT = "dulieucanhan@example.org"
DEV_ENCRYPTION_KEY = "ZmVlZGJhY2tib3QtZGV2ZWxvcG1lbnQtb25seS1rZXk="
"""base64 of b"feedbackbot-development-only-key": readable by anyone, refused in production."""
_PLACEHOLDERS = ("change-me", "changeme", "your-token", "xxx", "123456:ABC")


class Settings(BaseSettings):
    """All configuration; placeholder secrets are refused outside development."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///feedbackbot.sqlite3"
    directory_file: Path = SAMPLE_DIRECTORY
    """Loaded into an empty database in development only; production imports its own."""
    directory_history: list[Path] = Field(default_factory=lambda: [SAMPLE_HISTORY])
    """Files of former structures loaded after it, with successor links into it."""
    log_level: str = "INFO"

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_poll_timeout_seconds: int = Field(default=30, ge=0, le=50)
    telegram_bot_username: str | None = None
    zalo_link: str | None = None
    """The Zalo link citizens open (printed on posters next to Telegram's)."""
    zalo_bot_token: SecretStr | None = None
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_poll_timeout_seconds: int = Field(default=30, ge=1, le=60)
    zalo_per_chat_burst: int = Field(default=1, ge=1)
    zalo_per_chat_period_seconds: float = Field(default=1.5, gt=0)
    """Zalo publishes no limits: at most BURST messages per PERIOD to one chat, to be safe."""

    public_base_url: str | None = None
    """Where the web server is reachable over HTTPS (webhooks and served files)."""
    telegram_webhook_secret: SecretStr | None = None
    zalo_webhook_secret: SecretStr | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    served_file_hours: int = Field(default=24, ge=1)
    web_min_cell: int = Field(default=5, ge=2, le=100)
    """The public page withholds any count of reports from 1 to one below this, so that no
    one can work out who reported."""
    web_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    """How long the public page keeps a period's figures before adding them up again."""
    dashboard_link_minutes: int = Field(default=10, ge=1, le=60)
    """How long the one-time sign-in link /dashboard sends stays usable."""
    dashboard_session_hours: float = Field(default=8.0, gt=0, le=24)
    """How long a dashboard session lasts before the admin asks for a new link."""

    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    encryption_key: SecretStr = SecretStr(DEV_ENCRYPTION_KEY)
    """Seals stored messenger ids (a Fernet key: `feedbackbot keys new`)."""
    encryption_key_previous: SecretStr | None = None
    """Older keys, comma-separated, still opening ids until `feedbackbot keys rotate`."""
    retention_days: int = Field(default=730, ge=1)
    closed_case_retention_days: int = Field(default=365, ge=1)
    """Days after a case closes until its texts, contact details and files are removed."""
    controller_name: str | None = Field(default=None, min_length=1)
    """The data controller the privacy notice names (Law 91/2025 on personal data); unset, the
    intake agency the directory file names."""
    controller_contact: str = Field(default=DEV_CONTROLLER_CONTACT, min_length=1)
    """How citizens reach the controller about their data: an address, e-mail or phone."""
    comment_max_chars: int = Field(default=1000, ge=1, le=4000)

    description_max_chars: int = Field(default=2000, ge=1, le=4000)
    evidence_max_files: int = Field(default=5, ge=0, le=10)
    evidence_max_megabytes: int = Field(default=10, ge=1, le=20)

    intake_agency_code: str | None = None
    """Unset: the `intake` the directory file names."""
    inspectorate_agency_code: str | None = None
    """The provincial Inspectorate, copied on every bribe and threat case; unset: the
    `inspectorate` the directory file names."""
    extension_working_days: int = Field(default=10, ge=1)
    """The most an agency may extend a case's deadline to answer, once, with a reason."""
    ack_working_days: int = Field(default=2, ge=1)
    decide_working_days: int = Field(default=10, ge=1)
    decide_working_days_by_category: dict[str, int] = Field(default_factory=dict)
    review_working_days: int = Field(default=5, ge=1)
    extra_days_off: list[date] = Field(default_factory=list)
    makeup_working_days: list[date] = Field(default_factory=list)
    opinion_threshold: int = Field(default=3, ge=2)
    opinion_window_days: int = Field(default=90, ge=1)
    opinion_rating_weight: float = Field(default=0.5, ge=0, le=1)
    """What a rating with a conduct mark of 1-2 that names the official counts (a report: 1)."""
    reopen_days: int = Field(default=14, ge=1)
    invite_days: int = Field(default=7, ge=1)
    scheduler_interval_seconds: float = Field(default=60.0, gt=0)
    min_sample: int = Field(default=30, ge=1)
    reporting_cutoff_day: int = Field(default=DECREE_09_CUTOFF, ge=2, le=28)
    """Summaries' months, quarters, half-years and years run from this day of the month before
    to the day before it in their last month (Decree 09/2019/NĐ-CP: 15)."""

    send_give_up_hours: float = Field(default=24.0, gt=0)
    """A message still undelivered this long after it was written is given up; until then an
    outage of the messenger only pauses delivery."""
    outbox_lease_seconds: float = Field(default=60.0, ge=3)
    """A worker's claim on the messages it delivers; a crashed one's are taken over after."""
    per_chat_burst: int = Field(default=3, ge=1)
    per_chat_period_seconds: float = Field(default=3.0, gt=0)
    overall_messages_per_second: int = Field(default=30, ge=1)
    broadcast_per_second: float = Field(default=20.0, gt=0)
    max_concurrent_turns: int = Field(default=DEFAULT_LIMIT, ge=1, le=256)
    """Turns of different chats a messenger runs at once (one chat's always one at a time)."""

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        for name, key in self._encryption_keys():
            if not is_encryption_key(key):
                raise ValueError(f"{name} must be a key made by `feedbackbot keys new`")
        if self.env == "development":
            return self
        key = self.pseudonym_key.get_secret_value()
        if key == DEV_PSEUDONYM_KEY or _looks_placeholder(key) or len(key) < 32:
            raise ValueError("PSEUDONYM_KEY must be a real secret of at least 32 characters")
        if self.encryption_key.get_secret_value() == DEV_ENCRYPTION_KEY:
            raise ValueError(
                "ENCRYPTION_KEY is the development key; make one: feedbackbot keys new"
            )
        for name, token in (
            ("TELEGRAM_BOT_TOKEN", self.telegram_bot_token),
            ("ZALO_BOT_TOKEN", self.zalo_bot_token),
        ):
            if token is not None and _looks_placeholder(token.get_secret_value()):
                raise ValueError(f"{name} is a placeholder; set the token the platform gave")
        if self.controller_contact == DEV_CONTROLLER_CONTACT:
            raise ValueError(
                "CONTROLLER_NAME and CONTROLLER_CONTACT must name the real controller"
            )
        return self

    def _encryption_keys(self) -> list[tuple[str, str]]:
        previous = self.encryption_key_previous
        older = previous.get_secret_value().split(",") if previous else []
        return [("ENCRYPTION_KEY", self.encryption_key.get_secret_value().strip())] + [
            ("ENCRYPTION_KEY_PREVIOUS", key.strip()) for key in older if key.strip()
        ]

    def identity_keys(self) -> IdentityKeys:
        """The keys that find and seal messenger ids (see `storage.identity`)."""
        return IdentityKeys(
            self.pseudonym_key.get_secret_value().encode(),
            [key.encode() for _, key in self._encryption_keys()],
        )

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def zalo_token(self) -> str | None:
        token = self.zalo_bot_token.get_secret_value() if self.zalo_bot_token else ""
        return token.strip() or None

    def webhook_problems(self) -> list[str]:
        """What `feedbackbot serve` still needs: a public URL and a real secret per messenger."""
        problems = []
        if not self.public_base_url or not self.public_base_url.startswith("https://"):
            problems.append("PUBLIC_BASE_URL (https://…)")
        for name, token, secret in (
            ("TELEGRAM_WEBHOOK_SECRET", self.telegram_token, self.telegram_webhook_secret),
            ("ZALO_WEBHOOK_SECRET", self.zalo_token, self.zalo_webhook_secret),
        ):
            value = secret.get_secret_value() if secret else ""
            if token and (len(value) < 16 or _looks_placeholder(value)):
                problems.append(f"{name} (at least 16 random characters)")
        if not self.telegram_token and not self.zalo_token:
            problems.append("TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN")
        return problems

    @property
    def telegram_token(self) -> str | None:
        token = self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""
        return token.strip() or None

    def rules(self, *, bot_username: str | None = None) -> Rules:
        return Rules(
            retention_days=self.retention_days,
            closed_case_retention_days=self.closed_case_retention_days,
            controller_name=self.controller_name,
            controller_contact=self.controller_contact,
            comment_limit=self.comment_max_chars,
            description_limit=self.description_max_chars,
            evidence_max_files=self.evidence_max_files,
            evidence_max_bytes=self.evidence_max_megabytes * 1024 * 1024,
            ack_days=self.ack_working_days,
            decide_days=self.decide_working_days,
            decide_days_by_category=dict(self.decide_working_days_by_category),
            review_days=self.review_working_days,
            opinion_threshold=self.opinion_threshold,
            opinion_window_days=self.opinion_window_days,
            opinion_rating_weight=self.opinion_rating_weight,
            reopen_days=self.reopen_days,
            invite_days=self.invite_days,
            intake_agency_code=self.intake_agency_code,
            inspectorate_agency_code=self.inspectorate_agency_code,
            extension_days=self.extension_working_days,
            bot_username=bot_username or self.telegram_bot_username,
            min_sample=self.min_sample,
            reporting_cutoff=self.reporting_cutoff_day,
            calendar=WorkCalendar(
                frozenset(self.extra_days_off), frozenset(self.makeup_working_days)
            ),
            web_base_url=self.public_base_url,
            dashboard_link_minutes=self.dashboard_link_minutes,
        )


def _looks_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(marker.lower() in lowered for marker in _PLACEHOLDERS)


def settings_problems(error: ValidationError) -> list[str]:
    """One line per problem, naming the setting as the environment spells it and never its
    value (pydantic's own text repeats the input, which may be a secret)."""
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        message = problem["msg"].removeprefix("Value error, ")
        where = ".".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"{where}: {message}" if where else message)
    return lines
