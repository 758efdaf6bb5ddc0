"""Anthropic Messages wire format (also served on Vertex AI rawPredict URLs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects import base
from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect
from opentelemetry_instrumentation_llm.testing.replies import Reply


def _event(data: dict[str, Any]) -> bytes:
    """An SSE frame whose event name is the data's ``type``, as every Messages stream frame is."""
    return base.sse_event(data, data["type"])


class AnthropicMessages(Dialect):
    """The Messages API (Bedrock's InvokeModel speaks it too, for Anthropic models)."""

    def error_body(self, status: int) -> dict[str, Any]:
        kinds = {**base.CLIENT_ERROR_KINDS, 529: "overloaded_error"}
        return {"type": "error", "error": {"type": kinds.get(status, "api_error"), "message": f"fake error {status}"}}

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        counted = {
            "input_tokens": base.prompt_words(body),
            "output_tokens": base.words(text),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        return reply.usage if reply.usage is not None else counted

    def _stop(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")

    def _content(self, text: str, reply: Reply) -> list[dict[str, Any]]:
        if reply.tool_calls:
            return [
                {
                    "type": "tool_use",
                    "id": call.get("id", f"toolu_{i}"),
                    "name": call["name"],
                    "input": json.loads(call.get("arguments", "{}")),
                }
                for i, call in enumerate(reply.tool_calls)
            ]
        return [{"type": "text", "text": text}]

    def _message_head(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return {"id": "msg_fake0001", "type": "message", "role": "assistant", "model": base.model_of(body, reply)}

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        return {
            **self._message_head(body, reply),
            "content": self._content(text, reply),
            "stop_reason": self._stop(reply),
            "stop_sequence": None,
            "usage": self._usage(body, reply, text),
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        usage = self._usage(body, reply, text)
        yield _event({"type": "message_start", "message": self._started_message(body, reply, usage)})
        if reply.tool_calls:
            yield from self._tool_use_blocks(reply)
        else:
            yield from self._text_block(text, reply)
            if reply.stream_error is not None:
                return
        yield _event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": self._stop(reply), "stop_sequence": None},
                "usage": {"output_tokens": usage.get("output_tokens", 0)},
            }
        )
        yield _event({"type": "message_stop"})

    def _started_message(self, body: dict[str, Any], reply: Reply, usage: dict[str, Any]) -> dict[str, Any]:
        """The ``message_start`` event's message: no content yet, one output token counted."""
        return {
            **self._message_head(body, reply),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1},
        }

    def _tool_use_blocks(self, reply: Reply) -> Iterator[bytes]:
        for i, call in enumerate(reply.tool_calls or ()):
            block = {"type": "tool_use", "id": call.get("id", f"toolu_{i}"), "name": call["name"], "input": {}}
            yield _event({"type": "content_block_start", "index": i, "content_block": block})
            for piece in base.split(call.get("arguments", "{}"), 2):
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield _event({"type": "content_block_delta", "index": i, "delta": delta})
            yield _event({"type": "content_block_stop", "index": i})

    def _text_block(self, text: str, reply: Reply) -> Iterator[bytes]:
        """The one text block; a scripted stream error ends the stream after its deltas."""
        yield _event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        yield _event({"type": "ping"})
        for piece in base.split(text, reply.chunks or max(1, base.words(text))):
            yield _event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})
        if reply.stream_error is not None:
            yield _event({"type": "error", "error": reply.stream_error})
            return
        yield _event({"type": "content_block_stop", "index": 0})


class _AnthropicCountTokens(Dialect):
    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return {"input_tokens": base.prompt_words(body)}

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise ValueError("count_tokens does not stream")


_MESSAGES = AnthropicMessages()
ROUTES: tuple[tuple[str, Dialect], ...] = (
    ("/messages/count_tokens", _AnthropicCountTokens()),
    ("count-tokens:rawPredict", _AnthropicCountTokens()),
    (":rawPredict", _MESSAGES),  # Anthropic on Vertex AI
    (":streamRawPredict", _MESSAGES),
    ("/messages", _MESSAGES),
)
