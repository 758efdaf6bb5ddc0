"""Cohere v2 wire format: ``POST /v2/chat`` (JSON, or SSE when the body says ``"stream": true``) and
``POST /v2/embed``. Point the client at ``base_url=server.url``.

As the real API does, streamed frames are ``event: <type>`` + ``data: {json with "type"}``:
``message-start``, ``content-start``, ``content-delta`` (one per output piece), ``content-end``,
``tool-plan-delta`` / ``tool-call-start`` / ``tool-call-delta`` / ``tool-call-end`` for tool calls,
and ``message-end`` whose ``delta`` carries ``finish_reason`` and ``usage``. Usage has ``tokens``
and ``billed_units`` (the same word counts here); embed replies carry ``billed_units`` only, as
the API's do. ``Reply.stream_error`` ends the stream with ``finish_reason: ERROR`` and its message
in ``delta.error``. Error bodies are ``{"message": ...}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects import base
from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect
from opentelemetry_instrumentation_llm.testing.replies import Reply

CHAT_ID = "c0here-fake-0001"


def _event(data: dict[str, Any]) -> bytes:
    return base.sse_event(data, data["type"])


class _CohereChat(Dialect):
    def error_body(self, status: int) -> dict[str, Any]:
        return {"message": f"fake error {status}"}

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        counts = {"input_tokens": base.prompt_words(body), "output_tokens": base.words(text)}
        return reply.usage if reply.usage is not None else {"billed_units": dict(counts), "tokens": dict(counts)}

    def _finish(self, reply: Reply) -> str:
        return reply.finish_reason or ("TOOL_CALL" if reply.tool_calls else "COMPLETE")

    def _plan(self, reply: Reply) -> str:
        return "I will call " + ", ".join(call["name"] for call in reply.tool_calls or ()) + "."

    def _tool_calls(self, reply: Reply) -> list[dict[str, Any]]:
        return base.function_calls(reply)

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        message: dict[str, Any] = {"role": "assistant"}
        if reply.tool_calls:
            message["tool_plan"] = self._plan(reply)
            message["tool_calls"] = self._tool_calls(reply)
        else:
            message["content"] = [{"type": "text", "text": text}]
        return {
            "id": CHAT_ID,
            "finish_reason": self._finish(reply),
            "message": message,
            "usage": self._usage(body, reply, text),
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        started = {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}
        yield _event({"id": CHAT_ID, "type": "message-start", "delta": {"message": started}})
        yield from self._tool_call_events(reply) if reply.tool_calls else self._content_events(text, reply)
        end: dict[str, Any] = {"finish_reason": self._finish(reply), "usage": self._usage(body, reply, text)}
        if reply.stream_error is not None:
            error = reply.stream_error.get("message", "stream error")
            end = {"error": error, "finish_reason": "ERROR", "usage": end["usage"]}
        yield _event({"type": "message-end", "delta": end})

    def _tool_call_events(self, reply: Reply) -> Iterator[bytes]:
        for piece in base.split(self._plan(reply), 2):
            yield _event({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": piece}}})
        for i, call in enumerate(self._tool_calls(reply)):
            function = call["function"]
            started = {**call, "function": {"name": function["name"], "arguments": ""}}
            yield _event({"type": "tool-call-start", "index": i, "delta": {"message": {"tool_calls": started}}})
            for piece in base.split(function["arguments"], 2):
                delta = {"message": {"tool_calls": {"function": {"arguments": piece}}}}
                yield _event({"type": "tool-call-delta", "index": i, "delta": delta})
            yield _event({"type": "tool-call-end", "index": i})

    def _content_events(self, text: str, reply: Reply) -> Iterator[bytes]:
        started = {"message": {"content": {"type": "text", "text": ""}}}
        yield _event({"type": "content-start", "index": 0, "delta": started})
        for piece in base.split(text, reply.chunks or max(1, base.words(text))):
            yield _event({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": piece}}}})
        yield _event({"type": "content-end", "index": 0})


class _CohereEmbed(Dialect):
    def error_body(self, status: int) -> dict[str, Any]:
        return {"message": f"fake error {status}"}

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        texts = list(body.get("texts") or [])
        for item in body.get("inputs") or []:
            texts.append(base.text_of((item or {}).get("content")))
        dims = int(body.get("output_dimension") or 8)
        embeddings: dict[str, Any] = {}
        for kind in body.get("embedding_types") or ["float"]:
            if kind == "float":
                embeddings["float"] = [
                    [round(0.001 * (i + 1) * (j + 1), 6) for j in range(dims)] for i in range(len(texts))
                ]
            elif kind in ("binary", "ubinary"):
                embeddings[kind] = [[(i + j) % 128 for j in range(max(1, dims // 8))] for i in range(len(texts))]
            elif kind == "base64":
                embeddings[kind] = ["AAAA" for _ in texts]
            else:
                embeddings[kind] = [[(i + j) % 100 for j in range(dims)] for i in range(len(texts))]
        count = sum(base.words(text) for text in texts)
        return {
            "id": "c0here-embed-0001",
            "response_type": "embeddings_by_type",
            "embeddings": embeddings,
            "texts": texts,
            "meta": {"api_version": {"version": "2"}, "billed_units": reply.usage or {"input_tokens": count}},
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise ValueError("embed does not stream")


ROUTES: tuple[tuple[str, Dialect], ...] = (
    ("/v2/chat", _CohereChat()),
    ("/v2/embed", _CohereEmbed()),
)
