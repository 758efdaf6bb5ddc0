"""Mistral AI wire format: chat completions (JSON, and SSE ending in ``data: [DONE]``) and embeddings.

Point the SDK at ``server_url=f"{server.url}/mistral"``; the ``/mistral`` prefix keeps these routes
apart from the OpenAI dialect's ``/chat/completions``. Mistral differs from OpenAI in what the SDK
validates: ``object``, ``created`` and ``usage`` are required on a completion, a streamed choice
must carry ``finish_reason`` (``null`` until the last chunk), the last chunk carries the usage
(always, no ``stream_options`` needed), a whole tool call arrives in one chunk, and embeddings
answer with an ``id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects import base as dialect
from opentelemetry_instrumentation_llm.testing.dialects.openai import OpenAIChat
from opentelemetry_instrumentation_llm.testing.replies import Reply


class _MistralChat(OpenAIChat):
    """OpenAI's chat shapes (text, usage, finish reasons) in Mistral's envelope and stream layout."""

    chat_id = "cmpl-mistral0001"

    def error_body(self, status: int) -> dict[str, Any]:
        kinds = {400: "invalid_request_error", 401: "unauthorized", 404: "not_found", 429: "rate_limited"}
        return {
            "object": "error",
            "message": f"fake error {status}",
            "type": kinds.get(status, "internal_error"),
            "param": None,
            "code": str(status),
        }

    def _tool_calls(self, reply: Reply) -> list[dict[str, Any]]:
        return [
            {
                "id": call.get("id", f"call{i:05d}"),
                "type": "function",
                "index": i,
                "function": {"name": call["name"], "arguments": call.get("arguments", "{}")},
            }
            for i, call in enumerate(reply.tool_calls or ())
        ]

    def _message(self, text: str, reply: Reply) -> dict[str, Any]:
        tool_calls = self._tool_calls(reply) if reply.tool_calls else None
        return {
            "role": "assistant",
            "content": "" if reply.tool_calls else text,
            "tool_calls": tool_calls,
            "prefix": False,
        }

    def _choice(self, index: int, message: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return {"index": index, "message": message, "finish_reason": self._finish(reply)}

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        return {
            **self._head(body, reply, "chat.completion"),
            "choices": self._choices(body, reply, text),
            "usage": self._usage(body, reply, text),
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        n = int(body.get("n") or 1)
        base = self._head(body, reply, "chat.completion.chunk")

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            choice = {"index": index, "delta": delta, "finish_reason": finish}
            return dialect.sse_event({**base, "choices": [choice], **extra})

        for index in range(n):
            yield chunk(index, {"role": "assistant", "content": ""})
        if reply.tool_calls:
            for index in range(n):
                yield chunk(index, {"tool_calls": self._tool_calls(reply)})
        else:
            for piece in dialect.split(text, reply.chunks or max(1, dialect.words(text))):
                for index in range(n):
                    yield chunk(index, {"content": piece})
        if reply.stream_error is not None:
            yield dialect.sse_event({"object": "error", **reply.stream_error})
            return
        usage = self._usage(body, reply, text)
        for index in range(n):
            extra = {"usage": usage} if index == n - 1 else {}
            yield chunk(index, {"content": ""}, self._finish(reply), **extra)
        yield dialect.sse_event("[DONE]")


class _MistralEmbeddings(dialect.Dialect):
    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        inputs = body.get("input")  # the SDK's ``inputs`` argument goes out as ``input``
        items = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dims = int(body.get("output_dimension") or 8)
        data = [
            {"object": "embedding", "index": i, "embedding": [round(0.001 * (i + 1) * (j + 1), 6) for j in range(dims)]}
            for i in range(len(items))
        ]
        count = sum(dialect.words(dialect.text_of(item)) for item in items)
        return {
            "id": "embd-mistral0001",
            "object": "list",
            "data": data,
            "model": dialect.model_of(body, reply),
            "usage": reply.usage or {"prompt_tokens": count, "completion_tokens": 0, "total_tokens": count},
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise ValueError("embeddings do not stream")


ROUTES: tuple[tuple[str, dialect.Dialect], ...] = (
    ("/mistral/v1/chat/completions", _MistralChat()),
    ("/mistral/v1/embeddings", _MistralEmbeddings()),
)
