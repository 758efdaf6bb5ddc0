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


@dataclass
class Exchange:
    """One request as the fake received it (to assert, e.g., that the request was not altered)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _words(text: str) -> int:
    return len(text.split())


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text_of(part.get("text") or part.get("content") or "") if isinstance(part, dict)
                        else str(part) for part in content)
    return "" if content is None else str(content)


def _split(text: str, count: int) -> list[str]:
    """Split text into exactly ``count`` pieces (some may be empty) that join back to it."""
    count = max(1, count)
    size, rest = divmod(len(text), count)
    pieces, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < rest else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


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

    def handle(self, method: str, path: str, headers: dict[str, str], raw_body: bytes
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
        for suffix, dialect in _ROUTES:
            if route.endswith(suffix):
                break
        else:
            return 404, {"content-type": "application/json"}, json.dumps({"error": {"message": "no route"}}).encode()
        if reply.status != 200:
            error = reply.error or dialect.error_body(reply.status)
            return reply.status, {"content-type": "application/json", **reply.headers}, json.dumps(error).encode()
        if body.get("stream"):
            return 200, {"content-type": "text/event-stream", **reply.headers}, self._sse(dialect, body, reply)
        payload = dialect.json(body, reply)
        payload.update(reply.extra)
        return 200, {"content-type": "application/json", **reply.headers}, json.dumps(payload).encode()

    def _sse(self, dialect: _Dialect, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        for sent, event in enumerate(dialect.events(body, reply)):
            if reply.cut_after is not None and sent >= reply.cut_after:
                yield CUT
                return
            if reply.chunk_delay and sent:
                if self.stopping.wait(reply.chunk_delay):
                    return
            yield event

    # ------------------------------------------------------------------ in-process transport

    def transport(self, asynchronous: bool = False) -> Any:
        """An httpx2 transport answering in-process (no sockets), for precise overhead measurement."""
        import httpx2

        def respond(request: Any) -> Any:
            status, headers, payload = self.handle(request.method, request.url.path, dict(request.headers),
                                                   request.read())
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


def _sse_event(data: Any, event: str | None = None) -> bytes:
    prefix = f"event: {event}\n" if event else ""
    text = data if isinstance(data, str) else json.dumps(data)
    return f"{prefix}data: {text}\n\n".encode()


# ---------------------------------------------------------------------- dialects


class _Dialect:
    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        raise NotImplementedError

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise NotImplementedError

    def error_body(self, status: int) -> dict[str, Any]:
        kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                 429: "rate_limit_error", 500: "server_error", 503: "server_error"}
        return {"error": {"message": f"fake error {status}", "type": kinds.get(status, "server_error"),
                          "code": None, "param": None}}


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _prompt_words(body: dict[str, Any]) -> int:
    total = 0
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            total += _words(_text_of(message.get("content")))
    system = body.get("system")
    if system:
        total += _words(_text_of(system))
    return total


def _model_of(body: dict[str, Any], reply: Reply) -> str:
    return reply.model or f"{body.get('model', 'unknown')}-2026-01-01"


class _OpenAIChat(_Dialect):
    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        return reply.text if reply.text is not None else f"echo: {_last_user_text(body.get('messages', []))}"

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        if reply.usage is not None:
            return reply.usage
        n = int(body.get("n") or 1)
        prompt = _prompt_words(body)
        completion = _words(text) * n
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _finish(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        choices = []
        for index in range(int(body.get("n") or 1)):
            message: dict[str, Any] = {"role": "assistant", "content": None if reply.tool_calls else text,
                                       "refusal": None}
            if reply.tool_calls:
                message["tool_calls"] = [
                    {"id": call.get("id", f"call_{i}"), "type": "function",
                     "function": {"name": call["name"], "arguments": call.get("arguments", "{}")}}
                    for i, call in enumerate(reply.tool_calls)
                ]
            choices.append({"index": index, "message": message, "finish_reason": self._finish(reply),
                            "logprobs": None})
        return {
            "id": "chatcmpl-fake0001", "object": "chat.completion", "created": 1_767_225_600,
            "model": _model_of(body, reply), "choices": choices, "usage": self._usage(body, reply, text),
            "system_fingerprint": "fp_fake01",
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        model = _model_of(body, reply)
        n = int(body.get("n") or 1)
        base = {"id": "chatcmpl-fake0001", "object": "chat.completion.chunk", "created": 1_767_225_600,
                "model": model, "system_fingerprint": "fp_fake01", **reply.extra}
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            return _sse_event({**base, "choices": choices, **extra})

        for index in range(n):
            yield chunk([{"index": index, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        if reply.tool_calls:
            for i, call in enumerate(reply.tool_calls):
                for index in range(n):
                    yield chunk([{"index": index, "finish_reason": None, "delta": {"tool_calls": [
                        {"index": i, "id": call.get("id", f"call_{i}"), "type": "function",
                         "function": {"name": call["name"], "arguments": ""}}]}}])
                    for piece in _split(call.get("arguments", "{}"), 2):
                        yield chunk([{"index": index, "finish_reason": None, "delta": {"tool_calls": [
                            {"index": i, "function": {"arguments": piece}}]}}])
        else:
            for piece in _split(text, reply.chunks or max(1, _words(text))):
                for index in range(n):
                    yield chunk([{"index": index, "delta": {"content": piece}, "finish_reason": None}])
        if reply.stream_error is not None:
            yield _sse_event({"error": reply.stream_error})
            return
        for index in range(n):
            yield chunk([{"index": index, "delta": {}, "finish_reason": self._finish(reply)}])
        if include_usage:
            yield chunk([], usage=self._usage(body, reply, text))
        yield _sse_event("[DONE]")


class _OpenAICompletions(_OpenAIChat):
    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        prompt = body.get("prompt")
        return reply.text if reply.text is not None else f"echo: {_text_of(prompt)}"

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        if reply.usage is not None:
            return reply.usage
        prompt = _words(_text_of(body.get("prompt")))
        completion = _words(text) * int(body.get("n") or 1)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        return {
            "id": "cmpl-fake0001", "object": "text_completion", "created": 1_767_225_600,
            "model": _model_of(body, reply),
            "choices": [{"index": i, "text": text, "finish_reason": reply.finish_reason or "stop", "logprobs": None}
                        for i in range(int(body.get("n") or 1))],
            "usage": self._usage(body, reply, text),
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        base = {"id": "cmpl-fake0001", "object": "text_completion", "created": 1_767_225_600,
                "model": _model_of(body, reply)}
        pieces = _split(text, reply.chunks or max(1, _words(text)))
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            yield _sse_event({**base, "choices": [{"index": 0, "text": piece, "logprobs": None,
                                                   "finish_reason": (reply.finish_reason or "stop") if last else None}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            yield _sse_event({**base, "choices": [], "usage": self._usage(body, reply, text)})
        yield _sse_event("[DONE]")


class _OpenAIEmbeddings(_Dialect):
    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        inputs = body.get("input")
        items = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dims = int(body.get("dimensions") or 8)
        fmt = body.get("encoding_format")
        data = []
        for i, item in enumerate(items):
            vector = [round(0.001 * (i + 1) * (j + 1), 6) for j in range(dims)]
            if fmt == "base64":
                import base64
                import struct

                embedding: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
            else:
                embedding = vector
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        words = sum(_words(_text_of(item)) for item in items)
        return {"object": "list", "data": data, "model": _model_of(body, reply),
                "usage": reply.usage or {"prompt_tokens": words, "total_tokens": words}}

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise ValueError("embeddings do not stream")


class _OpenAIResponses(_Dialect):
    def _input_text(self, body: dict[str, Any]) -> str:
        value = body.get("input")
        if isinstance(value, str):
            return value
        for item in reversed(value or []):
            if isinstance(item, dict) and item.get("role") == "user":
                return _text_of(item.get("content"))
        return ""

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        return reply.text if reply.text is not None else f"echo: {self._input_text(body)}"

    def _response(self, body: dict[str, Any], reply: Reply, status: str, text: str | None) -> dict[str, Any]:
        output: list[dict[str, Any]] = []
        if text is not None:
            if reply.tool_calls:
                output = [{"type": "function_call", "id": f"fc_{i}", "call_id": call.get("id", f"call_{i}"),
                           "name": call["name"], "arguments": call.get("arguments", "{}"), "status": "completed"}
                          for i, call in enumerate(reply.tool_calls)]
            else:
                output = [{"type": "message", "id": "msg_fake01", "role": "assistant", "status": "completed",
                           "content": [{"type": "output_text", "text": text, "annotations": []}]}]
        prompt = _words(self._input_text(body)) + _words(_text_of(body.get("instructions")))
        completion = _words(text or "")
        usage = reply.usage or {
            "input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion,
            "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0},
        }
        response = {
            "id": "resp_fake0001", "object": "response", "created_at": 1_767_225_600, "status": status,
            "model": _model_of(body, reply), "output": output, "parallel_tool_calls": True,
            "tool_choice": "auto", "tools": [], "error": None, "incomplete_details": None,
            "instructions": body.get("instructions"), "metadata": {},
            "usage": usage if status != "in_progress" else None,
        }
        if reply.finish_reason in ("max_output_tokens", "content_filter"):
            response["status"] = "incomplete"
            response["incomplete_details"] = {"reason": reply.finish_reason}
        response.update(reply.extra)
        return response

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return self._response(body, reply, "completed", self._text(body, reply))

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        seq = iter(range(1_000_000))

        def event(kind: str, **data: Any) -> bytes:
            return _sse_event({"type": kind, "sequence_number": next(seq), **data}, kind)

        yield event("response.created", response=self._response(body, reply, "in_progress", None))
        yield event("response.in_progress", response=self._response(body, reply, "in_progress", None))
        yield event("response.output_item.added", output_index=0,
                    item={"type": "message", "id": "msg_fake01", "role": "assistant", "status": "in_progress",
                          "content": []})
        yield event("response.content_part.added", item_id="msg_fake01", output_index=0, content_index=0,
                    part={"type": "output_text", "text": "", "annotations": []})
        for piece in _split(text, reply.chunks or max(1, _words(text))):
            yield event("response.output_text.delta", item_id="msg_fake01", output_index=0, content_index=0,
                        delta=piece, logprobs=[])
        if reply.stream_error is not None:
            yield event("error", **reply.stream_error)
            return
        yield event("response.output_text.done", item_id="msg_fake01", output_index=0, content_index=0, text=text,
                    logprobs=[])
        final = self._response(body, reply, "completed", text)
        kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        yield event(kind, response=final)


class _AnthropicMessages(_Dialect):
    def error_body(self, status: int) -> dict[str, Any]:
        kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
        return {"type": "error", "error": {"type": kinds.get(status, "api_error"), "message": f"fake error {status}"}}

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        return reply.text if reply.text is not None else f"echo: {_last_user_text(body.get('messages', []))}"

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        if reply.usage is not None:
            return reply.usage
        return {"input_tokens": _prompt_words(body), "output_tokens": _words(text),
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}

    def _stop(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")

    def _content(self, text: str, reply: Reply) -> list[dict[str, Any]]:
        if reply.tool_calls:
            return [{"type": "tool_use", "id": call.get("id", f"toolu_{i}"), "name": call["name"],
                     "input": json.loads(call.get("arguments", "{}"))} for i, call in enumerate(reply.tool_calls)]
        return [{"type": "text", "text": text}]

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        return {"id": "msg_fake0001", "type": "message", "role": "assistant", "model": _model_of(body, reply),
                "content": self._content(text, reply), "stop_reason": self._stop(reply), "stop_sequence": None,
                "usage": self._usage(body, reply, text)}

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        usage = self._usage(body, reply, text)
        start_usage = {**usage, "output_tokens": 1}
        yield _sse_event({"type": "message_start", "message": {
            "id": "msg_fake0001", "type": "message", "role": "assistant", "model": _model_of(body, reply),
            "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}}, "message_start")
        if reply.tool_calls:
            for i, call in enumerate(reply.tool_calls):
                yield _sse_event({"type": "content_block_start", "index": i, "content_block": {
                    "type": "tool_use", "id": call.get("id", f"toolu_{i}"), "name": call["name"], "input": {}}},
                    "content_block_start")
                for piece in _split(call.get("arguments", "{}"), 2):
                    yield _sse_event({"type": "content_block_delta", "index": i,
                                      "delta": {"type": "input_json_delta", "partial_json": piece}},
                                     "content_block_delta")
                yield _sse_event({"type": "content_block_stop", "index": i}, "content_block_stop")
        else:
            yield _sse_event({"type": "content_block_start", "index": 0,
                              "content_block": {"type": "text", "text": ""}}, "content_block_start")
            yield _sse_event({"type": "ping"}, "ping")
            for piece in _split(text, reply.chunks or max(1, _words(text))):
                yield _sse_event({"type": "content_block_delta", "index": 0,
                                  "delta": {"type": "text_delta", "text": piece}}, "content_block_delta")
            if reply.stream_error is not None:
                yield _sse_event({"type": "error", "error": reply.stream_error}, "error")
                return
            yield _sse_event({"type": "content_block_stop", "index": 0}, "content_block_stop")
        yield _sse_event({"type": "message_delta", "delta": {"stop_reason": self._stop(reply), "stop_sequence": None},
                          "usage": {"output_tokens": usage.get("output_tokens", 0)}}, "message_delta")
        yield _sse_event({"type": "message_stop"}, "message_stop")


_ROUTES: tuple[tuple[str, _Dialect], ...] = (
    ("/chat/completions", _OpenAIChat()),
    ("/responses", _OpenAIResponses()),
    ("/completions", _OpenAICompletions()),
    ("/embeddings", _OpenAIEmbeddings()),
    ("/messages", _AnthropicMessages()),
)
