"""Resolved settings the core records by: where content goes and which metric names are emitted.

The environment variables behind them are read in :mod:`opentelemetry_instrumentation_llm.config`,
the layer above; the core only receives the resolved values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ContentCapture(enum.Enum):
    """Where prompt and completion content is recorded (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``)."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        return self in (ContentCapture.SPAN_ONLY, ContentCapture.SPAN_AND_EVENT)

    @property
    def on_event(self) -> bool:
        return self in (ContentCapture.EVENT_ONLY, ContentCapture.SPAN_AND_EVENT)


class MetricNames(enum.Enum):
    """Which GenAI metric names are emitted (``OTEL_INSTRUMENTATION_LLM_METRIC_NAMES``)."""

    DEFAULT = "default"  # gen_ai.client.operation.duration / token.usage / time_to_first_chunk / ...
    LATEST = "latest"  # the restructured gen_ai.client.inference.* names still moving in the spec
    BOTH = "both"  # both sets, to migrate dashboards without a gap

    @property
    def default_names(self) -> bool:
        return self is not MetricNames.LATEST

    @property
    def latest_names(self) -> bool:
        return self is not MetricNames.DEFAULT


@dataclass(frozen=True)
class ContentSettings:
    """Resolved content-capture behaviour for the recorder."""

    capture: ContentCapture = ContentCapture.NO_CONTENT
    emit_event: bool = False
