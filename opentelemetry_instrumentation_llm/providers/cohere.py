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

from typing import Any

from cohere.core.http_response import AsyncHttpResponse, HttpResponse

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.records import (
    Attributes,
    RequestContent,
    RequestInfo,
    ResponseInfo,
    Usage,
)
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec, ResultKind, class_name_error_type
from opentelemetry_instrumentation_llm.providers._common import (
    ClientFactsCache,
    data_url_part,
    field,
    maybe_json,
    server_of,
    stop_sequences,
    text_part,
)

# finish_reason -> the conventions' finish reasons; anything else is lower-cased.
FINISH_REASONS = {"COMPLETE": "stop", "STOP_SEQUENCE": "stop", "MAX_TOKENS": "length", "TOOL_CALL": "tool_call"}
# Finish reasons that mean the generation failed although the call returned normally.
_FAILED = frozenset({"error", "timeout"})


def finish_reason(reason: Any) -> str | None:
    if reason is None:
        return None
    text = str(reason)
    return FINISH_REASONS.get(text, text.lower())


def _arg(kwargs: dict[str, Any], key: str) -> Any:
    """A keyword argument the user gave (the SDK's ``OMIT`` default is ``...``)."""
    value = kwargs.get(key)
    return None if value is None or value is ... else value


def _hook_service(wrapper: Any) -> tuple[str, str | None] | None:
    """(service, region) when the client's HTTP hooks re-address requests (the SDK's Bedrock,
    SageMaker and OCI clients keep a placeholder base URL and rewrite each request's URL)."""
    http = getattr(getattr(wrapper, "httpx_client", None), "httpx_client", None)
    hooks = getattr(http, "event_hooks", None)
    for hook in (hooks.get("request") or ()) if isinstance(hooks, dict) else ():
        module = getattr(hook, "__module__", "")
        if module == "cohere.oci_client":
            return "oci", None
        if module == "cohere.aws_client":
            code, cells = getattr(hook, "__code__", None), getattr(hook, "__closure__", None) or ()
            try:
                values = dict(zip(code.co_freevars if code is not None else (),
                                  (cell.cell_contents for cell in cells), strict=False))
            except ValueError:  # an empty closure cell
                values = {}
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

_CHAT_PARAMS = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("p", sc.GEN_AI_REQUEST_TOP_P),
    ("max_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("seed", sc.GEN_AI_REQUEST_SEED),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
)


def chat_attributes(kwargs: dict[str, Any]) -> Attributes:
    attrs: Attributes = {}
    for key, attribute in _CHAT_PARAMS:
        value = kwargs.get(key)
        if value is not None and value is not ...:
            attrs[attribute] = value
    k = _arg(kwargs, "k")
    if k is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_K] = int(k)
    stop = _arg(kwargs, "stop_sequences")
    if stop is not None:
        sequences = stop_sequences(stop)
        if sequences is not None:
            attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = sequences
    response_format = _arg(kwargs, "response_format")
    if response_format is not None:
        kind = field(response_format, "type")
        if kind in ("json_object", "json_schema"):
            attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"
        elif kind == "text":
            attrs[sc.GEN_AI_OUTPUT_TYPE] = "text"
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
    model = _arg(kwargs, "model")
    return RequestInfo(
        operation=operation,
        provider=provider,
        model=str(model) if model is not None else None,
        server_address=address,
        server_port=port,
        stream=stream,
        attributes=attrs,
    )


def parse_chat_request(client: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(client, sc.OP_CHAT, kwargs, False, chat_attributes(kwargs))


def parse_chat_stream_request(client: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(client, sc.OP_CHAT, kwargs, True, chat_attributes(kwargs))


def parse_embed_request(client: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(client, sc.OP_EMBEDDINGS, kwargs, False, embed_attributes(kwargs))


# --------------------------------------------------------------------------- content


def content_parts(content: Any) -> list[dict[str, Any]]:
    """Cohere message content (text or a list of content items) as the conventions' message parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)] if content else []
    parts: list[dict[str, Any]] = []
    for item in content:
        kind = field(item, "type")
        if kind == "text":
            parts.append(text_part(field(item, "text") or ""))
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": field(item, "thinking") or ""})
        elif kind == "image_url":
            url = field(field(item, "image_url"), "url")
            if url:
                parts.append(data_url_part(str(url), "image"))
        else:
            parts.append({"type": str(kind)})
    return parts


def tool_call_parts(tool_calls: Any) -> list[dict[str, Any]]:
    parts = []
    for call in tool_calls or ():
        function = field(call, "function")
        parts.append({"type": "tool_call", "id": field(call, "id"), "name": field(function, "name"),
                      "arguments": maybe_json(field(function, "arguments"))})
    return parts


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


def _assistant_parts(message: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    plan = field(message, "tool_plan")
    if plan:
        parts.append({"type": "reasoning", "content": plan})
    parts.extend(content_parts(field(message, "content")))
    parts.extend(tool_call_parts(field(message, "tool_calls")))
    return parts


def input_messages(messages: Any) -> list[dict[str, Any]]:
    result = []
    for message in messages or ():
        role = str(field(message, "role") or "user")
        if role == "tool":
            parts: list[dict[str, Any]] = [{"type": "tool_call_response", "id": field(message, "tool_call_id"),
                                            "response": _tool_result(field(message, "content"))}]
        elif role == "assistant":
            parts = _assistant_parts(message)
        else:
            parts = content_parts(field(message, "content"))
        result.append({"role": role, "parts": parts})
    return result


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    if not tools:
        return None
    definitions = []
    for tool in tools:
        function = field(tool, "function")
        definition: dict[str, Any] = {"type": field(tool, "type") or "function", "name": field(function, "name")}
        if field(function, "description"):
            definition["description"] = field(function, "description")
        if field(function, "parameters") is not None:
            definition["parameters"] = field(function, "parameters")
        definitions.append(definition)
    return definitions


def parse_chat_content(kwargs: dict[str, Any]) -> RequestContent:
    return RequestContent(input_messages=input_messages(_arg(kwargs, "messages")),
                          tool_definitions=tool_definitions(_arg(kwargs, "tools")))


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


def _finished(info: ResponseInfo, reason: str | None) -> None:
    if reason in _FAILED:
        info.error_type = reason


def _data(result: Any) -> Any:
    """The parsed body of the raw client's ``HttpResponse``."""
    return result.data if isinstance(result, (HttpResponse, AsyncHttpResponse)) else result


def parse_chat_response(result: Any, capture: bool) -> ResponseInfo:
    response = _data(result)
    reason = finish_reason(getattr(response, "finish_reason", None))
    info = ResponseInfo(
        response_id=getattr(response, "id", None),
        finish_reasons=[reason] if reason else None,
        usage=cohere_usage(getattr(response, "usage", None)),
    )
    _finished(info, reason)
    if capture:
        info.output_messages = [{"role": "assistant", "parts": _assistant_parts(getattr(response, "message", None)),
                                 "finish_reason": reason or "error"}]
    return info


def parse_embed_response(result: Any, capture: bool) -> ResponseInfo:
    response = _data(result)
    info = ResponseInfo(response_id=getattr(response, "id", None),
                        usage=cohere_usage(getattr(response, "meta", None)))
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


class ChatStreamAccumulator:
    """v2 chat stream events -> ResponseInfo. Content is assembled only when capturing."""

    __slots__ = ("_capture", "_content", "_finish", "_id", "_plan", "_tools", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._id: str | None = None
        self._finish: Any = None
        self._usage: Any = None
        self._content: dict[int, dict[str, Any]] = {}
        self._tools: dict[int, dict[str, Any]] = {}
        self._plan: list[str] = []

    def add(self, event: Any) -> bool:
        kind = event.type
        if kind == "content-delta":
            if self._capture:
                content = _message(event, "content")
                entry = self._content.setdefault(event.index or 0, {"kind": "text", "text": []})
                piece = getattr(content, "text", None) or getattr(content, "thinking", None)
                if piece:
                    entry["text"].append(piece)
            return True
        if kind == "tool-call-delta" or kind == "tool-plan-delta":
            if self._capture:
                self._capture_tool_delta(kind, event)
            return True
        if kind == "message-start":
            self._id = event.id
        elif kind == "message-end":
            delta = event.delta
            if delta is not None:
                self._finish = delta.finish_reason
                self._usage = delta.usage
        elif self._capture:
            if kind == "content-start":
                content = _message(event, "content")
                kind_of = "thinking" if getattr(content, "type", None) == "thinking" else "text"
                entry = self._content.setdefault(event.index or 0, {"kind": kind_of, "text": []})
                entry["kind"] = kind_of
            elif kind == "tool-call-start":
                call = _message(event, "tool_calls")
                function = getattr(call, "function", None)
                arguments = getattr(function, "arguments", None)
                self._tools[event.index or 0] = {"id": getattr(call, "id", None),
                                                 "name": getattr(function, "name", None),
                                                 "arguments": [arguments] if arguments else []}
        return False

    def _capture_tool_delta(self, kind: str, event: Any) -> None:
        if kind == "tool-plan-delta":
            plan = _message(event, "tool_plan")
            if plan:
                self._plan.append(plan)
            return
        function = getattr(_message(event, "tool_calls"), "function", None)
        if function is not None and function.arguments:
            entry = self._tools.setdefault(event.index or 0, {"id": None, "name": None, "arguments": []})
            entry["arguments"].append(function.arguments)

    def _parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if self._plan:
            parts.append({"type": "reasoning", "content": "".join(self._plan)})
        for index in sorted(self._content):
            entry = self._content[index]
            text = "".join(entry["text"])
            parts.append({"type": "reasoning", "content": text} if entry["kind"] == "thinking" else text_part(text))
        for index in sorted(self._tools):
            call = self._tools[index]
            parts.append({"type": "tool_call", "id": call["id"], "name": call["name"],
                          "arguments": maybe_json("".join(call["arguments"]))})
        return parts

    def result(self) -> ResponseInfo:
        reason = finish_reason(self._finish)
        info = ResponseInfo(response_id=self._id, finish_reasons=[reason] if reason else None,
                            usage=cohere_usage(self._usage))
        _finished(info, reason)
        if self._capture and self._id is not None:
            info.output_messages = [{"role": "assistant", "parts": self._parts(), "finish_reason": reason or "error"}]
        return info


# --------------------------------------------------------------------------- errors and result kinds


def error_type(exc: BaseException) -> str:
    """The class name (``TooManyRequestsError``, ...); for the catch-all ``ApiError``, its HTTP status."""
    if type(exc).__name__ == "ApiError":
        status = getattr(exc, "status_code", None)
        if isinstance(status, int):
            return str(status)
    return class_name_error_type(exc)


def classify(result: Any) -> ResultKind:
    # Streams are observed through the raw client's chat_stream context manager, not classified.
    return ResultKind.VALUE


# --------------------------------------------------------------------------- wrap table

_RAW = "cohere.v2.raw_client"


def spec() -> ProviderSpec:
    chat: dict[str, Any] = {"parse_request": parse_chat_request, "parse_response": parse_chat_response,
                            "parse_content": parse_chat_content}
    stream: dict[str, Any] = {**chat, "parse_request": parse_chat_stream_request,
                              "accumulator": ChatStreamAccumulator, "stream_manager": True,
                              "raw_stream_attribute": "_data"}
    embed: dict[str, Any] = {"parse_request": parse_embed_request, "parse_response": parse_embed_response}
    return ProviderSpec(
        sdk="cohere",
        endpoints=(
            Endpoint(_RAW, "RawV2Client.chat", False, **chat),
            Endpoint(_RAW, "AsyncRawV2Client.chat", True, **chat),
            # Context managers that send the request on enter and hold the event iterator in ``_data``.
            Endpoint(_RAW, "RawV2Client.chat_stream", False, **stream),
            Endpoint(_RAW, "AsyncRawV2Client.chat_stream", True, **stream),
            Endpoint(_RAW, "RawV2Client.embed", False, **embed),
            Endpoint(_RAW, "AsyncRawV2Client.embed", True, **embed),
        ),
        classify=classify,
        error_type=error_type,
    )
