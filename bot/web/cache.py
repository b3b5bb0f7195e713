"""A short-lived cache of computed figures, shared by concurrent requests.

A busy page must not add up a year of ratings once per visitor: the first request of a key
starts the computation and every request of that key for the next `seconds` (those arriving
while it runs included) awaits the same result. A failed computation is forgotten at once, so
the next request tries again. The oldest keys are dropped past `size`, however many distinct
query strings arrive.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class FiguresCache(Generic[Value]):
    def __init__(
        self,
        seconds: float,
        *,
        size: int = 64,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._size = size
        self._monotonic = monotonic
        self._entries: OrderedDict[Hashable, tuple[float, asyncio.Future[Value]]] = OrderedDict()

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Value]]) -> Value:
        """The value of `key`: cached if computed less than `seconds` ago, else computed."""
        now = self._monotonic()
        entry = self._entries.get(key)
        if entry is None or now - entry[0] >= self._seconds:
            entry = (now, asyncio.ensure_future(compute()))
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        started, future = entry
        try:
            # Shielded: a visitor who closes the page does not cancel the others' figures.
            return await asyncio.shield(future)
        except Exception:
            if self._entries.get(key) == (started, future):
                del self._entries[key]
            raise
