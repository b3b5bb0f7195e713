"""SQLModel tables. Times are stored as UTC (aware datetimes) and shown in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Agency(SQLModel, table=True):
    """A body citizens deal with: a department, a district, a one-stop desk, a commune."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    name_vi: str
    name_en: str
    kind: str = Field(index=True, max_length=20)
    parent_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    valid_from: date | None = None
    valid_to: date | None = None
    """The first day the agency no longer exists (merged, renamed, its level abolished)."""
    successor_id: int | None = Field(default=None, foreign_key="agency.id")
    """Where its figures roll up and its open cases go once it is retired."""
    group: str | None = Field(default=None, max_length=30)
    """The group summaries rank it in; its labels are in the directory's header."""


class DirectoryHeader(SQLModel, table=True):
    """What the directory file says about itself: the province's name, for the notices, and its
    levels from the top down, so the agency picker follows the data rather than code."""

    id: int = Field(default=1, primary_key=True)
    province_vi: str
    province_en: str
    intake: str | None = Field(default=None, max_length=40)
    """The code of the intake agency (Home Affairs), unless a setting names another."""
    inspectorate: str | None = Field(default=None, max_length=40)
    """The code of the provincial Inspectorate (copied on bribe and threat cases), unless a
    setting names another."""
    levels: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    """One entry per level: `kind`, `label_vi`, `label_en`, `unit_vi`, `unit_en`."""
    groups: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    """One entry per group of agencies: `code`, `label_vi`, `label_en`."""
    counters: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    """The kinds of agency that serve citizens at a counter: `qr --all-desks` makes theirs."""


class Service(SQLModel, table=True):
    """A procedure or public service; `offered_by` lists agency kinds or agency codes. Its
    `sector` (administrative, health, education, other) chooses the questions and the index."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    name_vi: str
    name_en: str
    sector: str = Field(max_length=20)
    offered_by: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    valid_from: date | None = None
    valid_to: date | None = None
    successor_id: int | None = Field(default=None, foreign_key="service.id")


class Official(SQLModel, table=True):
    """A named official of an agency, so reports can point at a person without free text."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    name: str
    post_vi: str
    post_en: str
    heads: bool = False
    home_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    """The agency that employs the official and can move them to other work, when they serve at
    another's desk (a department's officer at the service centre); None: `agency_id` itself."""
    valid_from: date | None = None
    valid_to: date | None = None


class Citizen(SQLModel, table=True):
    """A person who gave consent; nothing is stored about anyone before that. The messenger
    account is kept only as a keyed hash (to find the person) and sealed (to write to them):
    see `storage.identity`. Officers never see any of it."""

    __table_args__ = (UniqueConstraint("channel", "account_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    account_ref: str = Field(max_length=64)
    address: str = Field(unique=True, max_length=400)
    """The sealed chat id the bot writes to."""
    locale: str = Field(default="vi", max_length=5)
    consent_version: str = Field(max_length=20)
    consented_at: datetime
    created_at: datetime
    news: bool = False
    """Opted in to announcements (/news); /stop opts out."""
    unreachable: bool = False
    """The platform said the person blocked the bot; nothing more is sent."""


class Conversation(SQLModel, table=True):
    """Where one chat stands: a named state, a typed draft as JSON and the options offered."""

    channel: str = Field(primary_key=True, max_length=20)
    chat_ref: str = Field(primary_key=True, max_length=64)
    """The keyed hash of the chat id."""
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
    chat_ref: str = Field(max_length=64, index=True)
    """The keyed hash of the chat id: keeps one chat's messages in order."""
    address: str = Field(max_length=400)
    """The sealed chat id to send to."""
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=12, index=True)
    attempts: int = 0
    parts_sent: int = 0
    """Parts of a long reply already delivered: a retry resumes after them."""
    next_attempt_at: datetime
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    batch: str | None = Field(default=None, max_length=40, index=True)
    """Groups the messages of one announcement, so its delivery can be counted."""
    claimed_by: str | None = Field(default=None, max_length=80)
    """The dispatcher (host/pid/instance) delivering it now; others leave it alone."""
    claimed_until: datetime | None = None
    """The claim's lease: past it, a crashed worker's message is taken over."""


class NotifyToken(SQLModel, table=True):
    """The buttons of a message sent to someone else's chat (a new case to an officer, a
    question to a reporter). Kept apart from that chat's conversation row, so the sending turn
    never locks another chat's conversation (two such turns would deadlock on PostgreSQL)."""

    __table_args__ = (UniqueConstraint("channel", "chat_ref", "token"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_ref: str = Field(max_length=64)
    """The keyed hash of the recipient's chat id."""
    token: str = Field(max_length=16)
    targets: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """Each choice's [action, argument, label]."""
    created_at: datetime


FACTORS = ("access", "procedure", "conduct", "result", "feedback")
"""The five SIPAS factors, in the order they are asked and shown; a rating scores each in
`score_<factor>` and the daily roll-ups sum each."""


class Rating(SQLModel, table=True):
    """One completed rating: the five SIPAS factors and the directive's facts."""

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    """None once the rating is older than the retention period: the statistics stay."""
    agency_id: int = Field(foreign_key="agency.id", index=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    channel: str = Field(max_length=20)
    score_access: int
    score_procedure: int
    score_conduct: int
    score_result: int
    score_feedback: int | None = None
    timeliness: str | None = Field(default=None, max_length=12)
    """The one-stop facts (timeliness to submission) are asked of administrative procedures."""
    apology: str | None = Field(default=None, max_length=12)
    extra_papers: str | None = Field(default=None, max_length=12)
    trips: int | None = None
    submission: str | None = Field(default=None, max_length=12)
    unofficial_payment: str = Field(max_length=12)
    comment: str | None = None
    official_id: int | None = Field(default=None, foreign_key="official.id", index=True)
    """The official who served, named only after a conduct mark of 1-2 (a public-opinion
    signal of lesser weight than a report)."""
    created_at: datetime = Field(index=True)


class Report(SQLModel, table=True):
    """What a citizen reported about an official; free text is purged after retention."""

    id: int | None = Field(default=None, primary_key=True)
    receipt: str = Field(unique=True, index=True, max_length=20)
    handle: str = Field(unique=True, index=True, max_length=32)
    """The reporter's pseudonym for this report alone (see `storage.identity`)."""
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    category: str = Field(max_length=20)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id")
    official_id: int | None = Field(default=None, foreign_key="official.id", index=True)
    official_description: str | None = None
    occurred_on: date
    description: str | None = None
    anonymous: bool = True
    contact_name: str | None = None
    contact_phone: str | None = None
    channel: str = Field(max_length=20)
    created_at: datetime = Field(index=True)


class Case(SQLModel, table=True):
    """The handling of one report by an agency: its state, deadlines and outcome."""

    __tablename__ = "casefile"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", unique=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    state: str = Field(max_length=20, index=True)
    flagged: bool = False
    flag_reason: str | None = Field(default=None, max_length=40)
    ack_due: datetime
    decide_due: datetime
    extended_days: int | None = None
    """Working days the deadline to answer was extended by (once, the reporter told why)."""
    copied_to: int | None = Field(default=None, foreign_key="agency.id")
    """The agency a flagged case is copied to (the Inspectorate): it sees the card as an agency
    the case was transferred to would, and acts on nothing."""
    acknowledged_at: datetime | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=20)
    outcome_note: str | None = None
    pending_question: str | None = None
    created_at: datetime = Field(index=True)
    updated_at: datetime


class CaseEvent(SQLModel, table=True):
    """Every transition, message and decision of a case, with who and when: the timeline."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="casefile.id", index=True)
    at: datetime
    actor: str = Field(max_length=12)
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    action: str = Field(max_length=24)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    text: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Evidence(SQLModel, table=True):
    """A photo or document attached to a report: the file itself is kept, not only its id."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    staged_by: str | None = Field(default=None, max_length=90, index=True)
    """The keyed hash of the chat whose unfinished report holds the file; None once sent."""
    kind: str = Field(max_length=12)
    file_name: str | None = None
    mime_type: str | None = Field(default=None, max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime


class Officer(SQLModel, table=True):
    """A person acting for an agency in chat, after joining with an invite."""

    __table_args__ = (UniqueConstraint("channel", "account_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    role: str = Field(max_length=10)
    official_id: int | None = Field(default=None, foreign_key="official.id")
    channel: str = Field(max_length=20)
    account_ref: str = Field(max_length=64)
    """The keyed hash of the messenger account."""
    chat_ref: str = Field(max_length=64)
    """The keyed hash of the private chat where cards may be shown."""
    address: str = Field(max_length=400)
    """The sealed chat id the bot writes to."""
    joined_at: datetime
    active: bool = True


class Invite(SQLModel, table=True):
    """A single-use code that makes whoever redeems it an officer of an agency."""

    code: str = Field(primary_key=True, max_length=24)
    agency_id: int = Field(foreign_key="agency.id")
    role: str = Field(max_length=10)
    official_id: int | None = Field(default=None, foreign_key="official.id")
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, foreign_key="officer.id")


class AgencyChat(SQLModel, table=True):
    """A group chat registered by an agency to receive its cases."""

    channel: str = Field(primary_key=True, max_length=20)
    chat_ref: str = Field(primary_key=True, max_length=64)
    address: str = Field(max_length=400)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    registered_at: datetime


class Assignment(SQLModel, table=True):
    """An official's personnel track: measures taken (moved off citizen-facing work while the
    report is verified, reassigned, proposed for discipline), each with its own date and
    decision, apart from the answer the reporter receives."""

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="official.id", index=True)
    measure: str = Field(default="reassign", max_length=12)
    new_post: str
    effective_on: date
    decision_number: str = Field(max_length=60)
    case_id: int | None = Field(default=None, foreign_key="casefile.id")
    review_id: int | None = Field(default=None, foreign_key="review.id")
    recorded_at: datetime


class Review(SQLModel, table=True):
    """A reassignment review opened by repeated reports ("bad public opinion")."""

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="official.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    opened_at: datetime
    due_at: datetime
    reporters: int
    """Distinct citizens behind the signals that opened the review."""
    counted_from: datetime | None = None
    """The start of the window whose signals opened the review (its card lists them)."""
    decision: str | None = Field(default=None, max_length=12)
    reason: str | None = None
    decided_at: datetime | None = None


class Alert(SQLModel, table=True):
    """A reminder or escalation already sent, so none is ever sent twice."""

    subject: str = Field(primary_key=True, max_length=40)
    kind: str = Field(primary_key=True, max_length=20)
    sent_at: datetime


class AuditEntry(SQLModel, table=True):
    """Who viewed or did what to a case, including refusals."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=60)
    action: str = Field(max_length=40)
    case_id: int | None = Field(default=None, index=True)
    allowed: bool
    detail: str | None = None


class Commendation(SQLModel, table=True):
    """Praise for an official or a desk; reaches the agency's leadership and counts."""

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    official_id: int | None = Field(default=None, foreign_key="official.id")
    text: str | None = None
    channel: str = Field(max_length=20)
    created_at: datetime = Field(index=True)


class RatingDaily(SQLModel, table=True):
    """Per day (Vietnam time), agency and service: the sums the indicators are made of, kept up
    to date as ratings arrive, so a year of a whole province sums a few thousand rows."""

    day: date = Field(primary_key=True)
    agency_id: int = Field(primary_key=True, foreign_key="agency.id")
    service_id: int = Field(primary_key=True, foreign_key="service.id")
    ratings: int = 0
    access_n: int = 0
    access_high: int = 0
    access_sum: int = 0
    procedure_n: int = 0
    procedure_high: int = 0
    procedure_sum: int = 0
    conduct_n: int = 0
    conduct_high: int = 0
    conduct_sum: int = 0
    result_n: int = 0
    result_high: int = 0
    result_sum: int = 0
    feedback_n: int = 0
    feedback_high: int = 0
    feedback_sum: int = 0
    timely_n: int = 0
    on_time_or_early: int = 0
    early: int = 0
    late: int = 0
    late_with_apology: int = 0
    extra_papers: int = 0
    three_trips: int = 0
    remote: int = 0
    unofficial_payment: int = 0


class Announcement(SQLModel, table=True):
    """News sent by an administrator to citizens who opted in."""

    id: int | None = Field(default=None, primary_key=True)
    text: str
    created_by: int | None = Field(default=None, foreign_key="officer.id")
    recipients: int
    created_at: datetime


class ServedFile(SQLModel, table=True):
    """A file the web server hands out at an unguessable, expiring URL (Zalo sends images only
    by URL, so charts and posters must be fetchable)."""

    token: str = Field(primary_key=True, max_length=64)
    name: str
    mime_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime = Field(index=True)


class DashboardLogin(SQLModel, table=True):
    """A sign-in to the web dashboard: the one-time link an admin asked for in chat (only a
    hash of its token is kept, so a copy of the database opens nothing), then the session the
    link opened, until it expires or the admin signs out."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    created_at: datetime
    link_expires_at: datetime
    used_at: datetime | None = None
    session_expires_at: datetime | None = None
    ended_at: datetime | None = None
