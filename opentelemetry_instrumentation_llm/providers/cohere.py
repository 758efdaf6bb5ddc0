"""Cohere adapter (``cohere`` SDK, v2 API): ``chat``, ``chat_stream`` and ``embed`` of
``ClientV2`` / ``AsyncClientV2``, sync and async.

What is Cohere's own: sampling parameters are ``p`` / ``k`` (-> ``top_p`` / ``top_k``); finish
reasons are upper case (``COMPLETE`` and ``STOP_SEQUENCE`` -> ``stop``, ``MAX_TOKENS`` ->
``length``, ``TOOL_CALL`` -> ``tool_call``, others lower-cased); a reply that finished with
``ERROR`` or ``TIMEOUT`` (the API answers 200 and the SDK does not raise) is recorded as failed with
that finish reason as ``error.type``. Usage comes as floats, in ``tokens`` (what the model
processed) and ``billed_units``; ``tokens`` is preferred. Responses name no model, so
``gen_ai.response.model`` stays unset. The assistant's ``tool_plan`` is recorded as a reasoning part.

The methods wrapped are those of the v2 *raw* client (``RawV2Client`` / ``AsyncRawV2Client``), which
``ClientV2.chat`` / ``chat_stream`` / ``embed`` and ``with_raw_response`` all go through. The public
``ClientV2`` methods cannot be wrapped reliably: by default (``log_warning_experimental_features``)
each client binds its ``chat`` and ``chat_stream`` into instance attributes when it is built, so a
client built before ``instrument()`` would never be traced and one built while instrumented would
stay traced after ``uninstrument()``. The raw ``chat_stream`` is a context manager that sends the
request on enter and keeps the event iterator in the response's ``_data``, which we point at our
stream proxy (so the span starts when the request is sent: at the first read of
``ClientV2.chat_stream``'s generator). The SDK's Bedrock and SageMaker clients keep a placeholder
base URL and re-address requests in an HTTP hook; we read the service and region from that hook
(provider ``aws.bedrock`` for Bedrock). The v1 API (``cohere.Client``) is not instrumented.

This module imports the SDK, so it is imported only when the Cohere instrumentor is enabled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cohere.core.http_response import AsyncHttpResponse, HttpResponse

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.parts import (
    ChatMessage,
    MessagePart,
    OutputMessage,
    ToolCallPart,
    data_url_part,
    text_part,
)
from opentelemetry_instrumentation_llm._core.records import Attributes, RequestContent, RequestInfo, ResponseInfo, Usage
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec, ResultKind
from opentelemetry_instrumentation_llm.providers._common import (
    Arguments,
    ClientFactsCache,
    FinishReasons,
    field,
    request_info,
    server_of,
    status_error_type,
    stop_sequences,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import tool_call_part, tool_definitions
from opentelemetry_instrumentation_llm.providers._templates import chat_template

# finish_reason -> the conventions' finish reasons (the API's values are upper case).
finish_reason = FinishReasons(
    {
        "COMPLETE": "stop",
        "STOP_SEQUENCE": "stop",
        "MAX_TOKENS": "length",
        "TOOL_CALL": "tool_call",
        "ERROR": "error",
        "TIMEOUT": "timeout",
    },
    coerce=True,
)
# Finish reasons that mean the generation failed although the call returned normally.
_FAILED = frozenset({"error", "timeout"})

# The SDK's "not given" default (``OMIT``) is ``...``.
_arg = Arguments(type(...)).param


def aws_hook_settings(hook: Any) -> dict[str, Any]:
    """The settings an ``cohere.aws_client`` request hook was built with (``service``, ``aws_region``).

    The SDK's Bedrock and SageMaker clients keep a placeholder base URL and rewrite each request's
    URL in an HTTP request hook; the service and region are kept nowhere but in that hook's closure,
    so this reads the closure cells by their names. It is the one reach-in into the SDK here, tested
    by ``test_aws_hook_settings_still_readable``; when the SDK changes, the test fails and this
    returns ``{}`` (the call is then recorded with provider ``cohere`` and no server address).
    """
    code, cells = getattr(hook, "__code__", None), getattr(hook, "__closure__", None) or ()
    try:
        return dict(
            zip(code.co_freevars if code is not None else (), (cell.cell_contents for cell in cells), strict=False)
        )
    except ValueError:  # an empty closure cell
        return {}


def _hook_service(wrapper: Any) -> tuple[str, str | None] | None:
    """(service, region) when the client's HTTP hooks re-address requests (the SDK's Bedrock,
    SageMaker and OCI clients)."""
    http = getattr(getattr(wrapper, "httpx_client", None), "httpx_client", None)
    hooks = getattr(http, "event_hooks", None)
    for hook in (hooks.get("request") or ()) if isinstance(hooks, dict) else ():
        module = getattr(hook, "__module__", "")
        if module == "cohere.oci_client":
            return "oci", None
        if module == "cohere.aws_client":
            values = aws_hook_settings(hook)
            region = values.get("aws_region")
            return str(values.get("service") or "aws"), region if isinstance(region, str) else None
    return None


_AWS_HOSTS = {"bedrock": "bedrock-runtime.{}.amazonaws.com", "sagemaker": "runtime.sagemaker.{}.amazonaws.com"}


def _facts_of(wrapper: Any) -> tuple[str, str | None, int | None]:
    """(provider, server.address, server.port) for a client wrapper, computed once per wrapper."""
    hooked = _hook_service(wrapper)
    if hooked is not None:
        service, region = hooked
        provider = sc.PROVIDER_AWS_BEDROCK if service == "bedrock" else sc.PROVIDER_COHERE
        host = _AWS_HOSTS.get(service)
        return (provider, host.format(region), 443) if host and region else (provider, None, None)
    url = getattr(wrapper, "_base_url", None)
    address, port = server_of(url) if isinstance(url, str) else (None, None)
    return sc.PROVIDER_COHERE, address, port


_FACTS = ClientFactsCache()


def client_facts(raw_client: Any) -> tuple[str, str | None, int | None]:
    wrapper = getattr(raw_client, "_client_wrapper", None)
    if wrapper is None:
        return sc.PROVIDER_COHERE, None, None
    facts: tuple[str, str | None, int | None] = _FACTS(wrapper, _facts_of)
    return facts


# --------------------------------------------------------------------------- requests

# keyword -> attribute, recorded as given; Cohere's p and k are top_p and top_k.
_CHAT_PARAMS = {
    "temperature": sc.GEN_AI_REQUEST_TEMPERATURE,
    "p": sc.GEN_AI_REQUEST_TOP_P,
    "max_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "seed": sc.GEN_AI_REQUEST_SEED,
    "frequency_penalty": sc.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": sc.GEN_AI_REQUEST_PRESENCE_PENALTY,
}
_OUTPUT_TYPES = {"json_object": "json", "json_schema": "json", "text": "text"}


def chat_attributes(kwargs: dict[str, Any]) -> Attributes:
    attrs: Attributes = {}
    for key, attribute in _CHAT_PARAMS.items():
        value = _arg(kwargs, key)
        if value is not None:
            attrs[attribute] = value
    k = _arg(kwargs, "k")
    if k is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_K] = int(k)
    sequences = stop_sequences(_arg(kwargs, "stop_sequences"))
    if sequences is not None:
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = sequences
    output_type = _OUTPUT_TYPES.get(field(_arg(kwargs, "response_format"), "type"))
    if output_type is not None:
        attrs[sc.GEN_AI_OUTPUT_TYPE] = output_type
    return attrs


def embed_attributes(kwargs: dict[str, Any]) -> Attributes:
    attrs: Attributes = {}
    types = _arg(kwargs, "embedding_types")
    if types:
        attrs[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = [str(t) for t in types]
    dimension = _arg(kwargs, "output_dimension")
    if dimension is not None:
        attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimension
    return attrs


def _request(client: Any, operation: str, kwargs: dict[str, Any], stream: bool, attrs: Attributes) -> RequestInfo:
    provider, address, port = client_facts(client)
    return request_info(operation, provider, _arg(kwargs, "model"), (address, port), stream, attrs)


def _request_parser(
    operation: str, stream: bool, attributes: Callable[[dict[str, Any]], Attributes]
) -> Callable[[Any, dict[str, Any]], RequestInfo]:
    def parse(client: Any, kwargs: dict[str, Any]) -> RequestInfo:
        return _request(client, operation, kwargs, stream, attributes(kwargs))

    return parse


parse_chat_request = _request_parser(sc.OP_CHAT, False, chat_attributes)
parse_chat_stream_request = _request_parser(sc.OP_CHAT, True, chat_attributes)
parse_embed_request = _request_parser(sc.OP_EMBEDDINGS, False, embed_attributes)


# --------------------------------------------------------------------------- content


def _content_part(item: Any) -> MessagePart | None:
    kind = field(item, "type")
    if kind == "text":
        return text_part(field(item, "text") or "")
    if kind == "thinking":
        return {"type": "reasoning", "content": field(item, "thinking") or ""}
    if kind == "image_url":
        url = field(field(item, "image_url"), "url")
        return data_url_part(str(url), "image") if url else None
    return {"type": str(kind)}


def content_parts(content: Any) -> list[MessagePart]:
    """Cohere message content (text or a list of content items) as the conventions' message parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)] if content else []
    converted = (_content_part(item) for item in content)
    return [part for part in converted if part is not None]


def tool_call_parts(tool_calls: Any) -> list[MessagePart]:
    """v2 tool calls are Chat Completions' function calls."""
    return [
        tool_call_part(field(call, "id"), field(function, "name"), field(function, "arguments"))
        for call, function in ((call, field(call, "function")) for call in tool_calls or ())
    ]


def _tool_result(content: Any) -> Any:
    if content is None or isinstance(content, str):
        return content
    items = list(content)
    if all(field(item, "type") == "text" for item in items):
        return "".join(str(field(item, "text") or "") for item in items)
    results: list[Any] = []
    for item in items:
        if field(item, "type") == "document":
            document = field(item, "document")
            results.append(field(document, "data") if document is not None else None)
        else:
            results.append(field(item, "text"))
    return results


def _assistant_parts(message: Any) -> list[MessagePart]:
    """The tool plan (as reasoning), the content, then the tool calls."""
    plan = field(message, "tool_plan")
    parts: list[MessagePart] = [{"type": "reasoning", "content": plan}] if plan else []
    return parts + content_parts(field(message, "content")) + tool_call_parts(field(message, "tool_calls"))


def _message_parts(message: Any, role: str) -> list[MessagePart]:
    if role == "tool":
        return [
            {
                "type": "tool_call_response",
                "id": field(message, "tool_call_id"),
                "response": _tool_result(field(message, "content")),
            }
        ]
    if role == "assistant":
        return _assistant_parts(message)
    return content_parts(field(message, "content"))


def input_messages(messages: Any) -> list[ChatMessage]:
    result: list[ChatMessage] = []
    for message in messages or ():
        role = str(field(message, "role") or "user")
        result.append({"role": role, "parts": _message_parts(message, role)})
    return result


def parse_chat_content(kwargs: dict[str, Any]) -> RequestContent:
    # v2 tools are Chat Completions' function tools.
    return RequestContent(
        input_messages=input_messages(_arg(kwargs, "messages")),
        tool_definitions=tool_definitions(_arg(kwargs, "tools")),
    )


# --------------------------------------------------------------------------- responses


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) else None


def cohere_usage(usage: Any) -> Usage | None:
    """Usage (chat) or ApiMeta (embed): ``tokens`` preferred, ``billed_units`` as the fallback."""
    if usage is None:
        return None
    tokens = field(usage, "tokens")
    billed = field(usage, "billed_units")
    input_tokens = output_tokens = None
    for source in (tokens, billed):
        if source is None:
            continue
        if input_tokens is None:
            input_tokens = _int(field(source, "input_tokens"))
        if output_tokens is None:
            output_tokens = _int(field(source, "output_tokens"))
    cached = _int(field(usage, "cached_tokens"))
    if input_tokens is None and output_tokens is None and cached is None:
        return None
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens, cache_read_tokens=cached)


def _chat_info(
    response_id: Any, reason: str | None, usage: Any, capture: bool, parts: list[MessagePart] | None
) -> ResponseInfo:
    """A chat reply: a finish reason of ``error`` or ``timeout`` records the call as failed."""
    info = ResponseInfo(response_id=response_id, finish_reasons=[reason] if reason else None, usage=cohere_usage(usage))
    if reason in _FAILED:
        info.error_type = reason
    if capture and parts is not None:
        message: OutputMessage = {"role": "assistant", "parts": parts, "finish_reason": reason or "error"}
        info.output_messages = [message]
    return info


def _data(result: Any) -> Any:
    """The parsed body of the raw client's ``HttpResponse``."""
    return result.data if isinstance(result, (HttpResponse, AsyncHttpResponse)) else result


def parse_chat_response(result: Any, capture: bool) -> ResponseInfo:
    response = _data(result)
    parts = _assistant_parts(getattr(response, "message", None)) if capture else None
    return _chat_info(
        getattr(response, "id", None),
        finish_reason(getattr(response, "finish_reason", None)),
        getattr(response, "usage", None),
        capture,
        parts,
    )


def parse_embed_response(result: Any, capture: bool) -> ResponseInfo:
    response = _data(result)
    info = ResponseInfo(response_id=getattr(response, "id", None), usage=cohere_usage(getattr(response, "meta", None)))
    embeddings = getattr(response, "embeddings", None)
    vectors: Any = None
    if isinstance(embeddings, list):  # the "embeddings_floats" shape
        vectors = embeddings
    elif embeddings is not None:
        # One vector per input for each requested type; (u)binary vectors pack 8 dimensions a byte.
        for name in ("float_", "int8", "uint8"):
            vectors = getattr(embeddings, name, None)
            if vectors:
                break
    if vectors and isinstance(vectors[0], list):
        info.attributes = {sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: len(vectors[0])}
    return info


def _message(event: Any, name: str) -> Any:
    """``event.delta.message.<name>``, None wherever the chain stops."""
    return getattr(getattr(getattr(event, "delta", None), "message", None), name, None)


class _ToolCall:
    __slots__ = ("arguments", "id", "name")

    def __init__(self, call_id: Any = None, name: Any = None) -> None:
        self.id = call_id
        self.name = name
        self.arguments: list[str] = []

    def part(self) -> ToolCallPart:
        return tool_call_part(self.id, self.name, "".join(self.arguments))


class CohereChatStreamAccumulator:
    """v2 chat stream events -> ResponseInfo. Content is assembled only when capturing."""

    __slots__ = ("_capture", "_content", "_finish", "_id", "_plan", "_tools", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._id: str | None = None
        self._finish: Any = None
        self._usage: Any = None
        self._content: dict[int, list[Any]] = {}  # index -> [is thinking, text pieces]
        self._tools: dict[int, _ToolCall] = {}
        self._plan: list[str] = []

    def add(self, event: Any) -> bool:
        kind = event.type
        if kind == "content-delta":
            if self._capture:
                self._content_delta(event)
            return True
        if kind == "tool-call-delta" or kind == "tool-plan-delta":
            if self._capture:
                self._tool_delta(kind, event)
            return True
        if kind == "message-start":
            self._id = event.id
        elif kind == "message-end":
            delta = event.delta
            if delta is not None:
                self._finish = delta.finish_reason
                self._usage = delta.usage
        elif self._capture:
            self._start(kind, event)
        return False

    def _start(self, kind: str, event: Any) -> None:
        if kind == "content-start":
            content = _message(event, "content")
            entry = self._content.setdefault(event.index or 0, [False, []])
            entry[0] = getattr(content, "type", None) == "thinking"
        elif kind == "tool-call-start":
            call = _message(event, "tool_calls")
            function = getattr(call, "function", None)
            arguments = getattr(function, "arguments", None)
            tool = self._tools[event.index or 0] = _ToolCall(getattr(call, "id", None), getattr(function, "name", None))
            if arguments:
                tool.arguments.append(arguments)

    def _content_delta(self, event: Any) -> None:
        content = _message(event, "content")
        piece = getattr(content, "text", None) or getattr(content, "thinking", None)
        if piece:
            self._content.setdefault(event.index or 0, [False, []])[1].append(piece)

    def _tool_delta(self, kind: str, event: Any) -> None:
        if kind == "tool-plan-delta":
            plan = _message(event, "tool_plan")
            if plan:
                self._plan.append(plan)
            return
        function = getattr(_message(event, "tool_calls"), "function", None)
        if function is not None and function.arguments:
            tool = self._tools.get(event.index or 0)
            if tool is None:
                tool = self._tools[event.index or 0] = _ToolCall()
            tool.arguments.append(function.arguments)

    def _parts(self) -> list[MessagePart]:
        parts: list[MessagePart] = []
        if self._plan:
            parts.append({"type": "reasoning", "content": "".join(self._plan)})
        for index in sorted(self._content):
            thinking, pieces = self._content[index]
            text = "".join(pieces)
            parts.append({"type": "reasoning", "content": text} if thinking else text_part(text))
        parts.extend(self._tools[index].part() for index in sorted(self._tools))
        return parts

    def result(self) -> ResponseInfo:
        capture = self._capture and self._id is not None
        return _chat_info(
            self._id, finish_reason(self._finish), self._usage, capture, self._parts() if capture else None
        )


# --------------------------------------------------------------------------- errors and result kinds


# The class name (``TooManyRequestsError``, ...); for the catch-all ``ApiError``, its HTTP status.
error_type = status_error_type("ApiError")


def classify(result: Any) -> ResultKind:
    # Streams are observed through the raw client's chat_stream context manager, not classified.
    return ResultKind.VALUE


# --------------------------------------------------------------------------- wrap table

_RAW = "cohere.v2.raw_client"


def spec() -> ProviderSpec:
    response: dict[str, Any] = {
        "parse_response": parse_chat_response,
        "parse_content": parse_chat_content,
        "parse_template": chat_template(_arg),
    }
    chat = {**response, "parse_request": parse_chat_request}
    # chat_stream: a context manager that sends the request on enter and holds the event iterator in ``_data``.
    stream = {**response, "parse_request": parse_chat_stream_request, "accumulator": CohereChatStreamAccumulator}
    stream.update(stream_manager=True, raw_stream_attribute="_data")
    embed: dict[str, Any] = {"parse_request": parse_embed_request, "parse_response": parse_embed_response}
    endpoints = [
        Endpoint(_RAW, f"{cls}.{method}", is_async, **parsers)
        for cls, is_async in (("RawV2Client", False), ("AsyncRawV2Client", True))
        for method, parsers in (("chat", chat), ("chat_stream", stream), ("embed", embed))
    ]
    return ProviderSpec(sdk="cohere", endpoints=tuple(endpoints), classify=classify, error_type=error_type)
