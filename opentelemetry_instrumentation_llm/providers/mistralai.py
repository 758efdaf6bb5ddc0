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
from opentelemetry_instrumentation_llm._core.parts import (
    ChatMessage,
    MessagePart,
    OutputMessage,
    data_url_part,
    text_part,
)
from opentelemetry_instrumentation_llm._core.records import Attributes, RequestContent, ResponseInfo, Usage
from opentelemetry_instrumentation_llm._core.spec import ProviderSpec, ResultKind
from opentelemetry_instrumentation_llm.providers._common import (
    Arguments,
    FinishReasons,
    Server,
    endpoint_pair,
    request_parser,
    server_of,
    status_error_type,
    type_classifier,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import (
    ChatCompletionsRequests,
    ChatCompletionsStreamAccumulator,
    parse_embeddings_response,
    tool_call_part,
    tool_definitions,
)
from opentelemetry_instrumentation_llm.providers._templates import chat_template

# Reads a dict (request params) or an SDK model (responses) field, the SDK's UNSET read as None.
_given = Arguments(type(UNSET))
_param = _given.param
_chat = ChatCompletionsRequests(_given)

# Used when the SDK configuration names no server_url (the SDK's own SERVERS table).
_NAMED_SERVERS = {
    "global": "https://api.mistral.ai",
    "eu": "https://api.eu.mistral.ai",
    "us": "https://api.us.mistral.ai",
}

# finish_reason -> the conventions' finish reasons; unknown values pass through unchanged.
finish_reason = FinishReasons({"tool_calls": "tool_call", "model_length": "length"}, coerce=True)


# --------------------------------------------------------------------------- requests


def _server(resource: Any, kwargs: dict[str, Any]) -> Server:
    url = _param(kwargs, "server_url")  # per-call override
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
    attrs = _chat.chat_attributes(kwargs)
    seed = _param(kwargs, "random_seed")
    if seed is not None:
        attrs[sc.GEN_AI_REQUEST_SEED] = seed
    top_k = _param(kwargs, "top_k")
    if top_k is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_K] = int(top_k)
    return attrs


def embeddings_attributes(kwargs: dict[str, Any]) -> Attributes:
    attrs: Attributes = {}
    formats = [str(v) for v in (_param(kwargs, "encoding_format"), _param(kwargs, "output_dtype")) if v is not None]
    if formats:
        attrs[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = list(dict.fromkeys(formats))
    dimension = _param(kwargs, "output_dimension")
    if dimension is not None:
        attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimension
    return attrs


parse_chat_request = request_parser(sc.OP_CHAT, sc.PROVIDER_MISTRAL_AI, _server, chat_attributes, _param, stream=False)
parse_chat_stream_request = request_parser(
    sc.OP_CHAT, sc.PROVIDER_MISTRAL_AI, _server, chat_attributes, _param, stream=True
)
parse_embeddings_request = request_parser(
    sc.OP_EMBEDDINGS, sc.PROVIDER_MISTRAL_AI, _server, embeddings_attributes, _param, stream=False
)


# --------------------------------------------------------------------------- content


def _thinking_text(thinking: Any) -> str:
    if isinstance(thinking, str):
        return thinking
    return "".join(str(_given(chunk, "text") or "") for chunk in thinking or ())


def _image_part(chunk: Any) -> MessagePart | None:
    image = _given(chunk, "image_url")
    url = image if isinstance(image, str) else _given(image, "url")  # a plain URL, or {"url": ...}
    return data_url_part(str(url), "image") if url else None


def _content_part(chunk: Any) -> MessagePart | None:
    kind = _given(chunk, "type")
    if kind == "text":
        return text_part(_given(chunk, "text") or "")
    if kind == "image_url":
        return _image_part(chunk)
    if kind == "document_url":
        return {"type": "uri", "modality": "document", "uri": _given(chunk, "document_url")}
    if kind == "file":
        return {"type": "file", "modality": "document", "file_id": _given(chunk, "file_id")}
    if kind == "input_audio":
        return {"type": "blob", "modality": "audio", "content": _given(chunk, "input_audio")}
    if kind == "thinking":
        return {"type": "reasoning", "content": _thinking_text(_given(chunk, "thinking"))}
    return {"type": str(kind)}


def content_parts(content: Any) -> list[MessagePart]:
    """Mistral message content (text or a list of chunks) as the conventions' message parts."""
    content = _given.given(content)
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)] if content else []  # tool-call replies carry content ""
    return [part for part in map(_content_part, content) if part is not None]


def tool_call_parts(tool_calls: Any) -> list[MessagePart]:
    parts: list[MessagePart] = []
    for call in _given.given(tool_calls) or ():
        function = _given(call, "function")
        parts.append(tool_call_part(_given(call, "id"), _given(function, "name"), _given(function, "arguments")))
    return parts


def _tool_response_text(content: Any) -> Any:
    """A tool message's content as text (Mistral allows a list of chunks there too)."""
    if isinstance(content, str) or content is None:
        return content
    return "".join(str(p.get("content")) for p in content_parts(content) if p["type"] == "text")


def _input_message(message: Any) -> ChatMessage:
    role = str(_given(message, "role") or "user")
    if role == "tool":
        parts: list[MessagePart] = [
            {
                "type": "tool_call_response",
                "id": _given(message, "tool_call_id"),
                "response": _tool_response_text(_given(message, "content")),
            }
        ]
    else:
        parts = content_parts(_given(message, "content")) + tool_call_parts(_given(message, "tool_calls"))
    entry: ChatMessage = {"role": role, "parts": parts}
    name = _given(message, "name")
    if name:
        entry["name"] = name
    return entry


def input_messages(messages: Any) -> list[ChatMessage]:
    return [_input_message(message) for message in _given.given(messages) or ()]


def parse_chat_content(kwargs: dict[str, Any]) -> RequestContent:
    return RequestContent(
        input_messages=input_messages(_param(kwargs, "messages")),
        tool_definitions=tool_definitions(_param(kwargs, "tools"), _given),
    )


# --------------------------------------------------------------------------- responses


def mistral_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    return Usage(input_tokens=_given(usage, "prompt_tokens"), output_tokens=_given(usage, "completion_tokens"))


def _output_message(message: Any, reason: str | None) -> OutputMessage:
    parts = content_parts(_given(message, "content")) + tool_call_parts(_given(message, "tool_calls"))
    return {"role": "assistant", "parts": parts, "finish_reason": reason or "error"}


def parse_chat_response(response: Any, capture: bool) -> ResponseInfo:
    choices = getattr(response, "choices", None) or ()
    reasons = [finish_reason(_given(c, "finish_reason")) for c in choices]
    info = ResponseInfo(
        response_id=getattr(response, "id", None),
        response_model=getattr(response, "model", None),
        finish_reasons=[r for r in reasons if r is not None],
        usage=mistral_usage(getattr(response, "usage", None)),
    )
    if capture:
        info.output_messages = [
            _output_message(_given(choice, "message"), reason) for choice, reason in zip(choices, reasons, strict=True)
        ]
    return info


class MistralChatStreamAccumulator(ChatCompletionsStreamAccumulator):
    """``CompletionEvent``s (whose ``.data`` is a chat chunk) -> ResponseInfo.

    Mistral's deltas differ from OpenAI's: content may be a list of chunks, a tool call arrives
    whole (its arguments possibly an object) and may lack an index, finish reasons are mapped.
    """

    __slots__ = ()

    def add(self, event: Any) -> bool:
        return ChatCompletionsStreamAccumulator.add(self, event.data)

    def _capture_delta(self, choice: Any) -> None:
        message = self._messages.setdefault(choice.index, {"text": [], "parts": [], "tools": {}})
        delta = choice.delta
        for part in content_parts(_given(delta, "content")):
            if part["type"] == "text":
                message["text"].append(part.get("content"))
            else:
                message["parts"].append(part)
        for position, call in enumerate(_given(delta, "tool_calls") or ()):
            index = _given(call, "index")
            entry = message["tools"].setdefault(
                index if isinstance(index, int) else position, {"id": None, "name": None, "arguments": []}
            )
            call_id = _given(call, "id")
            if call_id and call_id != "null":  # the SDK's default for a missing id is the text "null"
                entry["id"] = call_id
            function = _given(call, "function")
            entry["name"] = _given(function, "name") or entry["name"]
            arguments = _given(function, "arguments")
            if arguments:
                entry["arguments"].append(arguments)

    def result(self) -> ResponseInfo:
        info = super().result()
        if info.finish_reasons:
            info.finish_reasons = [r for r in map(finish_reason, info.finish_reasons) if r is not None]
        info.usage = mistral_usage(self._usage)
        return info

    def _output_message(self, index: int) -> OutputMessage:
        message = self._messages.get(index) or {"text": [], "parts": [], "tools": {}}
        parts: list[MessagePart] = list(message["parts"])
        if message["text"]:
            parts.insert(0, text_part("".join(message["text"])))
        for _, call in sorted(message["tools"].items()):
            pieces = call["arguments"]
            # Already an object when it came whole; JSON text (maybe in pieces) otherwise.
            arguments = pieces[0] if len(pieces) == 1 and not isinstance(pieces[0], str) else "".join(map(str, pieces))
            parts.append(tool_call_part(call["id"], call["name"], arguments))
        return {"role": "assistant", "parts": parts, "finish_reason": finish_reason(self._finish.get(index)) or "error"}


# --------------------------------------------------------------------------- errors and result kinds


# A generic ``SDKError`` (any 4xx/5xx without a dedicated class) is reported by its HTTP status code.
error_type = status_error_type("SDKError")


classify = type_classifier((EventStream, ResultKind.STREAM), (EventStreamAsync, ResultKind.ASYNC_STREAM))


# --------------------------------------------------------------------------- wrap table

# The SDK's Azure and Google Cloud clients (``mistralai.azure.client``, ``mistralai.gcp.client``) share
# these shapes but are not wrapped: patching them means importing them, which would add about 70 ms
# (Azure) and 140 ms (GCP, google-auth) to every application's first ``mistralai.client`` import.
_PACKAGE = "mistralai.client"  # mistralai 2.x+; 1.x kept these modules at the top level


def spec() -> ProviderSpec:
    chat, embeddings = f"{_PACKAGE}.chat", f"{_PACKAGE}.embeddings"
    complete = {
        "parse_request": parse_chat_request,
        "parse_response": parse_chat_response,
        "parse_content": parse_chat_content,
        "parse_template": chat_template(_given.param),
    }
    stream = {**complete, "parse_request": parse_chat_stream_request, "accumulator": MistralChatStreamAccumulator}
    endpoints = (
        *endpoint_pair(chat, "Chat.complete", "Chat.complete_async", **complete),
        *endpoint_pair(chat, "Chat.stream", "Chat.stream_async", **stream),
        *endpoint_pair(
            embeddings,
            "Embeddings.create",
            "Embeddings.create_async",
            parse_request=parse_embeddings_request,
            parse_response=parse_embeddings_response,
        ),
    )
    return ProviderSpec(sdk="mistralai", endpoints=endpoints, classify=classify, error_type=error_type)
