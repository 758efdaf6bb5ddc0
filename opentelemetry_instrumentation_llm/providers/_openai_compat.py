"""The Chat Completions and Embeddings wire shapes, shared by every SDK that speaks them.

OpenAI's chat format is the lingua franca of LLM APIs: the ``openai``, ``groq``, ``mistralai`` and
``litellm`` adapters (and servers reached through ``base_url``) all map through here. Nothing in
this module imports an SDK: each adapter builds one :class:`ChatCompletionsRequests` with its SDK's
"not given" sentinel types, so that defaults the SDK fills in are not mistaken for user choices.
Provider-specific attributes (``openai.*``) stay in the provider's own adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.parts import (
    BlobPart,
    ChatMessage,
    MessagePart,
    OutputMessage,
    ToolCallPart,
    ToolDefinition,
    data_url_part,
    text_part,
)
from opentelemetry_instrumentation_llm._core.records import (
    AccumulatorFactory,
    Attributes,
    RequestContent,
    RequestParser,
    ResponseInfo,
    ResponseParser,
    Usage,
)
from opentelemetry_instrumentation_llm.providers._common import (
    SAMPLING_PARAMS,
    Arguments,
    FinishReasons,
    field,
    maybe_json,
    set_if_not_none,
    stop_sequences,
)
from opentelemetry_instrumentation_llm.providers._templates import chat_template

# (kwarg, attribute) pairs copied as-is when given.
_CHAT_PARAMS = (*SAMPLING_PARAMS, ("reasoning_effort", sc.GEN_AI_REQUEST_REASONING_LEVEL))

FieldReader = Callable[[Any, str], Any]  # (dict or SDK model, name) -> the field's value, or None

# The finish reasons of output messages, in the conventions' vocabulary.
chat_finish_reason = FinishReasons({"tool_calls": "tool_call", "function_call": "tool_call"})


def output_type_of(format_spec: Any) -> str | None:
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


class ChatCompletionsRequests:
    """Request-side mapping of Chat Completions and Embeddings calls for one SDK.

    ``arguments`` knows that SDK's "not given" sentinels; the methods are the parsers an adapter
    puts in its wrap table (``content``) or builds its request attributes from.
    """

    __slots__ = ("_param", "arguments")

    def __init__(self, arguments: Arguments) -> None:
        self.arguments = arguments
        self._param = arguments.param

    def chat_attributes(self, params: dict[str, Any]) -> Attributes:
        """The provider-neutral request attributes of a chat-completions call."""
        param = self._param
        attrs: Attributes = {}
        self.arguments.copy_given(params, _CHAT_PARAMS, attrs)
        max_tokens = param(params, "max_completion_tokens")
        if max_tokens is None:
            max_tokens = param(params, "max_tokens")
        set_if_not_none(attrs, sc.GEN_AI_REQUEST_MAX_TOKENS, max_tokens)
        self.put_stop_and_choice_count(params, attrs)
        output_type = output_type_of(param(params, "response_format"))
        modalities = param(params, "modalities")
        if modalities is not None and "audio" in modalities:
            output_type = "speech"
        set_if_not_none(attrs, sc.GEN_AI_OUTPUT_TYPE, output_type)
        return attrs

    def put_stop_and_choice_count(self, params: dict[str, Any], attrs: Attributes) -> None:
        """``stop`` as stop sequences and ``n`` (when not 1) as the choice count."""
        stop = self._param(params, "stop")
        if stop is not None:
            set_if_not_none(attrs, sc.GEN_AI_REQUEST_STOP_SEQUENCES, stop_sequences(stop))
        n = self._param(params, "n")
        if n is not None and n != 1:
            attrs[sc.GEN_AI_REQUEST_CHOICE_COUNT] = n

    def embeddings_attributes(self, params: dict[str, Any]) -> Attributes:
        attrs: Attributes = {}
        encoding = self._param(params, "encoding_format")
        if encoding is not None:
            attrs[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
        set_if_not_none(attrs, sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, self._param(params, "dimensions"))
        return attrs

    def chat_parsers(
        self,
        parse_request: RequestParser,
        accumulator: AccumulatorFactory,
        parse_response: ResponseParser | None = None,
    ) -> dict[str, Any]:
        """The wrap-table parsers of a chat-completions method (keyword arguments of an ``Endpoint``)."""
        return {
            "parse_request": parse_request,
            "parse_response": parse_response or chat_response_info,
            "parse_content": self.content,
            "accumulator": accumulator,
            "parse_template": chat_template(self._param),
        }

    def content(self, params: dict[str, Any]) -> RequestContent:
        """The chat call's input messages and tool definitions (called only when capturing)."""
        return RequestContent(
            input_messages=chat_input_messages(self._param(params, "messages")),
            tool_definitions=tool_definitions(self._param(params, "tools")),
        )


# --------------------------------------------------------------------------- content


def _audio_part(audio: Any) -> BlobPart:
    part: BlobPart = {"type": "blob", "modality": "audio", "content": field(audio, "data")}
    fmt = field(audio, "format")
    if fmt:
        part["mime_type"] = f"audio/{fmt}"
    return part


def _file_part(file: Any) -> MessagePart:
    file_id = field(file, "file_id")
    if file_id:
        return {"type": "file", "modality": "document", "file_id": file_id}
    return {"type": "blob", "modality": "document", "content": field(file, "file_data")}


def _chat_content_part(item: Any) -> MessagePart | None:
    kind = field(item, "type")
    if kind == "text":
        return text_part(field(item, "text") or "")
    if kind == "image_url":
        url = field(field(item, "image_url"), "url")
        return data_url_part(url, "image") if url else None
    if kind == "input_audio":
        return _audio_part(field(item, "input_audio"))
    if kind == "file":
        return _file_part(field(item, "file"))
    if kind == "refusal":
        return {"type": "refusal", "content": field(item, "refusal")}
    return {"type": str(kind)}


def content_parts(content: Any, part_of: Callable[[Any], MessagePart | None]) -> list[MessagePart]:
    """Message content, text or a list of items, as message parts (``part_of`` maps one item, or skips it)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    return [part for part in map(part_of, content) if part is not None]


def chat_content_parts(content: Any) -> list[MessagePart]:
    """Chat Completions message content as the conventions' message parts."""
    return content_parts(content, _chat_content_part)


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> ToolCallPart:
    """A tool call; ``arguments`` given as JSON text is recorded as the object it encodes."""
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": maybe_json(arguments)}


def _tool_call_parts(tool_calls: Any) -> list[MessagePart]:
    parts: list[MessagePart] = []
    for call in tool_calls or ():
        function = field(call, "function")
        if function is not None:
            parts.append(tool_call_part(field(call, "id"), field(function, "name"), field(function, "arguments")))
        else:
            parts.append({"type": "tool_call", "id": field(call, "id"), "name": field(call, "type"), "arguments": None})
    return parts


def _input_message_parts(message: Any, role: str) -> list[MessagePart]:
    if role in ("tool", "function"):
        return [
            {"type": "tool_call_response", "id": field(message, "tool_call_id"), "response": field(message, "content")}
        ]
    parts = chat_content_parts(field(message, "content"))
    parts.extend(_tool_call_parts(field(message, "tool_calls")))
    function_call = field(message, "function_call")
    if function_call is not None:
        parts.append(
            {
                "type": "tool_call",
                "name": field(function_call, "name"),
                "arguments": maybe_json(field(function_call, "arguments")),
            }
        )
    return parts


def chat_input_messages(messages: Any) -> list[ChatMessage]:
    result: list[ChatMessage] = []
    for message in messages or ():
        role = field(message, "role") or "user"
        entry: ChatMessage = {"role": role, "parts": _input_message_parts(message, role)}
        name = field(message, "name")
        if name:
            entry["name"] = name
        result.append(entry)
    return result


def _tool_definition(tool: Any, read: FieldReader) -> ToolDefinition:
    kind = read(tool, "type") or "function"
    function = read(tool, "function")  # chat: {"type": "function", "function": {...}}
    source = function if function is not None else tool  # responses: flat {"type": "function", "name": ...}
    definition: ToolDefinition = {"type": kind, "name": read(source, "name") or kind}
    description = read(source, "description")
    if description:
        definition["description"] = description
    parameters = read(source, "parameters")
    if parameters is not None:
        definition["parameters"] = parameters
    return definition


def tool_definitions(tools: Any, read: FieldReader = field) -> list[ToolDefinition] | None:
    """Tool definitions, each field read with ``read`` (an SDK's :class:`Arguments` where its models may
    hold "not given" sentinels)."""
    if not tools:
        return None
    return [_tool_definition(tool, read) for tool in tools]


# --------------------------------------------------------------------------- responses

UsageKeys = tuple[str, str, str, str]  # input, output, input details, output details


def usage_keys(prefix_in: str, prefix_out: str) -> UsageKeys:
    return (
        f"{prefix_in}_tokens",
        f"{prefix_out}_tokens",
        f"{prefix_in}_tokens_details",
        f"{prefix_out}_tokens_details",
    )


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


def _chat_output_message(message: Any, finish_reason: str | None) -> OutputMessage:
    parts = chat_content_parts(field(message, "content"))
    refusal = field(message, "refusal")
    if refusal:
        parts.append({"type": "refusal", "content": refusal})
    parts.extend(_tool_call_parts(field(message, "tool_calls")))
    audio = field(message, "audio")
    if audio is not None and field(audio, "transcript"):
        parts.append(text_part(field(audio, "transcript")))
    return {
        "role": field(message, "role") or "assistant",
        "parts": parts,
        "finish_reason": chat_finish_reason(finish_reason) or "error",
    }


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
        info.output_messages = [_chat_output_message(field(c, "message"), field(c, "finish_reason")) for c in choices]
    return info


def parse_embeddings_response(response: Any, capture: bool) -> ResponseInfo:
    usage = getattr(response, "usage", None)
    info = ResponseInfo(
        response_id=getattr(response, "id", None),
        response_model=getattr(response, "model", None),
        usage=Usage(input_tokens=field(usage, "prompt_tokens")) if usage is not None else None,
    )
    data = getattr(response, "data", None)
    if data:
        vector = field(data[0], "embedding")
        if isinstance(vector, list):
            info.attributes = {sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: len(vector)}
    return info


# --------------------------------------------------------------------------- streams


def _no_vendor_attributes(response: Any, info: ResponseInfo) -> None:
    return None


class StreamIdentity:
    """The response id and model of a stream: the first non-empty value of each.

    Azure OpenAI (and OpenAI-compatible servers that copy it) opens a stream with a
    ``prompt_filter_results`` chunk whose ``id`` and ``model`` are empty strings, so the first
    chunk alone does not say which response this is.
    """

    __slots__ = ("_id", "_identity_pending", "_model", "_started")

    def __init__(self) -> None:
        self._id: str | None = None
        self._model: str | None = None
        self._identity_pending = True
        self._started = False

    def _take_identity(self, chunk: Any) -> None:
        self._started = True
        self._id = self._id or chunk.id or None
        self._model = self._model or chunk.model or None
        self._identity_pending = not (self._id and self._model)


class ChatCompletionsStreamAccumulator(StreamIdentity):
    """Chat completion chunks -> ResponseInfo. Keeps text and tool-call deltas only when capturing.

    Subclasses set ``_vendor_attributes`` to add their provider's response attributes.
    """

    _vendor_attributes = staticmethod(_no_vendor_attributes)

    __slots__ = ("_capture", "_finish", "_first", "_last_usage_chunk", "_messages", "_usage")

    def __init__(self, capture: bool) -> None:
        super().__init__()
        self._capture = capture
        self._first: Any = None
        self._usage: Any = None
        self._last_usage_chunk: Any = None
        self._finish: dict[int, str] = {}
        self._messages: dict[int, dict[str, Any]] = {}

    def add(self, chunk: Any) -> bool:
        if self._identity_pending:
            if self._first is None:
                self._first = chunk
            self._take_identity(chunk)
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
        if not self._started:
            return ResponseInfo()
        info = ResponseInfo(
            response_id=self._id,
            response_model=self._model,
            finish_reasons=[self._finish[i] for i in sorted(self._finish)],
            usage=chat_usage(self._usage),
        )
        self._vendor_attributes(self._last_usage_chunk or self._first, info)
        if self._capture:
            info.output_messages = [self._output_message(i) for i in self._output_indexes()]
        return info

    def _output_indexes(self) -> list[int]:
        return sorted(set(self._messages) | set(self._finish))

    def _output_message(self, index: int) -> OutputMessage:
        message = self._messages.get(index) or {"text": [], "refusal": [], "tools": {}}
        parts: list[MessagePart] = []
        if message["text"]:
            parts.append(text_part("".join(message["text"])))
        if message["refusal"]:
            parts.append({"type": "refusal", "content": "".join(message["refusal"])})
        for _, call in sorted(message["tools"].items()):
            parts.append(tool_call_part(call["id"], call["name"], "".join(call["arguments"])))
        return {
            "role": "assistant",
            "parts": parts,
            "finish_reason": chat_finish_reason(self._finish.get(index)) or "error",
        }
