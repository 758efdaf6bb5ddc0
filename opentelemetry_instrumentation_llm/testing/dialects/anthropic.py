"""Anthropic Messages wire format (also served on Vertex AI rawPredict URLs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects import base
from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect
from opentelemetry_instrumentation_llm.testing.replies import Reply


class AnthropicMessages(Dialect):
    """The Messages API (Bedrock's InvokeModel speaks it too, for Anthropic models)."""

    def error_body(self, status: int) -> dict[str, Any]:
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            404: "not_found_error",
            429: "rate_limit_error",
            500: "api_error",
            529: "overloaded_error",
        }
        return {"type": "error", "error": {"type": kinds.get(status, "api_error"), "message": f"fake error {status}"}}

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        return reply.text if reply.text is not None else f"echo: {base.last_user_text(body.get('messages', []))}"

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

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        return {
            "id": "msg_fake0001",
            "type": "message",
            "role": "assistant",
            "model": base.model_of(body, reply),
            "content": self._content(text, reply),
            "stop_reason": self._stop(reply),
            "stop_sequence": None,
            "usage": self._usage(body, reply, text),
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        usage = self._usage(body, reply, text)
        start_usage = {**usage, "output_tokens": 1}
        yield base.sse_event(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_fake0001",
                    "type": "message",
                    "role": "assistant",
                    "model": base.model_of(body, reply),
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
            "message_start",
        )
        if reply.tool_calls:
            for i, call in enumerate(reply.tool_calls):
                yield base.sse_event(
                    {
                        "type": "content_block_start",
                        "index": i,
                        "content_block": {
                            "type": "tool_use",
                            "id": call.get("id", f"toolu_{i}"),
                            "name": call["name"],
                            "input": {},
                        },
                    },
                    "content_block_start",
                )
                for piece in base.split(call.get("arguments", "{}"), 2):
                    yield base.sse_event(
                        {
                            "type": "content_block_delta",
                            "index": i,
                            "delta": {"type": "input_json_delta", "partial_json": piece},
                        },
                        "content_block_delta",
                    )
                yield base.sse_event({"type": "content_block_stop", "index": i}, "content_block_stop")
        else:
            yield base.sse_event(
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                "content_block_start",
            )
            yield base.sse_event({"type": "ping"}, "ping")
            for piece in base.split(text, reply.chunks or max(1, base.words(text))):
                yield base.sse_event(
                    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
                    "content_block_delta",
                )
            if reply.stream_error is not None:
                yield base.sse_event({"type": "error", "error": reply.stream_error}, "error")
                return
            yield base.sse_event({"type": "content_block_stop", "index": 0}, "content_block_stop")
        yield base.sse_event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": self._stop(reply), "stop_sequence": None},
                "usage": {"output_tokens": usage.get("output_tokens", 0)},
            },
            "message_delta",
        )
        yield base.sse_event({"type": "message_stop"}, "message_stop")


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
