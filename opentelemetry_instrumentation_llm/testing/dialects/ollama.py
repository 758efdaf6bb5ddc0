"""Ollama's native API: ``/api/chat``, ``/api/generate`` (JSON, or NDJSON streams, the default when
``stream`` is absent), ``/api/embed`` and the legacy ``/api/embeddings``. Errors are ``{"error": "..."}``
bodies, and a failure mid-stream is an ``{"error": ...}`` line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects import base as dialect
from opentelemetry_instrumentation_llm.testing.replies import Reply

_CREATED = "2026-01-01T00:00:00.000000Z"


def _line(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode() + b"\n"


class _OllamaGeneration(dialect.Dialect):
    stream_content_type = "application/x-ndjson"
    chat = True

    def wants_stream(self, body: dict[str, Any], path: str) -> bool:
        return bool(body.get("stream", True))

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": f"fake error {status}"}

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        if reply.text is not None:
            return reply.text
        prompt = dialect.last_user_text(body.get("messages", [])) if self.chat else dialect.text_of(body.get("prompt"))
        return f"echo: {prompt}"

    def _prompt_words(self, body: dict[str, Any]) -> int:
        if self.chat:
            return dialect.prompt_words(body)
        return dialect.words(dialect.text_of(body.get("prompt"))) + dialect.words(dialect.text_of(body.get("system")))

    def _final(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        usage = reply.usage or {"prompt_eval_count": self._prompt_words(body), "eval_count": dialect.words(text)}
        return {
            "model": dialect.model_of(body, reply),
            "created_at": _CREATED,
            "done": True,
            "done_reason": reply.finish_reason or "stop",
            "total_duration": 1_000_000,
            "load_duration": 10_000,
            "prompt_eval_duration": 20_000,
            "eval_duration": 30_000,
            **usage,
        }

    def _message(self, text: str, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "" if reply.tool_calls else text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"function": {"name": c["name"], "arguments": json.loads(c.get("arguments", "{}"))}}
                for c in reply.tool_calls
            ]
        return message

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        payload = self._final(body, reply, text)
        if self.chat:
            payload["message"] = self._message(text, reply)
        else:
            payload["response"] = text
        return payload

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        model = dialect.model_of(body, reply)
        if reply.tool_calls and self.chat:
            yield _line({"model": model, "created_at": _CREATED, "done": False, "message": self._message(text, reply)})
        else:
            for piece in dialect.split(text, reply.chunks or max(1, dialect.words(text))):
                partial: dict[str, Any] = {"model": model, "created_at": _CREATED, "done": False}
                if self.chat:
                    partial["message"] = {"role": "assistant", "content": piece}
                else:
                    partial["response"] = piece
                yield _line(partial)
        if reply.stream_error is not None:
            yield _line({"error": reply.stream_error.get("message", "stream failed")})
            return
        final = self._final(body, reply, text)
        if self.chat:
            final["message"] = {"role": "assistant", "content": ""}
        else:
            final["response"] = ""
        yield _line(final)


class _OllamaGenerate(_OllamaGeneration):
    chat = False


class _OllamaEmbed(dialect.Dialect):
    def wants_stream(self, body: dict[str, Any], path: str) -> bool:
        return False

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": f"fake error {status}"}

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        dimensions = int(body.get("dimensions") or 8)
        if "prompt" in body:  # legacy /api/embeddings: one vector, no usage
            return {"embedding": [0.1] * dimensions}
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        return {
            "model": dialect.model_of(body, reply),
            "embeddings": [[0.1] * dimensions for _ in texts],
            "total_duration": 1_000,
            "load_duration": 10,
            "prompt_eval_count": sum(dialect.words(t) for t in texts),
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise ValueError("embeddings do not stream")


ROUTES: tuple[tuple[str, dialect.Dialect], ...] = (
    ("/api/chat", _OllamaGeneration()),
    ("/api/generate", _OllamaGenerate()),
    ("/api/embed", _OllamaEmbed()),
    ("/api/embeddings", _OllamaEmbed()),
)
