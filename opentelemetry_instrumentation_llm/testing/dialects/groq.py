"""Groq's OpenAI-compatible API (``/openai/v1/...``): chat completions whose streams carry usage in
the ``x_groq`` envelope of the final chunk, as Groq's API does, unless ``stream_options`` asks for
the standard usage chunk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect
from opentelemetry_instrumentation_llm.testing.dialects.openai import ROUTES as OPENAI_ROUTES, OpenAIChat
from opentelemetry_instrumentation_llm.testing.replies import Reply


class _GroqChat(OpenAIChat):
    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        payload = super().json(body, reply)
        payload["x_groq"] = {"id": "req_fake0001"}
        return payload

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        if (body.get("stream_options") or {}).get("include_usage"):
            yield from super().events(body, reply)
            return
        events = list(super().events(body, reply))
        # The last chunk before [DONE] carries the x_groq envelope with the usage.
        usage = self._usage(body, reply, self._text(body, reply))
        for i, event in enumerate(events):
            if i == len(events) - 2 and event.startswith(b"data: {") and reply.stream_error is None:
                chunk = json.loads(event[6:])
                chunk["x_groq"] = {"id": "req_fake0001", "usage": usage}
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            else:
                yield event


_EMBEDDINGS = dict(OPENAI_ROUTES)["/embeddings"]
ROUTES: tuple[tuple[str, Dialect], ...] = (
    ("/openai/v1/chat/completions", _GroqChat()),
    ("/openai/v1/embeddings", _EMBEDDINGS),
)
