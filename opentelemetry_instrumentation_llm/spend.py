"""Who spent what today: per-user cost and tokens without a metric series per user.

User ids must never become metric labels of their own: one series per user is unbounded. This
module keeps, in process, a bounded heavy-hitters table of today's cost and tokens per
``llm_context(user_id=...)`` and exports only the top K users as the observable gauges
``llm.user.daily_cost`` (USD) and ``llm.user.daily_tokens``, with every other user summed under
``user.id=_OTHER``: at most K + 1 series per gauge, whatever the traffic.

The table is the space-saving algorithm (Metwally, Agrawal and El Abbadi, 2005) with weights: it
tracks at most ``capacity`` users; a new user takes the place of the one with the smallest count
and inherits that count as its possible error. With N the day's total so far:

* every user whose true total exceeds N / capacity is in the table;
* a tracked user's count is at least its true total and over it by at most N / capacity (exactly
  by its recorded ``error`` at most);
* the counts always sum to N, so ``_OTHER`` (N minus the top K) is exact up to the top K's errors.

Days are UTC days: the table empties at midnight UTC. An update costs a dictionary lookup (a
known user) or a heap replacement (a new one), under a lock.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from heapq import heappush, heapreplace, nlargest
from typing import Any

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation, get_meter

from opentelemetry_instrumentation_llm import config
from opentelemetry_instrumentation_llm.semconv import SCHEMA_URL
from opentelemetry_instrumentation_llm.version import __version__

USER_ID = "user.id"
OTHER = "_OTHER"
COST_GAUGE = "llm.user.daily_cost"
TOKENS_GAUGE = "llm.user.daily_tokens"
SCOPE = "opentelemetry_instrumentation_llm.spend"
_DAY = 86_400


class SpaceSaving:
    """Weighted space-saving counters for at most ``capacity`` keys (not thread-safe by itself).

    ``_counts`` maps a key to ``[count, error]``; ``_heap`` holds one ``(count, key)`` per key, whose
    count may lag the key's (it is refreshed only when it reaches the top), so finding the smallest
    count costs amortised O(log capacity) and an update of a known key costs O(1).
    """

    __slots__ = ("_counts", "_heap", "capacity", "total")

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.total = 0.0
        self._counts: dict[str, list[float]] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._counts)

    def add(self, key: str, weight: float) -> None:
        self.total += weight
        entry = self._counts.get(key)
        if entry is not None:
            entry[0] += weight
        else:
            self.insert(key, weight)

    def insert(self, key: str, weight: float) -> None:
        """Count a key not in the table (``total`` already counted): a free slot, or the smallest's."""
        if len(self._counts) < self.capacity:
            self._counts[key] = [weight, 0.0]
            heappush(self._heap, (weight, key))
        else:
            self._replace_smallest(key, weight)

    def _replace_smallest(self, key: str, weight: float) -> None:
        counts, heap = self._counts, self._heap
        while True:
            recorded, smallest = heap[0]
            current = counts[smallest][0]
            if current == recorded:
                break
            heapreplace(heap, (current, smallest))  # stale: put it back at its real count
        del counts[smallest]
        counts[key] = [current + weight, current]
        heapreplace(heap, (current + weight, key))

    def count(self, key: str) -> tuple[float, float] | None:
        """(count, error) of a tracked key: its true total lies in [count - error, count]."""
        entry = self._counts.get(key)
        return None if entry is None else (entry[0], entry[1])

    def top(self, k: int) -> list[tuple[str, float]]:
        """The ``k`` largest counts, largest first."""
        ranked = nlargest(k, self._counts.items(), key=lambda item: item[1][0])
        return [(key, entry[0]) for key, entry in ranked]

    def items(self) -> Iterator[tuple[str, float, float]]:
        for key, (count, error) in self._counts.items():
            yield key, count, error


class SpendTable:
    """Today's cost (USD) and tokens per user, each in its own bounded space-saving table.

    This is the recorder's ``Spend`` collaborator: ``add`` is called once per finished call.
    ``label`` turns a user id into what the gauges export (a keyed hash when redaction is on).
    """

    def __init__(
        self,
        capacity: int = 1000,
        top_k: int = 20,
        *,
        label: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if top_k <= 0 or capacity < top_k:
            raise ValueError("need 0 < top_k <= capacity")
        self.capacity = capacity
        self.top_k = top_k
        self.label = label
        self._clock = clock
        self._lock = threading.Lock()
        self._day_end = 0.0
        self.cost = SpaceSaving(capacity)
        self.tokens = SpaceSaving(capacity)
        self._roll(clock())

    def _roll(self, now: float) -> None:
        self._day_end = (now // _DAY + 1) * _DAY
        self.cost = SpaceSaving(self.capacity)
        self.tokens = SpaceSaving(self.capacity)

    def add(self, user_id: str, cost: float | None, tokens: int | None) -> None:
        now = self._clock()
        with self._lock:
            if now >= self._day_end:
                self._roll(now)
            if cost is not None and 0 < cost < math.inf:
                self.cost.add(user_id, cost)
            if tokens is not None and tokens > 0:
                self.tokens.add(user_id, tokens)

    def observations(self, table: str) -> list[tuple[str, float]]:
        """(exported user label, value) for the top K users of ``table`` ("cost" or "tokens"), then
        ``_OTHER`` with the rest of the day's total; empty before the day's first call."""
        now = self._clock()
        with self._lock:
            if now >= self._day_end:
                self._roll(now)
            counters: SpaceSaving = getattr(self, table)
            top = counters.top(self.top_k)
            total = counters.total
        if not top:
            return []
        label = self.label
        found = [(label(user) if label is not None else user, value) for user, value in top]
        found.append((OTHER, max(0.0, total - sum(value for _, value in top))))
        return found


def keyed_label(key: bytes) -> Callable[[str], str]:
    """User ids exported as ``user:<16 hex>``, an HMAC-SHA256 under ``key``: an operator who knows
    a user id (and the key) can find its series; the exported value does not reveal it."""

    def label(user_id: str) -> str:
        return "user:" + hmac.new(key, user_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]

    return label


# --------------------------------------------------------------------------- one table per meter provider

_tables: weakref.WeakKeyDictionary[Any, SpendTable] = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


class _GlobalProvider:
    """Stands for the global meter provider among the providers that have a table."""


def spend_table(meter_provider: MeterProvider | None = None, label: Callable[[str], str] | None = None) -> SpendTable:
    """The table whose gauges ``meter_provider`` (the global one by default) exports, built from the
    configuration and registered on first use: every SDK instrumented with that provider shares it."""
    key = meter_provider if meter_provider is not None else _GlobalProvider
    with _tables_lock:
        table = _tables.get(key)
        if table is None:
            top_k = config.SPEND_TOP_K.read()
            table = _tables[key] = SpendTable(max(config.SPEND_CAPACITY.read(), top_k), top_k, label=label)
            _observe(table, meter_provider)
    return table


def _callback(table: SpendTable, which: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, {USER_ID: user}) for user, value in table.observations(which)]

    return observe


def _observe(table: SpendTable, meter_provider: MeterProvider | None) -> None:
    meter = get_meter(SCOPE, __version__, meter_provider, schema_url=SCHEMA_URL)
    meter.create_observable_gauge(
        COST_GAUGE,
        callbacks=[_callback(table, "cost")],
        unit="USD",
        description="Cost in USD since midnight UTC of the top spending users (user.id), the rest as _OTHER.",
    )
    meter.create_observable_gauge(
        TOKENS_GAUGE,
        callbacks=[_callback(table, "tokens")],
        unit="{token}",
        description="Tokens since midnight UTC of the top users by tokens (user.id), the rest as _OTHER.",
    )
