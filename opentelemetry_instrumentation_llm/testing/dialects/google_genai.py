"""Gemini REST wire format (Gemini API and Vertex AI): ``:generateContent``, ``:streamGenerateContent``
(server-sent events of ``GenerateContentResponse`` JSON, no ``[DONE]``), ``:embedContent`` and
``:batchEmbedContents``.

The model comes from the URL (``/v1beta/models/{model}:generateContent``, or Vertex's
``.../publishers/google/models/{model}:...``); :class:`FakeLLM` puts it into ``body["model"]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect, model_of, split, sse_event, words
from opentelemetry_instrumentation_llm.testing.replies import Reply

RESPONSE_ID = "gresp-fake-0001"

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_status(status: int) -> str:
    """The google.rpc status string the API sends with an HTTP status."""
    return _STATUS.get(status, "UNKNOWN")


def _texts(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return []
    return [
        part["text"]
        for part in content.get("parts") or ()
        if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought")
    ]


def last_user_text(body: dict[str, Any]) -> str:
    for content in reversed(body.get("contents") or []):
        if isinstance(content, dict) and content.get("role", "user") == "user":
            texts = _texts(content)
            if texts:
                return " ".join(texts)
    return ""


def prompt_words(body: dict[str, Any]) -> int:
    """Words in every text part sent: the contents and the system instruction."""
    total = sum(words(text) for content in body.get("contents") or [] for text in _texts(content))
    return total + sum(words(text) for text in _texts(body.get("systemInstruction")))


class _GenerateContent(Dialect):
    def __init__(self, streaming: bool) -> None:
        self._streaming = streaming

    def wants_stream(self, body: dict[str, Any], path: str) -> bool:
        return self._streaming

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": {"code": status, "message": f"fake error {status}", "status": error_status(status)}}

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        return reply.text if reply.text is not None else f"echo: {last_user_text(body)}"

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        prompt = prompt_words(body)
        output = len(reply.tool_calls) if reply.tool_calls else words(text)
        counted = {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output}
        return reply.usage if reply.usage is not None else counted

    @staticmethod
    def _calls(reply: Reply) -> list[dict[str, Any]]:
        parts = []
        for call in reply.tool_calls or ():
            function_call: dict[str, Any] = {"name": call["name"], "args": json.loads(call.get("arguments") or "{}")}
            if call.get("id"):
                function_call["id"] = call["id"]
            parts.append({"functionCall": function_call})
        return parts

    def _envelope(
        self, body: dict[str, Any], reply: Reply, candidate: dict[str, Any] | None, usage: dict[str, Any]
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "candidates": [candidate] if candidate is not None else [],
            "usageMetadata": usage,
            "modelVersion": model_of(body, reply),
            "responseId": RESPONSE_ID,
        }
        return payload

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        parts = self._calls(reply) if reply.tool_calls else [{"text": text}]
        candidate = {
            "content": {"role": "model", "parts": parts},
            "finishReason": reply.finish_reason or "STOP",
            "index": 0,
        }
        return self._envelope(body, reply, candidate, self._usage(body, reply, text))

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        usage = self._usage(body, reply, text)
        # Like the real API, every chunk carries the usage so far; the prompt count is known from the start.
        running = {key: usage[key] for key in ("promptTokenCount",) if key in usage}
        finish = reply.finish_reason or "STOP"
        if reply.tool_calls:
            pieces: list[list[dict[str, Any]]] = [self._calls(reply)]
        else:
            pieces = [[{"text": piece}] for piece in split(text, reply.chunks or max(1, words(text)))]
        for i, parts in enumerate(pieces):
            last = i == len(pieces) - 1 and reply.stream_error is None
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
            if last:
                candidate["finishReason"] = finish
            payload = self._envelope(body, reply, candidate, usage if last else running)
            payload.update(reply.extra)  # (FakeLLM merges it into non-streamed replies itself)
            yield sse_event(payload)
        if reply.stream_error is not None:
            yield sse_event({"error": reply.stream_error})


class _EmbedContent(Dialect):
    """``:embedContent`` (one content) and ``:batchEmbedContents`` (``requests[]``)."""

    def __init__(self, batch: bool) -> None:
        self._batch = batch

    def wants_stream(self, body: dict[str, Any], path: str) -> bool:
        return False

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": {"code": status, "message": f"fake error {status}", "status": error_status(status)}}

    @staticmethod
    def _vector(request: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        vertex_config = body.get("embedContentConfig")
        if not isinstance(vertex_config, dict):  # Vertex AI's embedContent nests the options
            vertex_config = {}
        size = (
            request.get("outputDimensionality")
            or body.get("outputDimensionality")
            or vertex_config.get("outputDimensionality")
            or 8
        )
        return {"values": [round(0.001 * (i + 1), 6) for i in range(int(size))]}

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        requests = body.get("requests") if self._batch else [body]
        requests = [r for r in requests or [] if isinstance(r, dict)]
        count = sum(words(text) for r in requests for text in _texts(r.get("content")))
        usage = reply.usage if reply.usage is not None else {"promptTokenCount": count, "totalTokenCount": count}
        payload: dict[str, Any] = {"usageMetadata": usage}
        if self._batch:
            payload["embeddings"] = [self._vector(r, body) for r in requests]
        else:
            payload["embedding"] = self._vector(body, body)
        return payload

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise ValueError("embeddings do not stream")


ROUTES: tuple[tuple[str, Dialect], ...] = (
    (":streamGenerateContent", _GenerateContent(streaming=True)),
    (":generateContent", _GenerateContent(streaming=False)),
    (":batchEmbedContents", _EmbedContent(batch=True)),
    (":embedContent", _EmbedContent(batch=False)),
)
