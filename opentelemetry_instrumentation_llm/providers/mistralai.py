"""Mistral AI adapter (``mistralai`` 2.x/3.x, whose client lives in ``mistralai.client``): chat
``complete`` / ``stream`` and ``embeddings.create``, sync and async.

Mistral's wire format is close to OpenAI's chat completions, but its SDK is generated (Speakeasy):
optional arguments default to an ``UNSET`` sentinel, message content may be a list of Mistral's own
chunk types (``text``, ``image_url`` as a plain string, ``document_url``, ``thinking``, ...), tool-call
arguments may arrive as an object rather than JSON text, and ``random_seed`` is the seed. Streams are
``EventStream`` / ``EventStreamAsync`` objects yielding ``CompletionEvent``s whose ``.data`` is the
chunk; the last chunk carries the usage. Finish reasons are mapped to the conventions'
(``tool_calls`` -> ``tool_call``, ``model_length`` -> ``length``).

``chat.parse()`` / ``parse_stream()`` call ``complete`` / ``stream`` and are traced through them.
A generic ``SDKError`` (any 4xx/5xx without a dedicated class) is reported with its HTTP status
code as ``error.type``; other exceptions by class name.

This module imports the SDK, so it is imported only when the Mistral instrumentor is enabled.
"""

from __future__ import annotations

from typing import Any

from mistralai.client.types import UNSET
from mistralai.client.utils.eventstreaming import EventStream, EventStreamAsync

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
    data_url_part,
    field,
    given,
    maybe_json,
    server_of,
    text_part,
    type_classifier,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import (
    _arg,
    chat_request_attributes,
    register_sentinels,
)

_SENTINELS: tuple[type, ...] = (type(UNSET),)  # the SDK's default for arguments not given
register_sentinels(*_SENTINELS)

# Used when the SDK configuration names no server_url (the SDK's own SERVERS table).
_NAMED_SERVERS = {"global": "https://api.mistral.ai", "eu": "https://api.eu.mistral.ai",
                  "us": "https://api.us.mistral.ai"}

# finish_reason -> the conventions' finish reasons; unknown values pass through unchanged.
FINISH_REASONS = {"tool_calls": "tool_call", "model_length": "length"}


def finish_reason(reason: Any) -> str | None:
    if reason is None:
        return None
    text = str(reason)
    return FINISH_REASONS.get(text, text)


def _given(value: Any) -> Any:
    """``value`` unless it is None or the SDK's ``UNSET`` sentinel."""
    return given(value, _SENTINELS)


def _get(obj: Any, name: str) -> Any:
    """A field of a dict (request params) or of an SDK model (responses), UNSET read as None."""
    return given(field(obj, name), _SENTINELS)


# --------------------------------------------------------------------------- requests


def _server(resource: Any, kwargs: dict[str, Any]) -> tuple[str | None, int | None]:
    url = _arg(kwargs, "server_url")  # per-call override
    if url is None:
        config = getattr(resource, "sdk_configuration", None)
        if config is None:
            return None, None
        url = getattr(config, "server_url", None)
        if not url:
            url = _NAMED_SERVERS.get(getattr(config, "server", None) or "global")
    return server_of(url)


def chat_attributes(kwargs: dict[str, Any]) -> Attributes:
    """The shared chat-completions attributes, plus Mistral's ``random_seed`` and ``top_k``."""
    attrs = chat_request_attributes(kwargs)
    seed = _arg(kwargs, "random_seed")
    if seed is not None:
        attrs[sc.GEN_AI_REQUEST_SEED] = seed
    top_k = _arg(kwargs, "top_k")
    if top_k is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_K] = int(top_k)
    return attrs


def embeddings_attributes(kwargs: dict[str, Any]) -> Attributes:
    attrs: Attributes = {}
    formats = [str(v) for v in (_arg(kwargs, "encoding_format"), _arg(kwargs, "output_dtype")) if v is not None]
    if formats:
        attrs[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = list(dict.fromkeys(formats))
    dimension = _arg(kwargs, "output_dimension")
    if dimension is not None:
        attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimension
    return attrs


def _request(resource: Any, operation: str, kwargs: dict[str, Any], stream: bool,
             attrs: Attributes) -> RequestInfo:
    address, port = _server(resource, kwargs)
    model = _arg(kwargs, "model")
    return RequestInfo(
        operation=operation,
        provider=sc.PROVIDER_MISTRAL_AI,
        model=str(model) if model is not None else None,
        server_address=address,
        server_port=port,
        stream=stream,
        attributes=attrs,
    )


def parse_chat_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(resource, sc.OP_CHAT, kwargs, False, chat_attributes(kwargs))


def parse_chat_stream_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(resource, sc.OP_CHAT, kwargs, True, chat_attributes(kwargs))


def parse_embeddings_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(resource, sc.OP_EMBEDDINGS, kwargs, False, embeddings_attributes(kwargs))


# --------------------------------------------------------------------------- content


def _thinking_text(thinking: Any) -> str:
    if isinstance(thinking, str):
        return thinking
    return "".join(str(_get(chunk, "text") or "") for chunk in thinking or ())


def content_parts(content: Any) -> list[dict[str, Any]]:
    """Mistral message content (text or a list of chunks) as the conventions' message parts."""
    content = _given(content)
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)] if content else []  # tool-call replies carry content ""
    parts: list[dict[str, Any]] = []
    for chunk in content:
        kind = _get(chunk, "type")
        if kind == "text":
            parts.append(text_part(_get(chunk, "text") or ""))
        elif kind == "image_url":
            image = _get(chunk, "image_url")
            url = image if isinstance(image, str) else _get(image, "url")
            if url:
                parts.append(data_url_part(str(url), "image"))
        elif kind == "document_url":
            parts.append({"type": "uri", "modality": "document", "uri": _get(chunk, "document_url")})
        elif kind == "file":
            parts.append({"type": "file", "file_id": _get(chunk, "file_id")})
        elif kind == "input_audio":
            parts.append({"type": "blob", "modality": "audio", "content": _get(chunk, "input_audio")})
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": _thinking_text(_get(chunk, "thinking"))})
        else:
            parts.append({"type": str(kind)})
    return parts


def tool_call_parts(tool_calls: Any) -> list[dict[str, Any]]:
    parts = []
    for call in _given(tool_calls) or ():
        function = _get(call, "function")
        parts.append({"type": "tool_call", "id": _get(call, "id"), "name": _get(function, "name"),
                      "arguments": maybe_json(_get(function, "arguments"))})
    return parts


def input_messages(messages: Any) -> list[dict[str, Any]]:
    result = []
    for message in _given(messages) or ():
        role = _get(message, "role") or "user"
        if role == "tool":
            content = _get(message, "content")
            if not isinstance(content, str) and content is not None:
                texts = [p.get("content") for p in content_parts(content) if p.get("type") == "text"]
                content = "".join(str(t) for t in texts)
            parts: list[dict[str, Any]] = [{"type": "tool_call_response", "id": _get(message, "tool_call_id"),
                                            "response": content}]
        else:
            parts = content_parts(_get(message, "content"))
            parts.extend(tool_call_parts(_get(message, "tool_calls")))
        entry: dict[str, Any] = {"role": str(role), "parts": parts}
        name = _get(message, "name")
        if name:
            entry["name"] = name
        result.append(entry)
    return result


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    tools = _given(tools)
    if not tools:
        return None
    definitions = []
    for tool in tools:
        function = _get(tool, "function")
        definition: dict[str, Any] = {"type": _get(tool, "type") or "function", "name": _get(function, "name")}
        description = _get(function, "description")
        if description:
            definition["description"] = description
        parameters = _get(function, "parameters")
        if parameters is not None:
            definition["parameters"] = parameters
        definitions.append(definition)
    return definitions


def parse_chat_content(kwargs: dict[str, Any]) -> RequestContent:
    return RequestContent(input_messages=input_messages(_arg(kwargs, "messages")),
                          tool_definitions=tool_definitions(_arg(kwargs, "tools")))


# --------------------------------------------------------------------------- responses


def mistral_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    return Usage(input_tokens=_get(usage, "prompt_tokens"), output_tokens=_get(usage, "completion_tokens"))


def parse_chat_response(response: Any, capture: bool) -> ResponseInfo:
    choices = getattr(response, "choices", None) or ()
    reasons = [finish_reason(_get(c, "finish_reason")) for c in choices]
    info = ResponseInfo(
        response_id=getattr(response, "id", None),
        response_model=getattr(response, "model", None),
        finish_reasons=[r for r in reasons if r is not None],
        usage=mistral_usage(getattr(response, "usage", None)),
    )
    if capture:
        messages = []
        for choice, reason in zip(choices, reasons, strict=True):
            message = _get(choice, "message")
            parts = content_parts(_get(message, "content")) + tool_call_parts(_get(message, "tool_calls"))
            messages.append({"role": "assistant", "parts": parts, "finish_reason": reason or "error"})
        info.output_messages = messages
    return info


def parse_embeddings_response(response: Any, capture: bool) -> ResponseInfo:
    usage = getattr(response, "usage", None)
    info = ResponseInfo(
        response_id=getattr(response, "id", None),
        response_model=getattr(response, "model", None),
        usage=Usage(input_tokens=_get(usage, "prompt_tokens")) if usage is not None else None,
    )
    data = getattr(response, "data", None)
    if data:
        vector = _get(data[0], "embedding")
        if isinstance(vector, list):
            info.attributes = {sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: len(vector)}
    return info


class ChatStreamAccumulator:
    """``CompletionEvent``s -> ResponseInfo. Text and tool calls are kept only when capturing."""

    __slots__ = ("_capture", "_finish", "_id", "_messages", "_model", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._id: str | None = None
        self._model: str | None = None
        self._usage: Any = None
        self._finish: dict[int, str] = {}
        self._messages: dict[int, dict[str, Any]] = {}

    def add(self, event: Any) -> bool:
        chunk = event.data
        if self._id is None:
            self._id = chunk.id
            self._model = chunk.model
        usage = chunk.usage
        if usage is not None:
            self._usage = usage
        choices = chunk.choices
        if not choices:
            return False
        for choice in choices:
            reason = choice.finish_reason
            if reason is not None:
                self._finish[choice.index] = reason
            if self._capture:
                self._capture_delta(choice)
        return True

    def _capture_delta(self, choice: Any) -> None:
        message = self._messages.setdefault(choice.index, {"text": [], "parts": [], "tools": {}})
        delta = choice.delta
        content = _get(delta, "content")
        if isinstance(content, str):
            if content:
                message["text"].append(content)
        elif content is not None:
            for part in content_parts(content):
                if part.get("type") == "text":
                    message["text"].append(part["content"])
                else:
                    message["parts"].append(part)
        for position, call in enumerate(_get(delta, "tool_calls") or ()):
            index = _get(call, "index")
            key = index if isinstance(index, int) else position
            entry = message["tools"].setdefault(key, {"id": None, "name": None, "arguments": []})
            call_id = _get(call, "id")
            if call_id and call_id != "null":  # the SDK's default for a missing id is the text "null"
                entry["id"] = call_id
            function = _get(call, "function")
            if _get(function, "name"):
                entry["name"] = _get(function, "name")
            arguments = _get(function, "arguments")
            if arguments:
                entry["arguments"].append(arguments)

    def _output_message(self, index: int) -> dict[str, Any]:
        message = self._messages.get(index) or {"text": [], "parts": [], "tools": {}}
        parts: list[dict[str, Any]] = list(message["parts"])
        if message["text"]:
            parts.insert(0, text_part("".join(message["text"])))
        for _, call in sorted(message["tools"].items()):
            pieces = call["arguments"]
            if len(pieces) == 1 and not isinstance(pieces[0], str):
                arguments = pieces[0]  # already an object
            else:
                arguments = maybe_json("".join(str(p) for p in pieces))
            parts.append({"type": "tool_call", "id": call["id"], "name": call["name"], "arguments": arguments})
        return {"role": "assistant", "parts": parts, "finish_reason": finish_reason(self._finish.get(index)) or "error"}

    def result(self) -> ResponseInfo:
        if self._id is None:
            return ResponseInfo()
        reasons = [finish_reason(self._finish[i]) for i in sorted(self._finish)]
        info = ResponseInfo(
            response_id=self._id,
            response_model=self._model,
            finish_reasons=[r for r in reasons if r is not None],
            usage=mistral_usage(self._usage),
        )
        if self._capture:
            info.output_messages = [self._output_message(i) for i in sorted(set(self._messages) | set(self._finish))]
        return info


# --------------------------------------------------------------------------- errors and result kinds


def error_type(exc: BaseException) -> str:
    """The HTTP status code for the SDK's catch-all ``SDKError``; the class name otherwise."""
    if type(exc).__name__ == "SDKError":
        status = getattr(exc, "status_code", None)
        if isinstance(status, int):
            return str(status)
    return class_name_error_type(exc)


classify = type_classifier((EventStream, ResultKind.STREAM), (EventStreamAsync, ResultKind.ASYNC_STREAM))


# --------------------------------------------------------------------------- wrap table

# The SDK's Azure and Google Cloud clients (``mistralai.azure.client``, ``mistralai.gcp.client``) share
# these shapes but are not wrapped: patching them means importing them, which would add about 70 ms
# (Azure) and 140 ms (GCP, google-auth) to every application's first ``mistralai.client`` import.
_PACKAGE = "mistralai.client"  # mistralai 2.x+; 1.x kept these modules at the top level


def spec() -> ProviderSpec:
    chat, embeddings = f"{_PACKAGE}.chat", f"{_PACKAGE}.embeddings"
    endpoints = (
        Endpoint(chat, "Chat.complete", False, parse_chat_request, parse_chat_response, parse_chat_content),
        Endpoint(chat, "Chat.complete_async", True, parse_chat_request, parse_chat_response, parse_chat_content),
        Endpoint(chat, "Chat.stream", False, parse_chat_stream_request, parse_chat_response, parse_chat_content,
                 ChatStreamAccumulator),
        Endpoint(chat, "Chat.stream_async", True, parse_chat_stream_request, parse_chat_response,
                 parse_chat_content, ChatStreamAccumulator),
        Endpoint(embeddings, "Embeddings.create", False, parse_embeddings_request, parse_embeddings_response),
        Endpoint(embeddings, "Embeddings.create_async", True, parse_embeddings_request, parse_embeddings_response),
    )
    return ProviderSpec(sdk="mistralai", endpoints=endpoints, classify=classify, error_type=error_type)
