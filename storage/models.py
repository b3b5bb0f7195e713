"""SQLModel tables. Times are stored as UTC (aware datetimes) and shown in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Agency(SQLModel, table=True):
    """A body citizens deal with: a department, a district, a one-stop desk, a commune."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    name_vi: str
    name_en: str
    kind: str = Field(index=True, max_length=20)
    parent_id: int | None = Field(default=None, foreign_key="agency.id", index=True)


class Service(SQLModel, table=True):
    """A procedure or public service; `offered_by` lists agency kinds or agency codes."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    name_vi: str
    name_en: str
    group: str = Field(max_length=20)
    offered_by: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Official(SQLModel, table=True):
    """A named official of an agency, so reports can point at a person without free text."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    name: str
    post_vi: str
    post_en: str
    heads: bool = False


class Citizen(SQLModel, table=True):
    """A person who gave consent; nothing is stored about anyone before that."""

    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=64)
    pseudonym: str = Field(unique=True, max_length=64)
    locale: str = Field(default="vi", max_length=5)
    consent_version: str = Field(max_length=20)
    consented_at: datetime
    created_at: datetime


class Conversation(SQLModel, table=True):
    """Where one chat stands: a named state, a typed draft as JSON and the options offered."""

    channel: str = Field(primary_key=True, max_length=20)
    chat_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(max_length=60)
    locale: str = Field(default="vi", max_length=5)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    offered: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class ProcessedUpdate(SQLModel, table=True):
    """Marks a platform update as handled so a redelivery changes nothing."""

    channel: str = Field(primary_key=True, max_length=20)
    update_id: str = Field(primary_key=True, max_length=128)
    processed_at: datetime


class OutboxMessage(SQLModel, table=True):
    """A reply written in the turn's transaction and delivered afterwards, with retries."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20, index=True)
    chat_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=12, index=True)
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None


class Rating(SQLModel, table=True):
    """One completed rating: the five SIPAS factors and the directive's facts."""

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    channel: str = Field(max_length=20)
    score_access: int
    score_procedure: int
    score_conduct: int
    score_result: int
    score_feedback: int | None = None
    timeliness: str = Field(max_length=12)
    apology: str | None = Field(default=None, max_length=12)
    extra_papers: str = Field(max_length=12)
    trips: int
    submission: str = Field(max_length=12)
    unofficial_payment: str = Field(max_length=12)
    comment: str | None = None
    created_at: datetime = Field(index=True)
