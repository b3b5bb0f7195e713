"""The step contract: named states, prompts, answers and outcomes.

A conversation is a table of `Step`s keyed by state name ("rating.access"). A step asks (builds a
`Prompt`) and takes an answer (returns an `Outcome`); it never talks to a messenger. The router
(`handlers/router.py`) turns prompts into replies, resolves buttons and typed numbers, and keeps
the history that makes "back" work. State names are constants of their flow; each flow keeps its
answers in one typed draft (`Drafts`). A flow that asks the first unanswered question computes
it in a function named `next_state`, which the diagrams (`handlers/diagrams.py`) read as such.
Steps that ask the usual questions (text, options, yes or no, summary) are in `handlers/steps.py`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import Attachment, Choice, ConversationKey, Incoming, Reply
from handlers.texts import Texts
from handlers.workdays import WorkCalendar

MENU = "start.menu"
"""Where a chat rests after consent; every conversation returns here when it ends."""
CONSENT = "start.consent"
"""Where a chat rests before consent."""


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings that conversations obey; built by the runtime from its configuration."""

    retention_days: int = 730
    closed_case_retention_days: int = 365
    controller_name: str | None = None
    """None: the intake agency names itself."""
    controller_contact: str = "dulieucanhan@example.org"
    comment_limit: int = 1000
    description_limit: int = 2000
    evidence_max_files: int = 5
    evidence_max_bytes: int = 10 * 1024 * 1024
    evidence_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp", "application/pdf")
    ack_days: int = 2
    decide_days: int = 10
    decide_days_by_category: Mapping[str, int] = field(default_factory=dict)
    review_days: int = 5
    opinion_threshold: int = 3
    opinion_window_days: int = 90
    opinion_rating_weight: float = 0.5
    reopen_days: int = 14
    invite_days: int = 7
    intake_agency_code: str | None = None
    """None: the intake agency the directory file names."""
    inspectorate_agency_code: str | None = None
    """None: the Inspectorate the directory file names."""
    extension_days: int = 10
    bot_username: str | None = None
    min_sample: int = 30
    reporting_cutoff: int | None = 15
    """Reporting periods end the day before this day of their last month (Decree 09/2019)."""
    calendar: WorkCalendar = field(default_factory=WorkCalendar)


@dataclass(slots=True)
class DialogState:
    """The stored position of one chat: state name, language, draft data, offered options."""

    state: str
    locale: str
    data: dict[str, Any] = field(default_factory=dict)
    offered: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Prompt:
    """A question: its text, the options offered, and whether typed text is also accepted."""

    text: str
    choices: tuple[Choice, ...] = ()
    free_text: bool = False
    files: bool = False
    back: bool = True


@dataclass(frozen=True, slots=True)
class Answer:
    """A resolved answer: the id of an offered option, or typed text."""

    choice: str | None = None
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Go:
    """Move to a state and ask its question."""

    state: str


@dataclass(frozen=True, slots=True)
class Retry:
    """The answer was not acceptable: say why, then ask the same question again."""

    hint: str


@dataclass(frozen=True, slots=True)
class Rest:
    """Stay where we are without asking again (the step already said what was needed)."""


Outcome = Go | Retry | Rest


@dataclass(frozen=True, slots=True)
class Step:
    """One named state of a conversation.

    `owns` names the draft fields this step fills; going back to the step forgets them, so the
    flow asks again instead of skipping ahead.
    """

    name: str
    ask: Callable[[Turn], Awaitable[Prompt]]
    take: Callable[[Turn, Answer], Awaitable[Outcome]]
    owns: tuple[str, ...] = ()

    @property
    def flow(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(slots=True)
class Turn:
    """Everything a step may use while handling one incoming message."""

    incoming: Incoming
    dialog: DialogState
    session: AsyncSession
    rules: Rules
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    elsewhere: list[tuple[ConversationKey, Reply]] = field(default_factory=list)
    notice: str | None = None
    chosen_label: str | None = None
    locales: dict[ConversationKey, str] = field(default_factory=dict)
    """Languages of other chats, read once per turn for all who are told (`texts_for`)."""

    @property
    def texts(self) -> Texts:
        return Texts(self.dialog.locale)

    def pick_hint(self) -> str:
        """Why an answer was not taken, worded for how this channel shows options."""
        return self.texts("common.pick_number" if self.incoming.numbered else "common.pick_option")

    def say(self, key: str, **values: object) -> None:
        """Queue a catalog message."""
        self.replies.append(Reply(self.texts(key, **values)))

    def say_text(self, text: str) -> None:
        """Queue text already composed from catalog parts."""
        self.replies.append(Reply(text))

    def send_to(self, key: ConversationKey, reply: Reply) -> None:
        """Queue a message to another chat (an officer, a reporter), in the same transaction."""
        if key == self.incoming.key:
            self.replies.append(reply)
        else:
            self.elsewhere.append((key, reply))

    def draft(self, flow: str) -> dict[str, Any]:
        """The mutable draft of a flow, stored with the conversation."""
        drafts: dict[str, Any] = self.dialog.data.setdefault("drafts", {})
        return drafts.setdefault(flow, {})

    def offer(self, step: str, prompt: Prompt, choices: tuple[Choice, ...], text: str) -> None:
        """Send a question and remember its options; the same question keeps its token."""
        listed = [[c.id, c.label] for c in choices]
        previous = self.dialog.offered
        same = previous.get("state") == step and previous.get("choices") == listed
        token = previous["token"] if same else secrets.token_urlsafe(4)
        self.dialog.offered = {
            "state": step,
            "token": token,
            "choices": listed,
            "free_text": prompt.free_text,
            "files": prompt.files,
        }
        self.replies.append(Reply(text, choices, token if choices else None))


Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Drafts(Generic[Model]):
    """Where one flow keeps its answers so far: its name and its typed model, in one place.
    Step `owns` names are fields of this model (a test checks them)."""

    flow: str
    model: type[Model]

    def load(self, turn: Turn) -> Model:
        return self.model.model_validate(turn.draft(self.flow))

    def save(self, turn: Turn, draft: Model) -> None:
        """Store the draft (only what differs from the defaults), replacing what was there."""
        stored = turn.draft(self.flow)
        stored.clear()
        stored.update(draft.model_dump(mode="json", exclude_defaults=True))

    def update(self, turn: Turn, **answers: object) -> Model:
        """Store some answers in the draft; returns it, which decides what is asked next."""
        draft = self.load(turn).model_copy(update=answers)
        self.save(turn, draft)
        return draft


MAX_ID = 2**31 - 1
"""The largest key an INTEGER column holds on PostgreSQL; a larger number names no record."""


def parse_id(text: str) -> int | None:
    """A record number typed by a person ("/case 12"), or None when it cannot name one: not
    digits, zero, or beyond any key, so a long number reads as "not found", never an error."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
