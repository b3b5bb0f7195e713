"""A circuit breaker per channel: an outage pauses the channel instead of using up messages.

When a send fails in a way that says the platform itself is down (5xx, timeouts, connection
errors), the breaker opens: no message of that channel is tried until a pause has passed. Then
one message goes as a probe; if it fails, the pause doubles (up to a ceiling); if it succeeds,
the breaker closes and everything waiting goes out. Failures of sends that were already under
way when the breaker opened do not lengthen the pause: they are the same outage.
"""

from __future__ import annotations

from datetime import datetime, timedelta


class CircuitBreaker:
    """Closed lets every send through; open lets one probe through per pause."""

    def __init__(self, *, first_pause: timedelta, max_pause: timedelta) -> None:
        self._first_pause = first_pause
        self._max_pause = max_pause
        self._pause = first_pause
        self._reopens_at: datetime | None = None
        """None while closed; else when the next probe may go."""
        self._probing = False

    @property
    def closed(self) -> bool:
        return self._reopens_at is None

    @property
    def reopens_at(self) -> datetime | None:
        """When an open breaker lets its next probe through (None while closed)."""
        return self._reopens_at

    def may_probe(self, now: datetime) -> bool:
        """Whether a send would be let through now (without taking the probe)."""
        return self._reopens_at is None or now >= self._reopens_at

    def admit(self, now: datetime) -> bool:
        """May a send go now? While open, only the first caller after the pause (the probe);
        the next probe waits another pause, so a probe that never reports cannot block it."""
        if self._reopens_at is None:
            return True
        if now < self._reopens_at:
            return False
        self._probing = True
        self._reopens_at = now + self._pause
        return True

    def succeeded(self) -> bool:
        """A send went through: close. True when this ends an outage."""
        was_open = self._reopens_at is not None
        self._reopens_at = None
        self._probing = False
        self._pause = self._first_pause
        return was_open

    def failed(self, now: datetime) -> bool:
        """A send found the platform down: open, or after a failed probe wait twice as long.
        True when this opens the breaker."""
        if self._reopens_at is None:
            self._reopens_at = now + self._pause
            return True
        if self._probing:
            self._pause = min(self._max_pause, self._pause * 2)
            self._reopens_at = now + self._pause
            self._probing = False
        return False
