"""The fault matrix: what goes wrong around an LLM call, and what the application must see.

Shared by ``tests/test_faults.py`` (each case a test) and ``benchmarks/faults.py`` (the whole
matrix as a table). A :class:`ProviderFault` is a call against the fake provider that fails in
one way (an HTTP error, a timeout, a connection cut mid-stream, a malformed body, a bug injected
into our own adapter). :func:`compare` makes the call twice, uninstrumented then instrumented,
and reports whether the application saw the same thing (the same result, or the same exception
type and message), how many spans we ended for it, and their ``error.type``.

The real OpenAI and Anthropic SDKs talk HTTP to :class:`FakeLLMServer`; malformed bodies come
from :class:`ScriptedBodies`, a :class:`FakeLLM` that can answer one request with raw bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anthropic
import openai
from opentelemetry.sdk.trace import ReadableSpan

from opentelemetry_instrumentation_llm.instrumentor import AnthropicInstrumentor, OpenAIInstrumentor
from opentelemetry_instrumentation_llm.providers import openai as openai_adapter
from opentelemetry_instrumentation_llm.testing import FakeLLM, FakeLLMServer, Reply

API_KEY = "sk-test-fault-matrix-0000000000000000000000"
MESSAGES = [{"role": "user", "content": "Say hello to the fault matrix"}]


class ScriptedBodies(FakeLLM):
    """A fake provider that can answer the next request with raw bytes: a malformed SSE stream or
    a truncated JSON body, which the dialects (correct by design) never produce."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[tuple[str, bytes | list[bytes]]] = []

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, str], Iterator[bytes] | bytes]:
        if self.raw:
            content_type, payload = self.raw.pop(0)
            return 200, {"content-type": content_type}, payload if isinstance(payload, bytes) else iter(payload)
        return super().handle(method, path, headers, raw_body)


# --------------------------------------------------------------------------- the calls


def _summary_of_chat(response: Any) -> str:
    choice = response.choices[0]
    return json.dumps(
        {
            "model": response.model,
            "text": choice.message.content,
            "finish": choice.finish_reason,
            "usage": response.usage.model_dump() if response.usage else None,
        }
    )


def openai_chat(server: FakeLLMServer, timeout: float = 10.0) -> str:
    with openai.OpenAI(api_key=API_KEY, base_url=server.openai_base_url, max_retries=0, timeout=timeout) as client:
        return _summary_of_chat(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))  # type: ignore[arg-type]


def openai_stream(server: FakeLLMServer) -> str:
    with openai.OpenAI(api_key=API_KEY, base_url=server.openai_base_url, max_retries=0, timeout=10) as client:
        stream: Any = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def openai_async_stream(server: FakeLLMServer) -> str:
    async def run() -> str:
        client = openai.AsyncOpenAI(api_key=API_KEY, base_url=server.openai_base_url, max_retries=0, timeout=10)
        try:
            stream: Any = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        finally:
            await client.close()

    return asyncio.run(run())


def anthropic_stream(server: FakeLLMServer) -> str:
    with anthropic.Anthropic(api_key=API_KEY, base_url=server.anthropic_base_url, max_retries=0) as client:
        stream: Any = client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        return "".join(getattr(e.delta, "text", "") for e in stream if e.type == "content_block_delta")


def anthropic_chat(server: FakeLLMServer) -> str:
    with anthropic.Anthropic(api_key=API_KEY, base_url=server.anthropic_base_url, max_retries=0) as client:
        message = client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES)  # type: ignore[arg-type]
        return json.dumps({"text": message.content[0].text, "stop": message.stop_reason})  # type: ignore[union-attr]


# --------------------------------------------------------------------------- injected adapter bugs


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("bug injected into the adapter")


@contextlib.contextmanager
def adapter_bug(target: str) -> Iterator[None]:
    """Replace one adapter function (``module attribute`` or ``Class.method``) with one that raises."""
    owner: Any = openai_adapter
    name = target
    if "." in target:
        class_name, name = target.split(".")
        owner = getattr(openai_adapter, class_name)
    original = getattr(owner, name)
    setattr(owner, name, _raise)
    try:
        yield
    finally:
        setattr(owner, name, original)


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class ProviderFault:
    name: str
    call: Callable[[FakeLLMServer], str]
    replies: tuple[Reply, ...] = ()
    raw: tuple[tuple[str, bytes | list[bytes]], ...] = ()
    bug: str | None = None  # adapter function that raises (instrumented run only)
    expected_error_type: str | None = None  # the span's error.type; None: the call succeeds
    sdk: str = "openai"
    expected_spans: int = 1


_TRUNCATED = b'{"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o", "choices": [{"ind'
_MALFORMED_SSE = [
    b'data: {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": '
    b'{"content": "Hel"}}]}\n\n',
    b"data: {this is not json\n\n",
    b"data: [DONE]\n\n",
]

PROVIDER_FAULTS: tuple[ProviderFault, ...] = (
    ProviderFault("HTTP 429", openai_chat, (Reply(status=429),), expected_error_type="RateLimitError"),
    ProviderFault("HTTP 500", openai_chat, (Reply(status=500),), expected_error_type="InternalServerError"),
    ProviderFault("HTTP 400", openai_chat, (Reply(status=400),), expected_error_type="BadRequestError"),
    ProviderFault(
        "timeout", lambda s: openai_chat(s, timeout=0.2), (Reply(delay=1.0),), expected_error_type="APITimeoutError"
    ),
    ProviderFault(
        "reset mid-stream", openai_stream, (Reply(chunks=6, cut_after=3),), expected_error_type="APIConnectionError"
    ),
    ProviderFault(
        "reset mid-stream (async)",
        openai_async_stream,
        (Reply(chunks=6, cut_after=3),),
        expected_error_type="APIConnectionError",
    ),
    ProviderFault(
        "malformed SSE",
        openai_stream,
        raw=(("text/event-stream", _MALFORMED_SSE),),
        expected_error_type="JSONDecodeError",
    ),
    ProviderFault(
        "truncated JSON", openai_chat, raw=(("application/json", _TRUNCATED),), expected_error_type="JSONDecodeError"
    ),
    ProviderFault(
        "Anthropic 429", anthropic_chat, (Reply(status=429),), expected_error_type="rate_limit_error", sdk="anthropic"
    ),
    ProviderFault(
        "Anthropic reset mid-stream",
        anthropic_stream,
        (Reply(chunks=6, cut_after=4),),
        expected_error_type="APIConnectionError",
        sdk="anthropic",
    ),
    # A request the adapter cannot read is let through untraced (no span, no metrics): the
    # wrapper never opened a span, so there is none to end.
    ProviderFault("adapter bug: request", openai_chat, bug="parse_chat_request", expected_spans=0),
    ProviderFault("adapter bug: response", openai_chat, bug="parse_chat_response"),
    ProviderFault("adapter bug: stream chunk", openai_stream, bug="OpenAIChatStreamAccumulator.add"),
)


@dataclass
class Comparison:
    fault: ProviderFault
    uninstrumented: str
    instrumented: str
    spans: list[ReadableSpan] = field(default_factory=list)

    @property
    def same_outcome(self) -> bool:
        return self.uninstrumented == self.instrumented

    @property
    def error_types(self) -> list[Any]:
        return [s.attributes.get("error.type") for s in self.spans if s.attributes is not None]

    @property
    def holds(self) -> bool:
        if len(self.spans) != self.fault.expected_spans or not self.same_outcome:
            return False
        return not self.spans or self.error_types == [self.fault.expected_error_type]


def outcome(fault: ProviderFault, server: FakeLLMServer) -> str:
    """What the application sees: ``ok <result>`` or ``raised <type>: <message>``."""
    server.fake.reset()
    server.fake.push(*fault.replies)
    if fault.raw:
        assert isinstance(server.fake, ScriptedBodies)
        server.fake.raw.extend(fault.raw)
    try:
        return f"ok {fault.call(server)}"
    except Exception as exc:  # noqa: BLE001 - recorded, compared with the other run
        return f"raised {type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def compare(
    fault: ProviderFault,
    server: FakeLLMServer,
    providers: dict[str, Any],
    finished: Callable[[], Sequence[ReadableSpan]],
) -> Comparison:
    """Run ``fault`` uninstrumented, then instrumented with ``providers``; ``finished`` lists spans."""
    before = outcome(fault, server)
    instrumentor = (OpenAIInstrumentor if fault.sdk == "openai" else AnthropicInstrumentor)()
    with adapter_bug(fault.bug) if fault.bug else contextlib.nullcontext():
        instrumentor.instrument(**providers)
        try:
            after = outcome(fault, server)
        finally:
            instrumentor.uninstrument()
    import gc

    gc.collect()  # a stream the SDK dropped ends its span when collected
    return Comparison(fault, before, after, [s for s in finished() if s.name.startswith(("chat", "text"))])


# --------------------------------------------------------------------------- export-side faults


@dataclass
class ExportRun:
    """One run of ``calls`` chat calls through ``setup()`` while the export side misbehaves."""

    name: str
    calls: int
    same_outcome: bool
    spans_at_collector: int | None  # None: no collector up at shutdown, nothing to count
    shutdown_s: float
    metrics_at_collector: set[str] = field(default_factory=set)

    @property
    def holds(self) -> bool:
        delivered = self.spans_at_collector is None or self.spans_at_collector == self.calls
        return self.same_outcome and delivered


class RaisingSpanExporter:
    """An exporter with a bug: every export raises."""

    def __init__(self) -> None:
        self.attempts = 0

    def export(self, spans: Any) -> Any:
        self.attempts += 1
        raise RuntimeError("exporter bug")

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


@contextlib.contextmanager
def blackhole_endpoint() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a hung collector."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


def chat_calls(server: FakeLLMServer, count: int) -> list[str]:
    return [outcome(ProviderFault("ok", openai_chat), server) for _ in range(count)]


def llm_span_count(sink: Any) -> int:
    return sum(1 for s in sink.spans() if s.name.startswith("chat "))


def export_run(
    name: str,
    server: FakeLLMServer,
    endpoint: str,
    calls: int,
    *,
    sink: Any = None,
    during: Callable[[int], None] | None = None,
    gpu: bool = False,
    extra_exporter: Any = None,
    on_shutdown: Callable[[], None] | None = None,
    export_timeout: float | None = 1,
) -> ExportRun:
    """``calls`` chat calls uninstrumented, then through ``setup()`` exporting to ``endpoint``.

    ``during(i)`` runs before the i-th instrumented call (to kill or restart the collector).
    Spans at the collector are counted when ``sink`` is given (the collector is up at shutdown).
    ``export_timeout`` (seconds; None: the SDK's default of 10) bounds each export, retries included.
    """
    import time

    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from opentelemetry_instrumentation_llm import setup

    expected = chat_calls(server, calls)
    telemetry = setup("fault-matrix", endpoint=endpoint, export_timeout=export_timeout, set_global=False, gpu=gpu)
    if extra_exporter is not None:
        telemetry.tracer_provider.add_span_processor(BatchSpanProcessor(extra_exporter))
    seen = []
    for i in range(calls):
        if during is not None:
            during(i)
        seen.append(outcome(ProviderFault("ok", openai_chat), server))
    started = time.perf_counter()
    telemetry.shutdown()
    shutdown_s = time.perf_counter() - started
    if on_shutdown is not None:
        on_shutdown()
    spans = None
    metrics: set[str] = set()
    if sink is not None:
        from tests.e2e.collector import wait_until

        with contextlib.suppress(AssertionError):
            wait_until(lambda: llm_span_count(sink) >= calls, 10, "spans at the collector")
        spans = llm_span_count(sink)
        metrics = set(sink.metrics())
    return ExportRun(name, calls, seen == expected, spans, shutdown_s, metrics)
