"""The Zalo adapter's parsing and splitting, property-tested."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.base import split_text
from bot.channels.zalo import TEXT_LIMIT, to_incoming, unwrap
from handlers.messages import AttachmentKind, ChatKind

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
EVENTS = st.sampled_from(
    [
        "message.text.received",
        "message.image.received",
        "message.sticker.received",
        "message.voice.received",
        "message.unsupported.received",
        "user.follow",
        "",
    ]
)
MESSAGE_SHAPED = st.fixed_dictionaries(
    {
        "event_name": EVENTS,
        "message": st.fixed_dictionaries(
            {},
            optional={
                "message_id": JSON,
                "date": JSON,
                "text": JSON,
                "photo_url": JSON,
                "from": st.dictionaries(st.sampled_from(["id", "display_name", "is_bot"]), JSON),
                "chat": st.dictionaries(st.sampled_from(["id", "chat_type"]), JSON),
            },
        ),
    }
)


@given(
    st.one_of(JSON, MESSAGE_SHAPED, st.builds(lambda u: {"ok": True, "result": u}, MESSAGE_SHAPED))
)
def test_no_payload_shape_makes_the_adapter_raise(payload: Any) -> None:
    incoming = to_incoming(unwrap(payload))
    if incoming is not None:
        assert incoming.key.channel == "zalo"
        assert incoming.update_id.count(":") >= 1


def text_update(text: str, message_id: str = "a1b2c3") -> dict[str, Any]:
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": message_id,
            "date": 1750316131602,
            "text": text,
            "from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Dân", "is_bot": False},
            "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
        },
    }


def test_text_commands_images_and_unknown_events() -> None:
    typed = to_incoming(text_update("2"))
    assert (
        typed is not None
        and typed.text == "2"
        and typed.update_id == "message.text.received:a1b2c3"
    )
    command = to_incoming(text_update("/status ACDE-FGHJ-KMNP"))
    assert command is not None and command.command == "status"
    image = {
        "event_name": "message.image.received",
        "message": {
            "message_id": "m2",
            "photo_url": "https://example.invalid/a.jpg",
            "caption": "",
            "from": {"id": "u"},
            "chat": {"id": "u", "chat_type": "PRIVATE"},
        },
    }
    picture = to_incoming(image)
    assert picture is not None and picture.attachments[0].kind is AttachmentKind.PHOTO
    assert picture.attachments[0].ref == "https://example.invalid/a.jpg"
    odd = to_incoming({**image, "event_name": "message.location.received"})
    assert odd is not None and odd.attachments[0].kind is AttachmentKind.OTHER
    assert to_incoming({"ok": True, "result": text_update("x")}) is None, "unwrap first"
    assert to_incoming(unwrap({"ok": True, "result": text_update("x")})) is not None


def test_only_a_private_chat_of_the_sender_is_private() -> None:
    """GROUP, a chat that is not the sender's own, or a type Zalo adds later count as a group."""

    def kind(chat: dict[str, Any]) -> ChatKind | None:
        update = text_update("/help")
        update["message"]["chat"] = chat
        incoming = to_incoming(update)
        return incoming.chat_kind if incoming else None

    own = "6ede9afa66b88fe6d6a9"
    assert kind({"id": own, "chat_type": "PRIVATE"}) is ChatKind.PRIVATE
    assert kind({"id": own}) is ChatKind.PRIVATE
    assert kind({"id": "g-1", "chat_type": "GROUP"}) is ChatKind.GROUP
    assert kind({"id": own, "chat_type": "GROUP"}) is ChatKind.GROUP
    assert kind({"id": "g-1", "chat_type": "PRIVATE"}) is ChatKind.GROUP
    assert kind({"id": "g-1", "chat_type": "COMMUNITY"}) is ChatKind.GROUP


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=9000))
def test_split_parts_fit_and_keep_every_character_in_order(text: str) -> None:
    parts = split_text(text, TEXT_LIMIT)
    assert all(len(part) <= TEXT_LIMIT for part in parts)
    assert all(part for part in parts) or text == ""
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)


def test_split_prefers_line_breaks() -> None:
    lines = [f"{n}. " + "chữ " * 30 for n in range(60)]
    parts = split_text("\n".join(lines), TEXT_LIMIT)
    assert len(parts) > 1
    assert all(part.split("\n")[0].split(".")[0].isdigit() for part in parts)
