"""Provider-neutral records: what adapters hand to the recorder.

Adapters map an SDK's request keyword arguments and response objects into these records; the
recorder turns them into spans, metrics and events. Attribute dictionaries use the
semantic-convention names from :mod:`opentelemetry_instrumentation_llm.semconv`, so an adapter is
the one place that knows, say, that OpenAI's ``reasoning_effort`` is ``gen_ai.request.reasoning.level``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry_instrumentation_llm._core.parts import ChatMessage, MessagePart, OutputMessage, ToolDefinition

AttributeValue = str | bool | int | float | Sequence[str] | Sequence[int] | Sequence[float] | Sequence[bool]
Attributes = dict[str, AttributeValue]


@dataclass(slots=True)
class Usage:
    """Token counts as the conventions define them (input includes cached input)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(slots=True)
class RequestInfo:
    """One LLM call as sent: who, what, where, and the sampling-relevant parameters."""

    operation: str
    provider: str
    model: str | None
    server_address: str | None = None
    server_port: int | None = None
    stream: bool = False
    # Request attributes beyond the above, keyed by semantic-convention name.
    attributes: Attributes = field(default_factory=dict)


@dataclass(slots=True)
class RequestContent:
    """Prompt-side content in the conventions' JSON shapes. Built only when capture is on."""

    system_instructions: list[MessagePart] | None = None
    input_messages: list[ChatMessage] | None = None
    tool_definitions: list[ToolDefinition] | None = None


@dataclass(slots=True)
class ResponseInfo:
    """What came back: identity, finish reasons, usage, and output content when captured."""

    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: Sequence[str] | None = None
    usage: Usage | None = None
    # Span-only response attributes keyed by semantic-convention name (e.g. service tier).
    attributes: Attributes | None = None
    # Low-cardinality response attributes that also go on metrics (e.g. openai.response.service_tier).
    metric_attributes: Attributes | None = None
    output_messages: list[OutputMessage] | None = None
    # Set when the provider reported a failure without the SDK raising (e.g. a Responses API
    # stream ending in ``response.failed``): the call is recorded as failed with this error.type.
    error_type: str | None = None


class StreamAccumulator(Protocol):
    """Folds stream chunks into a :class:`ResponseInfo`.

    ``add`` runs once per chunk on the user's thread, so implementations keep it to a few
    attribute reads; anything that can wait is done in ``result``.
    """

    def add(self, chunk: Any) -> bool:
        """Take one chunk; return True if it carried model output (it then counts for chunk timing)."""
        ...

    def result(self) -> ResponseInfo:
        """The response as far as the stream got."""
        ...


RequestParser = Callable[[Any, dict[str, Any]], "RequestInfo | None"]
"""(SDK resource instance, call parameters) -> RequestInfo, or None for a call not to trace (a
shared entry point such as botocore's ``_make_api_call`` serves many operations, few of them LLM calls)."""

ContentParser = Callable[[dict[str, Any]], RequestContent]
"""(call kwargs) -> RequestContent; called only when content capture is on."""

ResponseParser = Callable[[Any, bool], ResponseInfo]
"""(SDK response object, capture_content) -> ResponseInfo."""

AccumulatorFactory = Callable[[bool], StreamAccumulator]
"""(capture_content) -> a fresh accumulator for one stream."""
