"""A fake LLM provider that speaks the real wire formats (JSON and server-sent events).

:class:`FakeLLM` turns an HTTP request into the response a provider would send. It is served two
ways: :class:`FakeLLMServer`, a real HTTP/1.1 server on loopback that the unmodified SDKs talk to
(what the demo and the tests use), and :meth:`FakeLLM.transport`, an in-process httpx2 transport
for measurements where socket noise would drown the numbers.

Replies are deterministic functions of the request unless a test scripts them with
:meth:`FakeLLM.push`: the assistant echoes the last user text, and usage counts whitespace-
separated words, so expected values can be computed from the request rather than hard-coded.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from opentelemetry_instrumentation_llm.testing.replies import Reply

if TYPE_CHECKING:
    from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect


class Exchange(NamedTuple):
    """One request as the fake received it (to assert, e.g., that the request was not altered)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeLLM:
    """Request -> response logic for the OpenAI (chat, responses, completions, embeddings) and
    Anthropic (messages) wire formats."""

    def __init__(self) -> None:
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.stopping = threading.Event()

    # ------------------------------------------------------------------ scripting

    def push(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order; afterwards replies are derived again."""
        with self._lock:
            self._replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self.exchanges.clear()

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else Reply()

    # ------------------------------------------------------------------ dispatch

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, str], Iterator[bytes] | bytes]:
        """Answer one request: (status, headers, body bytes or an iterator of SSE event bytes).

        An iterator may yield the ``CUT`` marker to ask the server to drop the connection.
        """
        try:
            body = json.loads(raw_body or b"{}")
        except ValueError:
            body = {}
        record = len(self.exchanges) < 10_000  # bounded, for long benchmark runs
        if record:
            self.exchanges.append(Exchange(method, path, {k.lower(): v for k, v in headers.items()}, body))
        reply = self._next_reply()
        if reply.delay:
            self.stopping.wait(reply.delay)
        route = path.split("?")[0].rstrip("/")
        if "model" not in body and "/models/" in route:  # Google-style URLs carry the model in the path
            body["model"] = route.rsplit("/models/", 1)[1].split(":", 1)[0]
        elif "model" not in body and "/model/" in route:  # Bedrock: /model/{modelId}/converse
            from urllib.parse import unquote

            body["model"] = unquote(route.rsplit("/model/", 1)[1].split("/", 1)[0])
        from opentelemetry_instrumentation_llm.testing.dialects import ROUTES

        for suffix, dialect in ROUTES:  # noqa: B007 - `dialect` is the one found, used after the loop
            if route.endswith(suffix):
                break
        else:
            return 404, {"content-type": "application/json"}, json.dumps({"error": {"message": "no route"}}).encode()
        if reply.status != 200:
            error = reply.error or dialect.error_body(reply.status)
            return reply.status, {"content-type": "application/json", **reply.headers}, json.dumps(error).encode()
        if dialect.wants_stream(body, path):
            return 200, {"content-type": dialect.stream_content_type, **reply.headers}, self._sse(dialect, body, reply)
        payload = dialect.json(body, reply)
        payload.update(reply.extra)
        return 200, {"content-type": "application/json", **reply.headers}, json.dumps(payload).encode()

    def _sse(self, dialect: Dialect, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        for sent, event in enumerate(dialect.events(body, reply)):
            if reply.cut_after is not None and sent >= reply.cut_after:
                yield CUT
                return
            if reply.chunk_delay and sent and self.stopping.wait(reply.chunk_delay):
                return
            yield event

    # ------------------------------------------------------------------ in-process transport

    def transport(self, asynchronous: bool = False) -> Any:
        """An httpx2 transport answering in-process (no sockets), for precise overhead measurement."""
        import httpx2

        def respond(request: Any) -> Any:
            status, headers, payload = self.handle(
                request.method, request.url.path, dict(request.headers), request.read()
            )
            if isinstance(payload, bytes):
                return httpx2.Response(status, headers=headers, content=payload)
            body = bytearray()
            for piece in payload:
                if piece is CUT:
                    break
                body += piece
            return httpx2.Response(status, headers=headers, content=bytes(body))

        if asynchronous:

            async def respond_async(request: Any) -> Any:
                await request.aread()
                return respond(request)

            return httpx2.MockTransport(respond_async)
        return httpx2.MockTransport(respond)


class _Cut(bytes):
    """Marker yielded in an SSE iterator: the server drops the connection at that point."""


CUT: Any = _Cut()
