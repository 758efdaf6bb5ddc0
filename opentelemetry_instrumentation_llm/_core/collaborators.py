"""What the core needs from the layers above it, handed in by whoever wires the instrumentation.

The core records spans, metrics and events; pricing, the application's request context and the
response registry behind ``record_feedback`` live above it (``cost``, ``request_context``,
``feedback``). The instrumentor builds a :class:`Collaborators` from them and passes it to each
:class:`~opentelemetry_instrumentation_llm._core.recorder.Recorder`, so the core imports none of
them and can be tested with any stand-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from opentelemetry.trace import SpanContext
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_llm._core.records import Usage


class Pricing(Protocol):
    def cost(
        self, provider: str, model: str | None, server: str | None, usage: Usage | None
    ) -> tuple[float, str] | None:
        """(amount in USD, price source) for one call, or None when it cannot be priced."""
        ...


class CallContext(Protocol):
    def capture(self) -> tuple[Mapping[str, AttributeValue], Mapping[str, AttributeValue] | None] | None:
        """The current request context as (span attributes, metric attributes or None); None when empty.

        Called once per call, when its span starts, on the caller's thread.
        """
        ...


class ResponseRegistry(Protocol):
    def remember(self, response_id: str, span_context: SpanContext) -> None:
        """Note which span produced a response, so later feedback on it can find the span."""
        ...


@dataclass(frozen=True)
class Collaborators:
    """The optional services a recorder calls; each may be None (the feature is then off)."""

    pricing: Pricing | None = None
    call_context: CallContext | None = None
    responses: ResponseRegistry | None = None
