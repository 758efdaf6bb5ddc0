"""The Chat Completions and Embeddings wire shapes, shared by every SDK that speaks them.

OpenAI's chat format is the lingua franca of LLM APIs: the ``openai``, ``groq`` and ``litellm``
adapters (and servers reached through ``base_url``) all map through here. Nothing in this module
imports an SDK; each adapter registers its SDK's "not given" sentinel types with
:func:`register_sentinels` so that defaults the SDK fills in are not mistaken for user choices.
Provider-specific attributes (``openai.*``) stay in the provider's own adapter.
"""

from __future__ import annotations

from typing import Any

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.records import (
    Attributes,
    RequestContent,
    ResponseInfo,
    Usage,
)
from opentelemetry_instrumentation_llm._core.parts import data_url_part, text_part
from opentelemetry_instrumentation_llm.providers._common import (
    field,
    maybe_json,
    put,
    stop_sequences,
)

SENTINEL_TYPES: set[type] = set()


def register_sentinels(*types: type) -> None:
    """Declare an SDK's "argument not given" sentinel classes (``NotGiven``, ``Omit``)."""
    SENTINEL_TYPES.update(types)


def _arg(kwargs: dict[str, Any], key: str) -> Any:
    """A keyword argument the user actually gave (SDK helpers pass ``omit``/``NOT_GIVEN`` sentinels)."""
    value = kwargs.get(key)
    return None if value is None or type(value) in SENTINEL_TYPES else value


def chat_request_attributes(kwargs: dict[str, Any]) -> Attributes:
    """The provider-neutral request attributes of a chat-completions call."""
    attrs: Attributes = {}
    _copy_params(kwargs, _CHAT_PARAMS, attrs)
    max_tokens = _arg(kwargs, "max_completion_tokens")
    if max_tokens is None:
        max_tokens = _arg(kwargs, "max_tokens")
    put(attrs, sc.GEN_AI_REQUEST_MAX_TOKENS, max_tokens)
    _common_tail(kwargs, attrs)
    output_type = _output_type(_arg(kwargs, "response_format"))
    modalities = _arg(kwargs, "modalities")
    if modalities is not None and "audio" in modalities:
        output_type = "speech"
    put(attrs, sc.GEN_AI_OUTPUT_TYPE, output_type)
    return attrs


def embeddings_request_attributes(kwargs: dict[str, Any]) -> Attributes:
    attrs: Attributes = {}
    encoding = _arg(kwargs, "encoding_format")
    if encoding is not None:
        attrs[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
    put(attrs, sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, _arg(kwargs, "dimensions"))
    return attrs


def chat_response_info(response: Any, capture: bool) -> ResponseInfo:
    """A chat completion (object or dict) -> ResponseInfo, without provider-specific attributes."""
    choices = field(response, "choices") or ()
    info = ResponseInfo(
        response_id=field(response, "id"),
        response_model=field(response, "model"),
        finish_reasons=[r for r in (field(c, "finish_reason") for c in choices) if r is not None],
        usage=chat_usage(field(response, "usage")),
    )
    if capture:
        info.output_messages = [_chat_output_message(field(c, "message"), field(c, "finish_reason"))
                                for c in choices]
    return info


# (kwarg, attribute) pairs copied as-is when given.
_CHAT_PARAMS = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", sc.GEN_AI_REQUEST_SEED),
    ("reasoning_effort", sc.GEN_AI_REQUEST_REASONING_LEVEL),
)
def _copy_params(kwargs: dict[str, Any], pairs: tuple[tuple[str, str], ...], attrs: Attributes) -> None:
    for key, attribute in pairs:
        value = kwargs.get(key)
        if value is not None and type(value) not in SENTINEL_TYPES:
            attrs[attribute] = value


def _common_tail(kwargs: dict[str, Any], attrs: Attributes) -> None:
    stop = _arg(kwargs, "stop")
    if stop is not None:
        put(attrs, sc.GEN_AI_REQUEST_STOP_SEQUENCES, stop_sequences(stop))
    n = _arg(kwargs, "n")
    if n is not None and n != 1:
        attrs[sc.GEN_AI_REQUEST_CHOICE_COUNT] = n


def _output_type(format_spec: Any) -> str | None:
    """``gen_ai.output.type`` from a response_format / text.format value or a parse() target class."""
    if format_spec is None:
        return None
    if isinstance(format_spec, type):  # parse(response_format=PydanticModel)
        return "json"
    kind = field(format_spec, "type")
    if kind in ("json_object", "json_schema"):
        return "json"
    if kind == "text":
        return "text"
    return None


def _chat_content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[dict[str, Any]] = []
    for item in content:
        kind = field(item, "type")
        if kind == "text":
            parts.append(text_part(field(item, "text") or ""))
        elif kind == "image_url":
            url = field(field(item, "image_url"), "url")
            if url:
                parts.append(data_url_part(url, "image"))
        elif kind == "input_audio":
            audio = field(item, "input_audio")
            fmt = field(audio, "format")
            part = {"type": "blob", "modality": "audio", "content": field(audio, "data")}
            if fmt:
                part["mime_type"] = f"audio/{fmt}"
            parts.append(part)
        elif kind == "file":
            file = field(item, "file")
            file_id = field(file, "file_id")
            if file_id:
                parts.append({"type": "file", "modality": "document", "file_id": file_id})
            else:
                parts.append({"type": "blob", "modality": "document", "content": field(file, "file_data")})
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": field(item, "refusal")})
        else:
            parts.append({"type": str(kind)})
    return parts


def _tool_call_parts(tool_calls: Any) -> list[dict[str, Any]]:
    parts = []
    for call in tool_calls or ():
        function = field(call, "function")
        parts.append({
            "type": "tool_call",
            "id": field(call, "id"),
            "name": field(function, "name") if function is not None else field(call, "type"),
            "arguments": maybe_json(field(function, "arguments")) if function is not None else None,
        })
    return parts


def chat_input_messages(messages: Any) -> list[dict[str, Any]]:
    result = []
    for message in messages or ():
        role = field(message, "role") or "user"
        if role in ("tool", "function"):
            parts: list[dict[str, Any]] = [{
                "type": "tool_call_response",
                "id": field(message, "tool_call_id"),
                "response": field(message, "content"),
            }]
        else:
            parts = _chat_content_parts(field(message, "content"))
            parts.extend(_tool_call_parts(field(message, "tool_calls")))
            function_call = field(message, "function_call")
            if function_call is not None:
                parts.append({"type": "tool_call", "name": field(function_call, "name"),
                              "arguments": maybe_json(field(function_call, "arguments"))})
        entry: dict[str, Any] = {"role": role, "parts": parts}
        name = field(message, "name")
        if name:
            entry["name"] = name
        result.append(entry)
    return result


def _tool_definition(tool: Any) -> dict[str, Any]:
    kind = field(tool, "type") or "function"
    function = field(tool, "function")  # chat: {"type": "function", "function": {...}}
    source = function if function is not None else tool  # responses: flat {"type": "function", "name": ...}
    definition: dict[str, Any] = {"type": kind, "name": field(source, "name") or kind}
    description = field(source, "description")
    if description:
        definition["description"] = description
    parameters = field(source, "parameters")
    if parameters is not None:
        definition["parameters"] = parameters
    return definition


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    if not tools:
        return None
    return [_tool_definition(tool) for tool in tools]


def parse_chat_content(kwargs: dict[str, Any]) -> RequestContent:
    return RequestContent(
        input_messages=chat_input_messages(_arg(kwargs, "messages")),
        tool_definitions=tool_definitions(_arg(kwargs, "tools")),
    )


_FINISH_TO_SEMCONV = {"tool_calls": "tool_call", "function_call": "tool_call"}


UsageKeys = tuple[str, str, str, str]  # input, output, input details, output details


def usage_keys(prefix_in: str, prefix_out: str) -> UsageKeys:
    return (f"{prefix_in}_tokens", f"{prefix_out}_tokens", f"{prefix_in}_tokens_details",
            f"{prefix_out}_tokens_details")


def token_usage(usage: Any, keys: UsageKeys) -> Usage | None:
    """OpenAI-style usage: input/output counts with their ``*_tokens_details`` (``prompt``/``completion``
    for chat completions, ``input``/``output`` for the Responses API)."""
    if usage is None:
        return None
    input_key, output_key, in_details_key, out_details_key = keys
    in_details = field(usage, in_details_key)
    out_details = field(usage, out_details_key)
    return Usage(
        input_tokens=field(usage, input_key),
        output_tokens=field(usage, output_key),
        cache_read_tokens=field(in_details, "cached_tokens") if in_details is not None else None,
        cache_write_tokens=field(in_details, "cache_write_tokens") if in_details is not None else None,
        reasoning_tokens=field(out_details, "reasoning_tokens") if out_details is not None else None,
    )


_CHAT_USAGE = usage_keys("prompt", "completion")


def chat_usage(usage: Any) -> Usage | None:
    return token_usage(usage, _CHAT_USAGE)


def _chat_output_message(message: Any, finish_reason: str | None) -> dict[str, Any]:
    parts = _chat_content_parts(field(message, "content"))
    refusal = field(message, "refusal")
    if refusal:
        parts.append({"type": "refusal", "content": refusal})
    parts.extend(_tool_call_parts(field(message, "tool_calls")))
    audio = field(message, "audio")
    if audio is not None and field(audio, "transcript"):
        parts.append(text_part(field(audio, "transcript")))
    reason = finish_reason or "error"
    return {"role": field(message, "role") or "assistant", "parts": parts,
            "finish_reason": _FINISH_TO_SEMCONV.get(reason, reason)}


def parse_embeddings_response(response: Any, capture: bool) -> ResponseInfo:
    usage = getattr(response, "usage", None)
    info = ResponseInfo(
        response_model=getattr(response, "model", None),
        usage=Usage(input_tokens=field(usage, "prompt_tokens")) if usage is not None else None,
    )
    data = getattr(response, "data", None)
    if data:
        vector = getattr(data[0], "embedding", None)
        if isinstance(vector, list):
            info.attributes = {sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: len(vector)}
    return info


def _no_vendor_attributes(response: Any, info: ResponseInfo) -> None:
    return None


class ChatStreamAccumulator:
    """Chat completion chunks -> ResponseInfo. Keeps text and tool-call deltas only when capturing.

    Subclasses set ``_vendor_attributes`` to add their provider's response attributes.
    """

    _vendor_attributes = staticmethod(_no_vendor_attributes)

    __slots__ = ("_capture", "_finish", "_first", "_last_usage_chunk", "_messages", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._first: Any = None
        self._usage: Any = None
        self._last_usage_chunk: Any = None
        self._finish: dict[int, str] = {}
        self._messages: dict[int, dict[str, Any]] = {}

    def add(self, chunk: Any) -> bool:
        if self._first is None:
            self._first = chunk
        usage = getattr(chunk, "usage", None)  # absent, not None, on litellm's chunks
        if usage is not None:
            self._usage = usage
            self._last_usage_chunk = chunk
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
        message = self._messages.setdefault(choice.index, {"text": [], "refusal": [], "tools": {}})
        delta = choice.delta
        if delta is None:
            return
        if delta.content:
            message["text"].append(delta.content)
        if getattr(delta, "refusal", None):
            message["refusal"].append(delta.refusal)
        for call in delta.tool_calls or ():
            entry = message["tools"].setdefault(call.index, {"id": None, "name": None, "arguments": []})
            if call.id:
                entry["id"] = call.id
            function = call.function
            if function is not None:
                if function.name:
                    entry["name"] = function.name
                if function.arguments:
                    entry["arguments"].append(function.arguments)

    def result(self) -> ResponseInfo:
        first = self._first
        if first is None:
            return ResponseInfo()
        info = ResponseInfo(
            response_id=first.id,
            response_model=first.model,
            finish_reasons=[self._finish[i] for i in sorted(self._finish)],
            usage=chat_usage(self._usage),
        )
        self._vendor_attributes(self._last_usage_chunk or first, info)
        if self._capture:
            info.output_messages = [self._output_message(i) for i in sorted(self._messages)]
        return info

    def _output_message(self, index: int) -> dict[str, Any]:
        message = self._messages[index]
        parts: list[dict[str, Any]] = []
        if message["text"]:
            parts.append(text_part("".join(message["text"])))
        if message["refusal"]:
            parts.append({"type": "refusal", "content": "".join(message["refusal"])})
        for _, call in sorted(message["tools"].items()):
            parts.append({"type": "tool_call", "id": call["id"], "name": call["name"],
                          "arguments": maybe_json("".join(call["arguments"]))})
        reason = self._finish.get(index, "error")
        return {"role": "assistant", "parts": parts, "finish_reason": _FINISH_TO_SEMCONV.get(reason, reason)}


