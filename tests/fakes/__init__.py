"""Local fakes of external chat APIs for end-to-end tests."""

from tests.fakes.telegram_api import Call, FakeTelegramServer, MessageEdit, SentMessage
from tests.fakes.zalo_api import FakeZaloServer, ZaloSent

__all__ = [
    "Call",
    "FakeTelegramServer",
    "FakeZaloServer",
    "MessageEdit",
    "SentMessage",
    "ZaloSent",
]
