"""What the fake provider answers: a :class:`Reply` scripts the next response (kept apart from the
server logic so that the dialects, which read replies, and the fake, which routes to the
dialects, do not import each other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """What the next matching request gets. Every field is optional; unset means "derive it"."""

    text: str | None = None  # assistant text (default: echo of the last user text)
    chunks: int | None = None  # number of content chunks a streamed reply is split into
    tool_calls: list[dict[str, Any]] | None = None  # [{"id": ..., "name": ..., "arguments": "<json>"}]
    finish_reason: str | None = None  # provider-native value (default: "stop"/"end_turn" or tool call)
    usage: dict[str, Any] | None = None  # provider-native usage object (default: word counts)
    model: str | None = None  # response model (default: request model + "-2026-01-01")
    status: int = 200
    error: dict[str, Any] | None = None  # error body for a non-200 status
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    chunk_delay: float = 0.0  # seconds between streamed chunks
    cut_after: int | None = None  # streaming: drop the connection after this many SSE events
    stream_error: dict[str, Any] | None = None  # streaming: an error event sent after the content
    extra: dict[str, Any] = field(default_factory=dict)  # merged into the response body (e.g. service_tier)
    # streaming, Chat Completions dialects: chunks sent before the reply's own, e.g. the
    # ``prompt_filter_results`` chunk (empty id and model) that opens every Azure OpenAI stream
    prelude: list[dict[str, Any]] = field(default_factory=list)
