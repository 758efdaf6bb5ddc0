"""Ollama adapter (``ollama`` SDK): chat, generate, embed and the legacy embeddings call, streaming
and not, on ``Client`` and ``AsyncClient`` and on the module-level helpers (``ollama.chat(...)``).

The conventions list no provider value for Ollama; we report ``ollama`` (custom values are
allowed). Usage comes from ``prompt_eval_count`` (input) and ``eval_count`` (output), on the final
chunk of a stream. Ollama's ``done_reason`` (``stop``, ``length``, ``load``, ``unload``) is
reported as is; it is already in the conventions' vocabulary where it matters.

The module-level helpers are methods bound to a default client when ``ollama`` is imported, so
they are wrapped as module attributes as well as on the classes. A bound method keeps the original
function, so a call through either path is seen exactly once.

This module imports the SDK, so it is imported only when the Ollama instrumentor is enabled.
"""

from __future__ import annotations

from typing import Any

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.parts import (
    ChatMessage,
    MessagePart,
    OutputMessage,
    ToolDefinition,
    text_part,
)
from opentelemetry_instrumentation_llm._core.records import Attributes, RequestContent, RequestInfo, ResponseInfo, Usage
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec
from opentelemetry_instrumentation_llm.providers._common import (
    SAMPLING_PARAMS,
    ClientFactsCache,
    field,
    generator_classifier,
    positional_binder,
    request_info,
    server_of,
    set_if_not_none,
    status_error_type,
    stop_sequences,
)
from opentelemetry_instrumentation_llm.providers._templates import chat_template, keyed_template, plain_param

# --------------------------------------------------------------------------- requests


def _server(client: Any) -> tuple[str | None, int | None]:
    http = getattr(client, "_client", None)
    return server_of(getattr(http, "base_url", None))


_SERVERS = ClientFactsCache()

_OPTION_PARAMS = (*SAMPLING_PARAMS, ("top_k", sc.GEN_AI_REQUEST_TOP_K), ("num_predict", sc.GEN_AI_REQUEST_MAX_TOKENS))


def _request(client: Any, operation: str, params: dict[str, Any], attrs: Attributes) -> RequestInfo:
    server = _SERVERS(client, _server) if client is not None else (None, None)
    return request_info(
        operation, sc.PROVIDER_OLLAMA, params.get("model") or None, server, bool(params.get("stream")), attrs
    )


def _generation_attributes(params: dict[str, Any]) -> Attributes:
    attrs: Attributes = {}
    options = params.get("options")
    if options is not None:
        for key, attribute in _OPTION_PARAMS:
            set_if_not_none(attrs, attribute, field(options, key))
        stop = field(options, "stop")
        if stop:
            set_if_not_none(attrs, sc.GEN_AI_REQUEST_STOP_SEQUENCES, stop_sequences(stop))
    if params.get("format"):  # "json" or a JSON schema
        attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"
    return attrs


def parse_chat_request(client: Any, params: dict[str, Any]) -> RequestInfo:
    return _request(client, sc.OP_CHAT, params, _generation_attributes(params))


def parse_generate_request(client: Any, params: dict[str, Any]) -> RequestInfo:
    return _request(client, sc.OP_TEXT_COMPLETION, params, _generation_attributes(params))


def parse_embed_request(client: Any, params: dict[str, Any]) -> RequestInfo:
    attrs: Attributes = {}
    set_if_not_none(attrs, sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, params.get("dimensions"))
    return _request(client, sc.OP_EMBEDDINGS, params, attrs)


# --------------------------------------------------------------------------- content


def _tool_call_parts(tool_calls: Any) -> list[MessagePart]:
    """Ollama's tool calls carry no id, and their arguments are already an object."""
    parts: list[MessagePart] = []
    for call in tool_calls or ():
        function = field(call, "function")
        parts.append({"type": "tool_call", "name": field(function, "name"), "arguments": field(function, "arguments")})
    return parts


def _message_parts(message: Any) -> list[MessagePart]:
    parts: list[MessagePart] = []
    thinking = field(message, "thinking")
    if thinking:
        parts.append({"type": "reasoning", "content": thinking})
    content = field(message, "content")
    if content:
        parts.append(text_part(content))
    for image in field(message, "images") or ():
        value = image if isinstance(image, str) else field(image, "value")
        parts.append({"type": "blob", "modality": "image", "content": value if isinstance(value, str) else ""})
    parts.extend(_tool_call_parts(field(message, "tool_calls")))
    return parts


def _tool_definition(tool: Any) -> ToolDefinition:
    if callable(tool) and not isinstance(tool, dict):  # a Python function the SDK converts itself
        return {"type": "function", "name": getattr(tool, "__name__", "function")}
    function = field(tool, "function")
    definition: ToolDefinition = {"type": field(tool, "type") or "function", "name": field(function, "name")}
    if field(function, "description"):
        definition["description"] = field(function, "description")
    parameters = field(function, "parameters")
    if parameters is not None:
        dump = getattr(parameters, "model_dump", None)
        definition["parameters"] = dump(exclude_none=True) if dump is not None else parameters
    return definition


def _input_message(message: Any) -> ChatMessage:
    role = field(message, "role") or "user"
    if role == "tool":
        return {
            "role": "tool",
            "parts": [
                {"type": "tool_call_response", "id": field(message, "tool_name"), "response": field(message, "content")}
            ],
        }
    return {"role": role, "parts": _message_parts(message)}


def parse_chat_content(params: dict[str, Any]) -> RequestContent:
    """Input messages and tools; system messages stay in the history (as the conventions ask for
    instructions that travel as messages) and their text is also the call's system instructions."""
    messages = [_input_message(message) for message in params.get("messages") or ()]
    system: list[MessagePart] = [
        part
        for message in messages
        if message["role"] == "system"
        for part in message["parts"]
        if part["type"] == "text"
    ]
    tools = params.get("tools")
    return RequestContent(
        system_instructions=system or None,
        input_messages=messages,
        tool_definitions=[_tool_definition(tool) for tool in tools] if tools else None,
    )


def parse_generate_content(params: dict[str, Any]) -> RequestContent:
    system = params.get("system")
    prompt = params.get("prompt")
    return RequestContent(
        system_instructions=[text_part(system)] if system else None,
        input_messages=[{"role": "user", "parts": [text_part(prompt)]}] if prompt else [],
    )


# --------------------------------------------------------------------------- responses


def _usage(response: Any) -> Usage | None:
    input_tokens = field(response, "prompt_eval_count")
    output_tokens = field(response, "eval_count")
    if input_tokens is None and output_tokens is None:
        return None
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)


def _info(response: Any) -> ResponseInfo:
    reason = field(response, "done_reason")
    return ResponseInfo(
        response_model=field(response, "model"), finish_reasons=[reason] if reason else None, usage=_usage(response)
    )


def _output_message(parts: list[MessagePart], response: Any) -> OutputMessage:
    return {"role": "assistant", "parts": parts, "finish_reason": field(response, "done_reason") or "error"}


def parse_chat_response(response: Any, capture: bool) -> ResponseInfo:
    info = _info(response)
    if capture:
        info.output_messages = [_output_message(_message_parts(field(response, "message")), response)]
    return info


def parse_generate_response(response: Any, capture: bool) -> ResponseInfo:
    info = _info(response)
    if capture:
        parts: list[MessagePart] = []
        if field(response, "thinking"):
            parts.append({"type": "reasoning", "content": field(response, "thinking")})
        parts.append(text_part(field(response, "response") or ""))
        info.output_messages = [_output_message(parts, response)]
    return info


def parse_embed_response(response: Any, capture: bool) -> ResponseInfo:
    info = ResponseInfo(response_model=field(response, "model"))
    count = field(response, "prompt_eval_count")
    if count is not None:
        info.usage = Usage(input_tokens=count)
    vectors = field(response, "embeddings")
    vector = vectors[0] if vectors else field(response, "embedding")  # embed / legacy embeddings
    if vector:
        info.attributes = {sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: len(vector)}
    return info


class _OllamaStreamAccumulator:
    """NDJSON chunks -> ResponseInfo; the final chunk (``done``) carries the reason and usage."""

    __slots__ = ("_capture", "_last", "_text", "_thinking", "_tools")
    _chat = True

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._last: Any = None
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._tools: list[Any] = []

    def add(self, chunk: Any) -> bool:
        self._last = chunk
        if self._chat:
            message = chunk.message
            text, thinking, tools = message.content, message.thinking, message.tool_calls
        else:
            text, thinking, tools = chunk.response, chunk.thinking, None
        if not (text or thinking or tools):
            return False
        if self._capture:
            if text:
                self._text.append(text)
            if thinking:
                self._thinking.append(thinking)
            if tools:
                self._tools.extend(tools)
        return True

    def result(self) -> ResponseInfo:
        last = self._last
        if last is None:
            return ResponseInfo()
        info = _info(last) if last.done else ResponseInfo(response_model=last.model)
        if self._capture:
            parts: list[MessagePart] = []
            if self._thinking:
                parts.append({"type": "reasoning", "content": "".join(self._thinking)})
            if self._text or not self._tools:
                parts.append(text_part("".join(self._text)))
            parts.extend(_tool_call_parts(self._tools))
            info.output_messages = [_output_message(parts, last)]
        return info


class OllamaChatStreamAccumulator(_OllamaStreamAccumulator):
    """``chat`` stream chunks, whose output is in ``message``."""

    __slots__ = ()


class OllamaGenerateStreamAccumulator(_OllamaStreamAccumulator):
    """``generate`` stream chunks, whose output is in ``response``."""

    __slots__ = ()
    _chat = False


# --------------------------------------------------------------------------- errors and results


# ``ResponseError`` carries the HTTP status (404: model not pulled, ...): it is reported when known.
error_type = status_error_type("ResponseError")


classify = generator_classifier


# --------------------------------------------------------------------------- wrap table

_METHODS: dict[str, dict[str, Any]] = {
    "chat": {
        "parse_request": parse_chat_request,
        "parse_response": parse_chat_response,
        "parse_content": parse_chat_content,
        "parse_template": chat_template(plain_param),
        "accumulator": OllamaChatStreamAccumulator,
        "params": positional_binder("model", "messages"),
    },
    "generate": {
        "parse_request": parse_generate_request,
        "parse_response": parse_generate_response,
        "parse_content": parse_generate_content,
        "parse_template": keyed_template(plain_param, "system"),
        "accumulator": OllamaGenerateStreamAccumulator,
        "params": positional_binder("model", "prompt", "suffix"),
    },
    "embed": {
        "parse_request": parse_embed_request,
        "parse_response": parse_embed_response,
        "params": positional_binder("model", "input", "truncate", "options", "keep_alive", "dimensions"),
    },
    "embeddings": {
        "parse_request": parse_embed_request,
        "parse_response": parse_embed_response,
        "params": positional_binder("model", "prompt", "options", "keep_alive"),
    },
}


def spec() -> ProviderSpec:
    endpoints = []
    for method, parsers in _METHODS.items():
        endpoints.append(Endpoint("ollama._client", f"Client.{method}", False, **parsers))
        endpoints.append(Endpoint("ollama._client", f"AsyncClient.{method}", True, **parsers))
        endpoints.append(Endpoint("ollama", method, False, **parsers))  # ollama.chat(...) & co.
    return ProviderSpec(sdk="ollama", endpoints=tuple(endpoints), classify=classify, error_type=error_type)
