"""Local fakes of external chat APIs for end-to-end tests."""

from tests.fakes.telegram_api import Call, FakeTelegramServer, MessageEdit, SentMessage

__all__ = ["Call", "FakeTelegramServer", "MessageEdit", "SentMessage"]
