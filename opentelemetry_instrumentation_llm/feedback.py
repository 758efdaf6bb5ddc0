"""Quality feedback on past calls: user ratings and evaluation scores as ``gen_ai.evaluation.result``.

``record_feedback("helpfulness", score=0.8, label="good", response_id=completion.id)`` emits the
event through the Logs API, parented to the span of the evaluated call when it is known (by its
span context, or by its response id, looked up in a bounded map of recent calls), so a trace view
shows the feedback next to the call and a logs backend can join it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry import _logs, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import NonRecordingSpan, SpanContext

from opentelemetry_instrumentation_llm import config, semconv as sc
from opentelemetry_instrumentation_llm.version import __version__


class _RecentResponses:
    """Response id -> span context of the call that produced it (bounded, oldest evicted).

    ``remember`` runs once per call on the hot path: a plain dict assignment (atomic under the GIL,
    insertion-ordered), with the lock taken only to evict when the bound is passed.
    """

    def __init__(self) -> None:
        self._map: dict[str, SpanContext] = {}
        self._lock = threading.Lock()
        self._max: int | None = None

    def remember(self, response_id: str, span_context: SpanContext) -> None:
        limit = self._max
        if limit is None:
            limit = self._max = config.FEEDBACK_MAX_RESPONSES.read()
        entries = self._map
        entries.pop(response_id, None)  # a repeated id moves to the newest end
        entries[response_id] = span_context
        if len(entries) > limit:
            with self._lock:
                while len(entries) > limit:
                    try:
                        del entries[next(iter(entries))]
                    except (StopIteration, KeyError, RuntimeError):  # another thread evicted first
                        break

    def find(self, response_id: str) -> SpanContext | None:
        return self._map.get(response_id)

    def clear(self) -> None:
        with self._lock:
            self._map.clear()
            self._max = None


recent_responses = _RecentResponses()


def _evaluation_attributes(
    name: str,
    score: float | None,
    label: str | None,
    explanation: str | None,
    response_id: str | None,
    attributes: Mapping[str, Any] | None,
) -> dict[str, Any]:
    event: dict[str, Any] = {sc.GEN_AI_EVALUATION_NAME: name}
    if score is not None:
        event[sc.GEN_AI_EVALUATION_SCORE_VALUE] = float(score)
    if label is not None:
        event[sc.GEN_AI_EVALUATION_SCORE_LABEL] = label
    if explanation is not None:
        event[sc.GEN_AI_EVALUATION_EXPLANATION] = explanation
    if response_id is not None:
        event[sc.GEN_AI_RESPONSE_ID] = response_id
    if attributes:
        event.update(attributes)
    return event


def record_feedback(
    name: str,
    *,
    score: float | None = None,
    label: str | None = None,
    explanation: str | None = None,
    span_context: SpanContext | None = None,
    response_id: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    logger_provider: _logs.LoggerProvider | None = None,
) -> bool:
    """Attach a rating or evaluation score to a past call; returns whether its span was found.

    ``name`` is what was evaluated (``helpfulness``, ``user_rating``, ``faithfulness``...); give
    ``score`` and/or ``label``. Identify the call by ``span_context`` (e.g.
    ``trace.get_current_span().get_span_context()`` inside the request) or by ``response_id`` (the
    provider's id, e.g. ``completion.id``). Without a known span, the event still carries
    ``gen_ai.response.id`` so a backend can join it.
    """
    if not name:
        raise ValueError("record_feedback needs the name of what was evaluated")
    if score is None and label is None:
        raise ValueError("record_feedback needs a score, a label, or both")
    if span_context is None and response_id is not None:
        span_context = recent_responses.find(response_id)
    found = span_context is not None and span_context.is_valid
    event = _evaluation_attributes(name, score, label, explanation, response_id, attributes)
    context = trace.set_span_in_context(NonRecordingSpan(span_context)) if found else None  # type: ignore[arg-type]
    logger = _logs.get_logger(
        "opentelemetry_instrumentation_llm.feedback",
        __version__,
        logger_provider=logger_provider,
        schema_url=sc.SCHEMA_URL,
    )
    logger.emit(
        event_name=sc.EVENT_EVALUATION_RESULT, severity_number=SeverityNumber.INFO, attributes=event, context=context
    )
    return found
