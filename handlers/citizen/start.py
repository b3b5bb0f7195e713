"""First contact and the home menu: privacy notice, explicit consent, language.

The diagram is in `start.mmd` beside this file.
"""

from __future__ import annotations

from handlers.citizen import commend, rating, report, status
from handlers.flow import CONSENT, MENU, Answer, Go, Outcome, Prompt, Rest, Retry, Step, Turn
from handlers.messages import Choice
from handlers.textmatch import fold
from handlers.texts import LOCALES, pick_locale
from storage.citizens import find_citizen, register_citizen

# Bump when the privacy notice in the catalogs changes: consent is recorded against it.
PRIVACY_NOTICE_VERSION = "2026-12-05"

# The consent question again, short, after the notice's details were shown.
CONSENT_AGAIN = "start.consent_again"

HOME_STATES = frozenset({CONSENT, CONSENT_AGAIN, MENU})


async def home_state(turn: Turn) -> str:
    """Where a chat rests: the menu once the person has consented, the notice before."""
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    return MENU if citizen is not None else CONSENT


def _consent_choices(turn: Turn, *, details: bool) -> tuple[Choice, ...]:
    t = turn.texts
    agree, decline = Choice("agree", t("start.agree")), Choice("decline", t("start.decline"))
    return (agree, decline, Choice("details", t("start.details"))) if details else (agree, decline)


async def ask_consent(turn: Turn) -> Prompt:
    """Show the short privacy notice and ask for an explicit choice; details are one tap away,
    so the first message fits a phone screen."""
    t, rules = turn.texts, turn.rules
    notice = t(
        "start.privacy_notice", controller=rules.controller_name, contact=rules.controller_contact
    )
    return Prompt(notice, _consent_choices(turn, details=True), back=False)


async def ask_consent_again(turn: Turn) -> Prompt:
    """After the details: the same choice, without repeating the notice."""
    return Prompt(turn.texts("start.q_consent"), _consent_choices(turn, details=False), back=False)


async def take_consent(turn: Turn, answer: Answer) -> Outcome:
    """Record consent with its time and notice version, then continue where the link pointed."""
    if answer.choice == "details":
        rules = turn.rules
        turn.say("start.privacy_who")
        turn.say(
            "start.privacy_retention",
            days=rules.retention_days,
            closed_days=rules.closed_case_retention_days,
        )
        return Go(CONSENT_AGAIN)
    if answer.choice == "decline":
        turn.say("start.declined")
        turn.dialog.offered = {}
        return Rest()
    if answer.choice != "agree":
        return Retry(turn.pick_hint())
    key = turn.incoming.key
    await register_citizen(
        key.channel,
        turn.incoming.user_id,
        locale=turn.dialog.locale,
        consent_version=PRIVACY_NOTICE_VERSION,
        now=turn.now,
        session=turn.session,
    )
    turn.say("start.consent_recorded")
    link = rating.parse_deep_link(turn.dialog.data.pop("deep_link", ""))
    if link is not None:
        return await rating.begin(turn, link)
    return Go(MENU)


async def ask_menu(turn: Turn) -> Prompt:
    """Offer what the bot can do."""
    t = turn.texts
    return Prompt(
        t("start.menu"),
        (
            Choice("rate", t("start.menu_rate")),
            Choice("report", t("start.menu_report")),
            Choice("commend", t("start.menu_commend")),
            Choice("status", t("start.menu_status")),
            Choice("language", t("start.menu_language")),
            Choice("help", t("start.menu_help")),
        ),
        back=False,
    )


async def take_menu(turn: Turn, answer: Answer) -> Outcome:
    """Start the chosen conversation."""
    if answer.choice == "rate":
        return await rating.begin(turn, None)
    if answer.choice == "report":
        return await report.begin(turn)
    if answer.choice == "commend":
        return await commend.begin(turn)
    if answer.choice == "status":
        return Go(status.LIST)
    if answer.choice == "language":
        await switch_language(turn, "")
        turn.say("common.language_set")
        return Go(MENU)
    if answer.choice == "help":
        turn.say("common.help")
        return Go(MENU)
    return Retry(turn.pick_hint())


_LANGUAGE_WORDS = {
    "vi": "vi",
    "viet": "vi",
    "tieng viet": "vi",
    "vietnamese": "vi",
    "en": "en",
    "english": "en",
    "tieng anh": "en",
    "anh": "en",
}


async def switch_language(turn: Turn, requested: str) -> bool:
    """Use the requested language, or the other one when none is named; False if the word
    names no language we speak."""
    wanted = fold(requested)
    if wanted and wanted not in _LANGUAGE_WORDS:
        return False
    locale = _LANGUAGE_WORDS.get(wanted) or next(c for c in LOCALES if c != turn.dialog.locale)
    turn.dialog.locale = pick_locale(locale)
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    if citizen is not None:
        citizen.locale = turn.dialog.locale
    return True


STEPS = (
    Step(CONSENT, ask_consent, take_consent),
    Step(CONSENT_AGAIN, ask_consent_again, take_consent),
    Step(MENU, ask_menu, take_menu),
)
