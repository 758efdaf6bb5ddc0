"""Shared pieces of the fake provider dialects: the Dialect interface and small text helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.replies import Reply


class Dialect:
    """One provider API: how a request body turns into a JSON reply, a stream, or an error body."""

    #: content type of a streamed reply (SSE for most providers)
    stream_content_type = "text/event-stream"

    def wants_stream(self, body: dict[str, Any], path: str) -> bool:
        """Whether this request asks for a streamed reply (most APIs say so in the body)."""
        return bool(body.get("stream"))

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        """The reply's text: scripted, or an echo of the last user message."""
        return reply.text if reply.text is not None else f"echo: {last_user_text(body.get('messages', []))}"

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        raise NotImplementedError

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise NotImplementedError

    def error_body(self, status: int) -> dict[str, Any]:
        kind = CLIENT_ERROR_KINDS.get(status, "server_error")
        return {"error": {"message": f"fake error {status}", "type": kind, "code": None, "param": None}}


#: the error ``type`` of a 4xx reply, as the OpenAI and Anthropic APIs both name them
CLIENT_ERROR_KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def words(text: str) -> int:
    return len(text.split())


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            text_of(part.get("text") or part.get("content") or "") if isinstance(part, dict) else str(part)
            for part in content
        )
    return "" if content is None else str(content)


def split(text: str, count: int) -> list[str]:
    """Split text into exactly ``count`` pieces (some may be empty) that join back to it."""
    count = max(1, count)
    size, rest = divmod(len(text), count)
    pieces, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < rest else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def prompt_words(body: dict[str, Any]) -> int:
    total = 0
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            total += words(text_of(message.get("content")))
    system = body.get("system")
    if system:
        total += words(text_of(system))
    return total


def function_calls(reply: Reply) -> list[dict[str, Any]]:
    """The reply's tool calls as Chat Completions (and Cohere v2) write them."""
    return [
        {
            "id": call.get("id", f"call_{i}"),
            "type": "function",
            "function": {"name": call["name"], "arguments": call.get("arguments", "{}")},
        }
        for i, call in enumerate(reply.tool_calls or ())
    ]


def model_of(body: dict[str, Any], reply: Reply) -> str:
    return reply.model or f"{body.get('model', 'unknown')}-2026-01-01"


def sse_event(data: Any, event: str | None = None) -> bytes:
    prefix = f"event: {event}\n" if event else ""
    text = data if isinstance(data, str) else json.dumps(data)
    return f"{prefix}data: {text}\n\n".encode()
