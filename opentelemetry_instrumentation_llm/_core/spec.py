"""Wrap tables: which SDK methods an adapter wants wrapped, and how to read what they return.

A provider adapter exposes one :class:`ProviderSpec`. The instrumentor turns each
:class:`Endpoint` into a wrapt wrapper around the SDK method; the recorder does the rest.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry_instrumentation_llm._core.fingerprint import TemplateParser
from opentelemetry_instrumentation_llm._core.records import (
    AccumulatorFactory,
    ContentParser,
    RequestParser,
    ResponseParser,
)


class ResultKind(enum.Enum):
    """What an SDK method handed back, which decides how the call is finished."""

    VALUE = "value"  # a parsed response object: finish now
    STREAM = "stream"  # a sync iterator of chunks: finish when it ends
    ASYNC_STREAM = "async_stream"  # an async iterator of chunks
    EMBEDDED_STREAM = "embedded_stream"  # a mapping holding a stream (botocore's {"stream": EventStream})
    RAW = "raw"  # a raw HTTP response wrapper whose sync parse() yields the value or a stream
    RAW_CLOSABLE = "raw_closable"  # the same, with a close() that releases the connection
    ASYNC_RAW = "async_raw"  # async parse() and async close()


ParamsBinder = Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]
"""(positional args, keyword args) of a wrapped call -> the parameter dict the parsers read."""


@dataclass(frozen=True)
class Endpoint:
    """One SDK method to wrap, e.g. ``openai.resources.chat.completions.completions`` / ``Completions.create``.

    ``stream_manager`` marks a helper such as Anthropic's ``messages.stream()`` that returns a
    context manager and sends the request only on ``__enter__``; the helper stream it yields keeps
    the SDK's raw stream in ``raw_stream_attribute``, which we point at our stream proxy.
    """

    module: str
    target: str
    is_async: bool
    parse_request: RequestParser
    parse_response: ResponseParser
    parse_content: ContentParser | None = None
    accumulator: AccumulatorFactory | None = None
    stream_manager: bool = False
    raw_stream_attribute: str = "_raw_stream"
    # Maps the call's (args, kwargs) to the parameter dict the parsers read, for SDK methods that
    # take positional arguments (``litellm.completion(model, messages)``, botocore's
    # ``_make_api_call(operation_name, params)``). Default: the keyword arguments as given.
    params: ParamsBinder | None = None
    # Overrides ProviderSpec.classify for this method (an object that is a sync or an async stream
    # depending on the call that returned it, such as litellm's CustomStreamWrapper).
    classify: Callable[[Any], ResultKind] | None = None
    # The call's template pieces, raw, for the prompt fingerprint: (system instructions, tool
    # definitions) exactly as the SDK was given them, no conversion (it runs on every call, content
    # capture on or off). None: calls of this method get no fingerprint.
    parse_template: TemplateParser | None = None


@dataclass(frozen=True)
class StreamCloseHook:
    """An SDK helper stream (e.g. ``ChatCompletionStream``) that wraps our raw-stream proxy.

    Such helpers close the HTTP response directly on ``close()``/``__exit__``, bypassing the
    proxy; the hook lets the proxy end its span at that moment instead of at garbage collection.
    """

    module: str
    target: str  # "ChatCompletionStream.close"
    is_async: bool
    raw_stream_attribute: str = "_raw_stream"


@dataclass(frozen=True)
class SdkSpanHook:
    """An SDK's own span factory (e.g. anthropic 2.x's built-in tracing).

    Inside one of our GenAI spans it is made to return a non-recording span that carries our
    span's context: the SDK then emits no duplicate span for the call, yet still propagates trace
    context to the server as configured, now pointing at our span.
    """

    module: str
    target: str


def class_name_error_type(exc: BaseException) -> str:
    """The default ``error.type``: the exception's class name, low-cardinality by construction."""
    return type(exc).__name__


@dataclass(frozen=True)
class ProviderSpec:
    """Everything the instrumentor needs to instrument one SDK."""

    sdk: str  # short SDK name, used in the instrumentation scope name
    endpoints: tuple[Endpoint, ...]
    classify: Callable[[Any], ResultKind]
    close_hooks: tuple[StreamCloseHook, ...] = field(default_factory=tuple)
    sdk_span_hooks: tuple[SdkSpanHook, ...] = field(default_factory=tuple)
    error_type: Callable[[BaseException], str] = class_name_error_type
    # For ResultKind.EMBEDDED_STREAM: the key under which the result mapping holds its stream.
    embedded_stream_key: Callable[[Any], str] | None = None
