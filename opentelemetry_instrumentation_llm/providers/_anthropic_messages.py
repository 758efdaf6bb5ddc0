"""The Anthropic Messages wire format, shared by every SDK that speaks it.

The ``anthropic`` SDK sends it, and so does AWS Bedrock for Anthropic models (the InvokeModel body
and the events inside ``InvokeModelWithResponseStream`` chunks). Nothing here imports an SDK: every
reader takes the SDK's model objects and plain JSON dicts alike (``field`` reads either); stream
events come as the SDK's objects (:class:`AnthropicMessageStreamAccumulator`) or as parsed JSON
(:class:`AnthropicJsonEventAccumulator`).

Usage follows the Anthropic page of the conventions: ``gen_ai.usage.input_tokens`` is the sum of
``input_tokens``, ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` (Anthropic's own
``input_tokens`` excludes cached input).
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry_instrumentation_llm._core.parts import (
    BlobPart,
    ChatMessage,
    MessagePart,
    OutputMessage,
    ToolDefinition,
    data_url_part,
    text_part,
)
from opentelemetry_instrumentation_llm._core.records import RequestContent, ResponseInfo, Usage
from opentelemetry_instrumentation_llm.providers._common import FinishReasons, field

# stop_reason -> the conventions' finish reasons; unknown values pass through unchanged.
finish_reason = FinishReasons(
    {
        "end_turn": "stop",
        "stop_sequence": "stop",
        "max_tokens": "length",
        "model_context_window_exceeded": "length",
        "tool_use": "tool_call",
        "refusal": "content_filter",
    }
)

# --------------------------------------------------------------------------- content blocks


def _source_part(source: Any, modality: str) -> MessagePart:
    kind = field(source, "type")
    if kind == "base64":
        blob: BlobPart = {"type": "blob", "modality": modality, "content": field(source, "data")}
        if field(source, "media_type"):
            blob["mime_type"] = field(source, "media_type")
        return blob
    if kind == "url":
        return data_url_part(field(source, "url") or "", modality)
    if kind == "file":
        return {"type": "file", "modality": modality, "file_id": field(source, "file_id")}
    if kind == "text":
        return text_part(field(source, "data") or "")
    return {"type": str(kind)}


def _tool_result_content(content: Any) -> Any:
    if isinstance(content, list):
        texts = [field(block, "text") for block in content if field(block, "type") == "text"]
        return (
            "".join(t for t in texts if t)
            if len(texts) == len(content)
            else [{"type": field(block, "type"), "text": field(block, "text")} for block in content]
        )
    return content


def _tool_part(block: Any, kind: str) -> MessagePart:
    """``tool_use`` / ``server_tool_use`` / ``*_tool_result`` blocks."""
    if kind == "tool_use":
        return {
            "type": "tool_call",
            "id": field(block, "id"),
            "name": field(block, "name"),
            "arguments": field(block, "input"),
        }
    if kind == "server_tool_use":
        name = field(block, "name")
        return {
            "type": "server_tool_call",
            "id": field(block, "id"),
            "name": name,
            "server_tool_call": {"type": name, "input": field(block, "input")},
        }
    if kind == "tool_result":
        return {
            "type": "tool_call_response",
            "id": field(block, "tool_use_id"),
            "response": _tool_result_content(field(block, "content")),
        }
    return {
        "type": "server_tool_call_response",
        "id": field(block, "tool_use_id"),
        "server_tool_call_response": {"type": kind},
    }


def block_part(block: Any) -> MessagePart:
    """One content block (request or response, SDK object or dict) as the conventions' message part."""
    kind = field(block, "type")
    if kind == "text":
        return text_part(field(block, "text") or "")
    if kind == "image" or kind == "document":
        return _source_part(field(block, "source"), kind)
    if kind == "thinking":
        return {"type": "reasoning", "content": field(block, "thinking") or ""}
    if kind in ("tool_use", "server_tool_use", "tool_result") or (
        isinstance(kind, str) and kind.endswith("_tool_result")
    ):
        return _tool_part(block, kind)
    return {"type": str(kind)}


def block_parts(content: Any) -> list[MessagePart]:
    """Message content (a string or a list of blocks) as the conventions' message parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    return [block_part(block) for block in content]


def system_instructions(system: Any) -> list[MessagePart] | None:
    """The ``system`` parameter (a string or text blocks): its text parts, None when there are none."""
    if system is None:
        return None
    return [part for part in block_parts(system) if part["type"] == "text"] or None


def input_messages(messages: Any) -> list[ChatMessage]:
    return [
        {"role": field(message, "role") or "user", "parts": block_parts(field(message, "content"))}
        for message in messages or ()
    ]


def tool_definition(tool: Any) -> ToolDefinition:
    kind = field(tool, "type")
    name = field(tool, "name")
    if kind in (None, "custom"):
        definition: ToolDefinition = {"type": "function", "name": name}
        if field(tool, "description"):
            definition["description"] = field(tool, "description")
        if field(tool, "input_schema") is not None:
            definition["parameters"] = field(tool, "input_schema")
        return definition
    return {"type": str(kind), "name": name or str(kind)}  # server tools (web search, code execution, ...)


def request_content(system: Any, messages: Any, tools: Any) -> RequestContent:
    """The prompt side of a Messages request: ``system``, ``messages`` and ``tools``."""
    return RequestContent(
        system_instructions=system_instructions(system),
        input_messages=input_messages(messages),
        tool_definitions=[tool_definition(t) for t in tools] if tools else None,
    )


# --------------------------------------------------------------------------- responses


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def messages_usage(usage: Any) -> Usage | None:
    """``usage`` (object or dict): input is the sum of uncached, cache-read and cache-write input."""
    if usage is None:
        return None
    uncached = field(usage, "input_tokens")
    cache_read = field(usage, "cache_read_input_tokens")
    cache_write = field(usage, "cache_creation_input_tokens")
    total_input = None
    if uncached is not None or cache_read is not None or cache_write is not None:
        total_input = _count(uncached) + _count(cache_read) + _count(cache_write)
    return Usage(
        input_tokens=total_input,
        output_tokens=field(usage, "output_tokens"),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def output_message(parts: list[MessagePart], reason: str | None) -> list[OutputMessage]:
    return [{"role": "assistant", "parts": parts, "finish_reason": reason or "error"}]


def response_info(message: Any, capture: bool) -> ResponseInfo:
    """A ``Message`` (SDK object or JSON body) -> ResponseInfo."""
    reason = finish_reason(field(message, "stop_reason"))
    model = field(message, "model")
    info = ResponseInfo(
        response_id=field(message, "id") or None,
        response_model=model if isinstance(model, str) and model else None,
        finish_reasons=[reason] if reason else None,
        usage=messages_usage(field(message, "usage")),
    )
    if capture:
        info.output_messages = output_message(block_parts(field(message, "content")), reason)
    return info


# --------------------------------------------------------------------------- streams


class JsonObject(dict[str, Any]):
    """A parsed JSON object whose keys also read as attributes (None when absent): code that reads the
    SDKs' event objects by attribute reads plain JSON events too."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def json_objects(value: Any) -> Any:
    """Parsed JSON with every object a :class:`JsonObject`."""
    if isinstance(value, dict):
        return JsonObject({key: json_objects(item) for key, item in value.items()})
    if isinstance(value, list):
        return [json_objects(item) for item in value]
    return value


_USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


# content_block_delta types -> the field holding the piece
_DELTA_FIELDS = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


class _Block:
    """One streamed content block: its ``content_block_start`` block and the deltas that followed."""

    __slots__ = ("block", "json", "text")

    def __init__(self, block: Any) -> None:
        self.block = block
        self.text: list[str] = []
        self.json: list[str] = []

    def part(self) -> MessagePart:
        block = self.block
        kind = field(block, "type") if block is not None else "text"
        if kind == "text":
            return text_part("".join(self.text))
        if kind == "thinking":
            return {"type": "reasoning", "content": "".join(self.text)}
        if kind == "tool_use":
            raw = "".join(self.json)
            try:
                arguments = json.loads(raw) if raw else {}
            except ValueError:
                arguments = raw
            return {"type": "tool_call", "id": field(block, "id"), "name": field(block, "name"), "arguments": arguments}
        return block_part(block)


class AnthropicMessageStreamAccumulator:
    """Messages stream events (``message_start``, ``content_block_*``, ``message_delta``) -> ResponseInfo.

    Content blocks are assembled only when capturing; otherwise a delta costs one comparison.
    """

    __slots__ = ("_blocks", "_capture", "_id", "_model", "_stop", "_usage_delta", "_usage_start")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._id: str | None = None
        self._model: str | None = None
        self._stop: str | None = None
        self._usage_start: Any = None
        self._usage_delta: Any = None
        self._blocks: dict[int, _Block] = {}

    def add(self, event: Any) -> bool:
        kind = event.type
        if kind != "content_block_delta":  # the few events around the deltas
            self._event(kind, event)
            return False
        if self._capture:
            self._delta(event)
        return True

    def _event(self, kind: str, event: Any) -> None:
        if kind == "message_start":
            message = event.message
            self._id = message.id
            self._model = message.model
            self._usage_start = message.usage
        elif kind == "message_delta":
            self._stop = event.delta.stop_reason
            self._usage_delta = event.usage
        elif kind == "content_block_start" and self._capture:
            self._blocks[event.index] = _Block(event.content_block)

    def _delta(self, event: Any) -> None:
        delta = event.delta
        name = _DELTA_FIELDS.get(delta.type)
        if name is not None:
            self._piece(event.index, name, getattr(delta, name))

    def _piece(self, index: int, name: str, value: str) -> None:
        """One delta's text (``text``, ``thinking``) or tool-input JSON (``partial_json``)."""
        entry = self._blocks.get(index)
        if entry is None:
            entry = self._blocks[index] = _Block(None)
        (entry.json if name == "partial_json" else entry.text).append(value)

    def _usage(self) -> Usage | None:
        start, delta = self._usage_start, self._usage_delta
        if start is None and delta is None:
            return None
        merged: dict[str, Any] = {}
        for source in (start, delta):  # message_delta carries the final (cumulative) counts
            if source is not None:
                for key in _USAGE_KEYS:
                    value = field(source, key)
                    if value is not None:
                        merged[key] = value
        return messages_usage(merged)

    def result(self) -> ResponseInfo:
        reason = finish_reason(self._stop)
        info = ResponseInfo(
            response_id=self._id,
            response_model=self._model,
            finish_reasons=[reason] if reason else None,
            usage=self._usage(),
        )
        if self._capture and self._id is not None:
            parts = [self._blocks[index].part() for index in sorted(self._blocks)]
            info.output_messages = output_message(parts, reason)
        return info


class AnthropicJsonEventAccumulator(AnthropicMessageStreamAccumulator):
    """The same events as parsed JSON dicts (Bedrock's InvokeModelWithResponseStream chunks).

    A delta is read from the dict as it is; the few other events through :func:`json_objects`.
    """

    __slots__ = ()

    def add(self, event: Any) -> bool:
        kind = event.get("type")
        if kind != "content_block_delta":
            self._event(kind, json_objects(event))
            return False
        if self._capture:
            delta = event.get("delta") or {}
            delta_type: Any = delta.get("type")
            name = _DELTA_FIELDS.get(delta_type)
            if name is not None:
                self._piece(event.get("index"), name, delta.get(name) or "")
        return True
