"""Tail sampling in process: keep every trace with an error or a slow GenAI call, sample the rest.

Finished spans of a trace are held until the trace's local root span ends (the span that started
the trace in this process: no parent, or a remote parent). The whole trace is then kept when any
span errored (status ERROR or an ``error.type`` attribute) or any GenAI span lasted at least the
slow threshold, and otherwise with the configured probability, decided from the trace id exactly
as OpenTelemetry's ``TraceIdRatioBased`` head sampler does, so every process (and a head sampler
at the same ratio) agrees on the same trace.

Log records (GenAI events) of a trace follow the trace: held while it is undecided, exported or
dropped with it. Metrics never pass through here: they count every call at any sampling rate.

Bounded: at most ``max_traces`` traces and ``max_spans_per_trace`` spans per trace are held (a
trace over the cap is decided at once; the oldest trace is decided when too many are held), and a
trace held longer than ``decision_wait`` seconds is decided anyway. Kept and dropped traces are
counted by reason in ``llm.sampling.traces``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.metrics import MeterProvider, get_meter

from opentelemetry_instrumentation_llm.version import __version__

_logger = logging.getLogger(__name__)

_TRACE_ID_LIMIT = (1 << 64) - 1
KEEP, DROP = True, False


def ratio_keeps(trace_id: int, ratio: float) -> bool:
    """The same arithmetic as the SDK's TraceIdRatioBased sampler (lower 64 bits of the trace id)."""
    bound = round(ratio * (_TRACE_ID_LIMIT + 1))
    return (trace_id & _TRACE_ID_LIMIT) < bound


@dataclass
class _HeldTrace:
    started: float
    spans: list[Any] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)
    keep_reason: str | None = None  # "error" or "slow" once seen
    root_open: bool = True


class TraceSampler:
    """The decision core shared by the span and log processors of one pipeline."""

    def __init__(
        self,
        ratio: float = 1.0,
        *,
        slow_ms: float | None = None,
        max_traces: int = 10_000,
        max_spans_per_trace: int = 1_000,
        decision_wait: float = 30.0,
        meter_provider: MeterProvider | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.0 <= ratio <= 1.0:
            raise ValueError("ratio must be between 0 and 1")
        self.ratio = ratio
        self.slow_ns = int(slow_ms * 1e6) if slow_ms is not None else None
        self.max_traces = max_traces
        self.max_spans_per_trace = max_spans_per_trace
        self.decision_wait = decision_wait
        self._clock = clock
        self._lock = threading.Lock()
        self._held: OrderedDict[int, _HeldTrace] = OrderedDict()
        self._decided: OrderedDict[int, bool] = OrderedDict()  # recent decisions, for late spans and logs
        self._decided_max = max(1024, max_traces)
        self._span_sink: Callable[[Any], None] | None = None
        self._log_sink: Callable[[Any], None] | None = None
        self._create_instruments(meter_provider)
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    def _create_instruments(self, meter_provider: MeterProvider | None) -> None:
        meter = get_meter("opentelemetry_instrumentation_llm.sampling", __version__, meter_provider=meter_provider)
        self._traces = meter.create_counter(
            "llm.sampling.traces",
            unit="{trace}",
            description="Traces decided by the tail sampler, by decision and reason.",
        )
        self._spans = meter.create_counter(
            "llm.sampling.spans", unit="{span}", description="Spans exported or dropped by the tail sampler."
        )
        meter.create_observable_gauge(
            "llm.sampling.held_traces",
            callbacks=[self._observe_held],
            unit="{trace}",
            description="Traces held awaiting a sampling decision.",
        )

    # ------------------------------------------------------------------ wiring

    def connect(
        self, span_sink: Callable[[Any], None] | None = None, log_sink: Callable[[Any], None] | None = None
    ) -> None:
        if span_sink is not None:
            self._span_sink = span_sink
        if log_sink is not None:
            self._log_sink = log_sink
        if self._timer is None and self.decision_wait > 0:
            self._timer = threading.Thread(target=self._expire_loop, name="llm-tail-sampler", daemon=True)
            self._timer.start()

    def _observe_held(self, options: Any) -> Any:
        from opentelemetry.metrics import Observation

        yield Observation(len(self._held))

    # ------------------------------------------------------------------ spans

    def on_span_start(self, span: Any) -> None:
        trace_id = span.context.trace_id
        parent = span.parent
        if parent is None or parent.is_remote:
            with self._lock:
                if trace_id not in self._decided and trace_id not in self._held:
                    self._held[trace_id] = _HeldTrace(self._clock())

    def on_span_end(self, span: Any) -> None:
        trace_id = span.context.trace_id
        release: list[tuple[_HeldTrace, bool, str, str]] = []
        forward_now: bool | None = None
        with self._lock:
            decided = self._decided.get(trace_id)
            if decided is not None:
                forward_now = decided
            else:
                held = self._held.get(trace_id)
                if held is None:  # a trace whose local root we did not see start: hold it anyway
                    held = self._held[trace_id] = _HeldTrace(self._clock())
                held.spans.append(span)
                if held.keep_reason is None:
                    held.keep_reason = self._keep_reason(span)
                parent = span.parent
                if parent is None or parent.is_remote:
                    release.append(self._decide_locked(trace_id, "root_ended"))
                elif len(held.spans) >= self.max_spans_per_trace:
                    release.append(self._decide_locked(trace_id, "span_cap"))
                while len(self._held) > self.max_traces:
                    oldest = next(iter(self._held))
                    release.append(self._decide_locked(oldest, "evicted"))
        if forward_now is not None:
            self._spans.add(1, {"decision": "kept" if forward_now else "dropped"})
            if forward_now and self._span_sink is not None:
                self._span_sink(span)
        for item in release:
            self._release(*item)

    def _keep_reason(self, span: Any) -> str | None:
        status = getattr(span, "status", None)
        attributes = span.attributes or {}
        if (status is not None and status.status_code.name == "ERROR") or "error.type" in attributes:
            return "error"
        if self.slow_ns is not None and "gen_ai.operation.name" in attributes:
            start, end = span.start_time, span.end_time
            if start is not None and end is not None and end - start >= self.slow_ns:
                return "slow"
        return None

    def _decide_locked(self, trace_id: int, trigger: str) -> tuple[_HeldTrace, bool, str, str]:
        """Decide a held trace. ``trigger`` says what forced the decision: the local root ended
        (``root_ended``), a cap (``evicted``, ``span_cap``), the wait ran out (``timeout``) or a flush."""
        held = self._held.pop(trace_id)
        if held.keep_reason is not None:
            keep, reason = KEEP, held.keep_reason
        elif ratio_keeps(trace_id, self.ratio):
            keep, reason = KEEP, "sampled"
        else:
            keep, reason = DROP, "not_sampled"
        self._decided[trace_id] = keep
        while len(self._decided) > self._decided_max:
            self._decided.popitem(last=False)
        return held, keep, reason, trigger

    def _release(self, held: _HeldTrace, keep: bool, reason: str, trigger: str) -> None:
        self._traces.add(1, {"decision": "kept" if keep else "dropped", "reason": reason, "trigger": trigger})
        if held.spans:
            self._spans.add(len(held.spans), {"decision": "kept" if keep else "dropped"})
        if not keep:
            return
        for span in held.spans:
            if self._span_sink is not None:
                self._span_sink(span)
        for record in held.logs:
            if self._log_sink is not None:
                self._log_sink(record)

    # ------------------------------------------------------------------ logs

    def on_log(self, record: Any, trace_id: int) -> bool | None:
        """KEEP or DROP for a log record of an already decided trace; None when it was held."""
        with self._lock:
            decided = self._decided.get(trace_id)
            if decided is not None:
                return decided
            held = self._held.get(trace_id)
            if held is None:
                return KEEP  # not a trace we hold (e.g. from another pipeline): never lose it
            if len(held.logs) < self.max_spans_per_trace:
                held.logs.append(record)
                return None
            return DROP

    # ------------------------------------------------------------------ time and shutdown

    def expire(self, now: float | None = None) -> None:
        """Decide every trace held longer than ``decision_wait``."""
        now = self._clock() if now is None else now
        release: list[tuple[_HeldTrace, bool, str, str]] = []
        with self._lock:
            while self._held:
                trace_id, held = next(iter(self._held.items()))
                if now - held.started < self.decision_wait:
                    break
                release.append(self._decide_locked(trace_id, "timeout"))
        for item in release:
            self._release(*item)

    def _expire_loop(self) -> None:
        interval = min(1.0, max(0.05, self.decision_wait / 4))
        while not self._stop.wait(interval):
            try:
                self.expire()
            except Exception:
                _logger.debug("tail sampler: expiry failed", exc_info=True)

    def flush(self) -> None:
        """Decide everything held now (force_flush and shutdown)."""
        release: list[tuple[_HeldTrace, bool, str, str]] = []
        with self._lock:
            while self._held:
                release.append(self._decide_locked(next(iter(self._held)), "flush"))
        for item in release:
            self._release(*item)

    def shutdown(self) -> None:
        self._stop.set()
        self.flush()

    @property
    def held_traces(self) -> int:
        return len(self._held)

    @property
    def held_spans(self) -> int:
        with self._lock:
            return sum(len(h.spans) for h in self._held.values())
