"""The recorder: one place that turns provider-neutral records into spans, metrics and events.

A :class:`Recorder` is built once per instrumentation (tracer, instruments, event logger and
settings resolved up front). Each wrapped call gets an :class:`Invocation`, which owns the span
and ends it exactly once, through :meth:`Invocation.finish` or :meth:`Invocation.fail`.

Everything here sits on the hot path of every LLM call: attribute dictionaries are built
directly, nothing is serialised unless content capture is on, and every public method is
guarded so a bug here can never reach the user's code.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from time import perf_counter, time_ns
from typing import Any

from opentelemetry import _logs, context, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context, create_key, get_value
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.metrics import Meter, MeterProvider, get_meter
from opentelemetry.semconv._incubating.attributes.user_attributes import USER_ID
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.collaborators import Collaborators
from opentelemetry_instrumentation_llm._core.content import to_any_value, to_json
from opentelemetry_instrumentation_llm._core.fingerprint import LLM_PROMPT_FINGERPRINT
from opentelemetry_instrumentation_llm._core.guard import end_anyway, note_once, report
from opentelemetry_instrumentation_llm._core.operations import NO_EXEMPLAR as _NO_EXEMPLAR, count_inference
from opentelemetry_instrumentation_llm._core.records import (
    RequestContent,
    RequestInfo,
    ResponseInfo,
    Usage,
)
from opentelemetry_instrumentation_llm._core.settings import ContentSettings, MetricNames
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec
from opentelemetry_instrumentation_llm.version import __version__

# Set in the context while one of our GenAI spans is current: a nested wrapped call (an SDK
# helper calling another wrapped method, or a framework layered on an SDK we also patch) then
# proceeds without opening a second inference span.
LLM_SPAN_ACTIVE_KEY = create_key("opentelemetry-instrumentation-llm.active")


def suppressed() -> bool:
    """Instrumentation is suppressed (OpenTelemetry's key), or one of our GenAI spans is current."""
    return not is_instrumentation_enabled() or bool(get_value(LLM_SPAN_ACTIVE_KEY))


_INFERENCE_OPERATIONS = frozenset({sc.OP_CHAT, sc.OP_TEXT_COMPLETION, sc.OP_GENERATE_CONTENT})


def _histogram(meter: Meter, name: str, unit: str, buckets: Sequence[float], description: str) -> Any:
    return meter.create_histogram(name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets)


class _Instruments:
    """The metric instruments for one recorder, by the configured naming scheme."""

    def __init__(self, meter: Meter, names: MetricNames) -> None:
        self.meter = meter
        self.names = names
        self.duration = self.token_usage = self.ttfc = self.tpoc = None
        d, t = sc.DURATION_BUCKETS, sc.TOKEN_BUCKETS
        if names.default_names:
            self.duration = _histogram(meter, sc.METRIC_OPERATION_DURATION, "s", d, "GenAI operation duration.")
            self.token_usage = _histogram(
                meter, sc.METRIC_TOKEN_USAGE, "{token}", t, "Number of input and output tokens used."
            )
            self.ttfc = _histogram(
                meter, sc.METRIC_TIME_TO_FIRST_CHUNK, "s", d, "Time to receive the first chunk of a streamed response."
            )
            self.tpoc = _histogram(
                meter,
                sc.METRIC_TIME_PER_OUTPUT_CHUNK,
                "s",
                d,
                "Time between consecutive output chunks of a streamed response.",
            )
        self.latest = _LatestInstruments(meter) if names.latest_names else None
        self._cost: Any = None

    def cost_counter(self) -> Any:
        """The cost counter, created on first use (only when prices are known)."""
        if self._cost is None:
            self._cost = self.meter.create_counter(
                sc.METRIC_OPERATION_COST,
                unit="USD",
                description="Cost of GenAI operations in USD, from list prices and the user's overrides.",
            )
        return self._cost


# Every SDK's metrics come from ONE meter scope (spans and events keep one scope per SDK). With a
# scope per SDK the same metric arrives in several scopes whose attribute keys differ (error.type
# in one, no server.port in another), and opentelemetry-exporter-prometheus (0.66b2) builds each
# Prometheus family from the first scope's label names, then appends the other scopes' label
# values by position: series with wrong labels (server_address="40141"). One scope means one
# metric stream per name, whose label set the exporter computes over all its points.
METER_SCOPE = "opentelemetry_instrumentation_llm"
_instruments_lock = threading.Lock()
_instruments_by_meter: weakref.WeakKeyDictionary[Meter, dict[MetricNames, _Instruments]] = weakref.WeakKeyDictionary()


def _shared_instruments(meter: Meter, names: MetricNames) -> _Instruments:
    """The instruments of ``meter``, created once (creating them again makes the SDK warn)."""
    with _instruments_lock:
        by_names = _instruments_by_meter.setdefault(meter, {})
        if names not in by_names:
            by_names[names] = _Instruments(meter, names)
        return by_names[names]


# The opt-in instruments of the newest draft: (attribute, buckets or None for a counter, name, unit,
# description). Operations that are not inference (embeddings) keep the baseline names.
_LATEST: tuple[tuple[str, tuple[float, ...] | None, str, str, str], ...] = (
    ("duration", sc.DURATION_BUCKETS, sc.METRIC_INFERENCE_DURATION, "s", "GenAI inference duration."),
    (
        "ttfc",
        sc.DURATION_BUCKETS,
        sc.METRIC_INFERENCE_TIME_TO_FIRST_CHUNK,
        "s",
        "Time to receive the first chunk of a streamed inference.",
    ),
    (
        "tpoc",
        sc.DURATION_BUCKETS,
        sc.METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK,
        "s",
        "Time between consecutive output chunks of a streamed inference.",
    ),
    ("input", None, sc.METRIC_INFERENCE_INPUT_TOKENS, "{token}", "Input tokens used."),
    ("output", None, sc.METRIC_INFERENCE_OUTPUT_TOKENS, "{token}", "Output tokens used."),
    (
        "cache_read",
        None,
        sc.METRIC_INFERENCE_CACHE_READ_TOKENS,
        "{token}",
        "Input tokens read from the provider's cache.",
    ),
    (
        "cache_write",
        None,
        sc.METRIC_INFERENCE_CACHE_WRITE_TOKENS,
        "{token}",
        "Input tokens written to the provider's cache.",
    ),
    ("reasoning", None, sc.METRIC_INFERENCE_REASONING_TOKENS, "{token}", "Output tokens spent on reasoning."),
    (
        "op_input",
        sc.TOKEN_BUCKETS,
        sc.METRIC_INFERENCE_OPERATION_INPUT_TOKENS,
        "{token}",
        "Input tokens per inference.",
    ),
    (
        "op_output",
        sc.TOKEN_BUCKETS,
        sc.METRIC_INFERENCE_OPERATION_OUTPUT_TOKENS,
        "{token}",
        "Output tokens per inference.",
    ),
    ("other_duration", sc.DURATION_BUCKETS, sc.METRIC_OPERATION_DURATION, "s", "GenAI operation duration."),
    ("other_tokens", sc.TOKEN_BUCKETS, sc.METRIC_TOKEN_USAGE, "{token}", "Number of input and output tokens used."),
)


class _LatestInstruments:
    """The restructured ``gen_ai.client.inference.*`` instruments of the newest draft (opt-in)."""

    def __init__(self, meter: Meter) -> None:
        made: list[Any] = [
            meter.create_counter(name, unit=unit, description=description)
            if buckets is None
            else _histogram(meter, name, unit, buckets, description)
            for _, buckets, name, unit, description in _LATEST
        ]
        (
            self.duration, self.ttfc, self.tpoc, self.input, self.output, self.cache_read, self.cache_write,
            self.reasoning, self.op_input, self.op_output, self.other_duration, self.other_tokens,
        ) = made  # fmt: skip


class Recorder:
    """Telemetry plumbing for one instrumented SDK, resolved once at instrument time.

    Pricing, the request context and the response registry come in as ``collaborators`` from the
    layer that wires the instrumentation; without them those features are simply off.
    """

    def __init__(
        self,
        spec: ProviderSpec,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        content: ContentSettings | None = None,
        metric_names: MetricNames = MetricNames.DEFAULT,
        collaborators: Collaborators | None = None,
    ) -> None:
        scope = f"opentelemetry_instrumentation_llm.{spec.sdk}"
        self.spec = spec
        self.error_type = spec.error_type
        self.tracer: Tracer = trace.get_tracer(scope, __version__, tracer_provider, schema_url=sc.SCHEMA_URL)
        meter = get_meter(METER_SCOPE, __version__, meter_provider, schema_url=sc.SCHEMA_URL)
        self.instruments = _shared_instruments(meter, metric_names)
        self.event_logger = _logs.get_logger(
            scope, __version__, logger_provider=logger_provider, schema_url=sc.SCHEMA_URL
        )
        self.content = content or ContentSettings()
        capture = self.content.capture
        self.capture_any = capture.on_span or capture.on_event
        self.capture_span = capture.on_span
        self.capture_event = capture.on_event
        self.emit_event = self.content.emit_event
        helpers = collaborators or Collaborators()
        self.prices = helpers.pricing
        self.call_context = helpers.call_context
        self.responses = helpers.responses
        self.fingerprints = helpers.fingerprints
        self.spend = helpers.spend
        self.cost_counter = self.instruments.cost_counter() if self.prices is not None else None

    def start(
        self, endpoint: Endpoint, instance: Any, kwargs: dict[str, Any], streaming: bool = False
    ) -> Invocation | None:
        """Open the span for a call. Returns None (call proceeds untraced) if anything goes wrong.

        ``streaming`` marks calls that stream whatever their arguments say (stream helpers).
        """
        try:
            request = endpoint.parse_request(instance, kwargs)
            if request is None:
                return None
            if streaming:
                request.stream = True
            content = None
            if self.capture_any and endpoint.parse_content is not None:
                try:
                    content = endpoint.parse_content(kwargs)
                except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
                    report("reading request content", exc)
            fingerprint = None
            if endpoint.parse_template is not None and self.fingerprints is not None:
                fingerprint = self._fingerprint(endpoint.parse_template, kwargs)
            return Invocation(self, request, content, fingerprint)
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            report("starting a span", exc)
            return None

    def _fingerprint(self, parse_template: Any, kwargs: dict[str, Any]) -> str | None:
        try:
            system, tools = parse_template(kwargs)
            return self.fingerprints.of(system, tools)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - fail open: the call is traced without a fingerprint
            report("fingerprinting the prompt", exc)
            return None


def _identity_attributes(request: RequestInfo) -> dict[str, AttributeValue]:
    """What identifies a call on the span and on every metric: operation, provider, model, server."""
    attrs: dict[str, AttributeValue] = {
        sc.GEN_AI_OPERATION_NAME: request.operation,
        sc.GEN_AI_PROVIDER_NAME: request.provider,
    }
    if request.model:
        attrs[sc.GEN_AI_REQUEST_MODEL] = request.model
    if request.server_address:
        attrs[sc.SERVER_ADDRESS] = request.server_address
        if request.server_port:
            attrs[sc.SERVER_PORT] = request.server_port
    return attrs


_USAGE_FIELDS = (
    ("input_tokens", sc.GEN_AI_USAGE_INPUT_TOKENS),
    ("output_tokens", sc.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("cache_read_tokens", sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("cache_write_tokens", sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS),
    ("reasoning_tokens", sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
)


def _token_count(value: Any, name: str) -> int | None:
    """A token count as the conventions type it (int): an integral float becomes an int; anything
    else (a fraction, a string, a bool) is dropped and noted once at debug level."""
    if type(value) is int or value is None:
        return value  # type: ignore[no-any-return]
    if type(value) is float and value.is_integer():
        return int(value)
    note_once(f"usage.{name}", f"dropped a token count that is not an integer: {type(value).__name__}")
    return None


def integral_usage(usage: Usage) -> Usage:
    """``usage`` with every count an int or None, whatever the adapter read off the wire."""
    for name, _ in _USAGE_FIELDS:
        value = getattr(usage, name)
        if value is not None and type(value) is not int:
            setattr(usage, name, _token_count(value, name))
    return usage


def _usage_attributes(usage: Usage, attrs: dict[str, AttributeValue]) -> None:
    for name, key in _USAGE_FIELDS:
        value = getattr(usage, name)
        if value is not None:
            attrs[key] = value


def _response_attributes(response: ResponseInfo, attrs: dict[str, AttributeValue]) -> None:
    if response.response_id:
        attrs[sc.GEN_AI_RESPONSE_ID] = response.response_id
    if response.response_model:
        attrs[sc.GEN_AI_RESPONSE_MODEL] = response.response_model
    if response.finish_reasons:
        attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(response.finish_reasons)
    if response.usage is not None:
        _usage_attributes(response.usage, attrs)
    if response.attributes:
        attrs.update(response.attributes)
    if response.metric_attributes:
        attrs.update(response.metric_attributes)


class Invocation:
    """One in-flight LLM call: owns its span and records its metrics and events exactly once."""

    __slots__ = (
        "_attrs",
        "_content",
        "_done",
        "_metric_attrs",
        "_start_ns",
        "_t0",
        "_token",
        "_user",
        "context",
        "recorder",
        "request",
        "span",
    )

    def __init__(
        self, recorder: Recorder, request: RequestInfo, content: RequestContent | None, fingerprint: str | None = None
    ) -> None:
        self.recorder = recorder
        self.request = request
        self._content = content
        self._done = False
        self._user: AttributeValue | None = None
        identity = _identity_attributes(request)
        attrs = dict(identity)
        if request.stream:
            attrs[sc.GEN_AI_REQUEST_STREAM] = True
        if request.attributes:
            attrs.update(request.attributes)
        if fingerprint is not None:
            attrs[LLM_PROMPT_FINGERPRINT] = fingerprint
        if recorder.call_context is not None:
            captured = recorder.call_context.capture(fingerprint)
            if captured is not None:
                attrs.update(captured[0])
                if captured[1]:
                    identity.update(captured[1])
                if recorder.spend is not None:
                    self._user = captured[0].get(USER_ID)
        if content is not None and recorder.capture_span:
            _content_attributes(content, attrs, to_json)
        self._attrs = attrs
        self._metric_attrs = identity
        name = f"{request.operation} {request.model}" if request.model else request.operation
        self._start_ns = time_ns()
        self.span = span = recorder.tracer.start_span(
            name, kind=SpanKind.CLIENT, attributes=attrs, start_time=self._start_ns
        )
        self.context: Context = context.set_value(LLM_SPAN_ACTIVE_KEY, True, trace.set_span_in_context(span))
        count_inference()  # one context lookup: counts this call in the enclosing agent run, if any
        self._t0 = perf_counter()

    @property
    def done(self) -> bool:
        return self._done

    def __enter__(self) -> Invocation:
        """Make the span current around the SDK call; a failure of the call ends it as failed."""
        self._token = context.attach(self.context)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self.fail(exc)
        context.detach(self._token)

    # ------------------------------------------------------------------ endings

    def finish(
        self,
        response: ResponseInfo | None,
        *,
        end: float | None = None,
        first_chunk: float | None = None,
        chunk_gaps: Sequence[float] | None = None,
        error: BaseException | None = None,
    ) -> None:
        """End the call. ``end``/``first_chunk`` are perf_counter() readings; ``error`` marks a failure."""
        if self._done:
            return
        self._done = True
        try:
            self._finish(response, perf_counter() if end is None else end, first_chunk, chunk_gaps, error)
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            end_anyway(self.span, "ending a span", exc)

    def fail(self, error: BaseException, response: ResponseInfo | None = None, **timing: Any) -> None:
        """End the call as failed; the user's exception itself is re-raised by the caller."""
        self.finish(response, error=error, **timing)

    def _finish(
        self,
        response: ResponseInfo | None,
        end: float,
        first_chunk: float | None,
        chunk_gaps: Sequence[float] | None,
        error: BaseException | None,
    ) -> None:
        rec = self.recorder
        duration = end - self._t0
        usage = response.usage if response is not None else None
        if usage is not None:
            integral_usage(usage)
        metric_attrs = self._metric_attrs
        span_attrs = self._end_attributes(response, metric_attrs)
        if first_chunk is not None:
            span_attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = first_chunk - self._t0
        error_type = self._error_type(error, response)
        if error_type is not None:
            span_attrs[sc.ERROR_TYPE] = error_type
        priced = self._price(response, usage, span_attrs)
        self._describe_span(span_attrs, error, error_type)
        self._record_metrics(metric_attrs, duration, usage, first_chunk, chunk_gaps, error_type)
        if priced is not None:
            rec.cost_counter.add(priced, metric_attrs, _NO_EXEMPLAR)  # type: ignore[union-attr]
        if self._user is not None and usage is not None:
            self._count_spend(priced, usage)
        if rec.emit_event:
            self._emit_details(span_attrs, response)
        if error is not None:
            self._emit_exception(error)
        self.span.end(end_time=self._start_ns + int(duration * 1e9))

    def _count_spend(self, cost: float | None, usage: Usage) -> None:
        tokens = None
        if usage.input_tokens is not None or usage.output_tokens is not None:
            tokens = (usage.input_tokens or 0) + (usage.output_tokens or 0)
        self.recorder.spend.add(str(self._user), cost, tokens)  # type: ignore[union-attr]

    def _end_attributes(
        self, response: ResponseInfo | None, metric_attrs: dict[str, AttributeValue]
    ) -> dict[str, AttributeValue]:
        """The response's span attributes; its low-cardinality ones also go into ``metric_attrs``."""
        span_attrs: dict[str, AttributeValue] = {}
        if response is None:
            return span_attrs
        rec = self.recorder
        if response.response_model:
            metric_attrs[sc.GEN_AI_RESPONSE_MODEL] = response.response_model
        if response.metric_attributes:
            metric_attrs.update(response.metric_attributes)
        if response.response_id and rec.responses is not None:
            rec.responses.remember(response.response_id, self.span.get_span_context())
        if rec.emit_event or self.span.is_recording():
            _response_attributes(response, span_attrs)
            if response.output_messages is not None and rec.capture_span:
                span_attrs[sc.GEN_AI_OUTPUT_MESSAGES] = to_json(response.output_messages)
        return span_attrs

    def _error_type(self, error: BaseException | None, response: ResponseInfo | None) -> str | None:
        if error is not None:
            return self.recorder.error_type(error)
        if response is not None and response.error_type:
            return response.error_type
        return None

    def _price(
        self, response: ResponseInfo | None, usage: Usage | None, span_attrs: dict[str, AttributeValue]
    ) -> float | None:
        """The call's cost in USD (also put on the span), or None when it cannot be priced."""
        prices = self.recorder.prices
        if usage is None or prices is None:
            return None
        request = self.request
        model = (response.response_model if response is not None else None) or request.model
        priced = prices.cost(request.provider, model, request.server_address, usage)
        if priced is None:
            return None
        span_attrs[sc.GEN_AI_USAGE_COST_AMOUNT] = priced[0]
        span_attrs[sc.GEN_AI_USAGE_COST_CURRENCY] = "USD"
        span_attrs[sc.GEN_AI_USAGE_COST_SOURCE] = priced[1]
        return priced[0]

    def _describe_span(
        self, span_attrs: dict[str, AttributeValue], error: BaseException | None, error_type: str | None
    ) -> None:
        span = self.span
        if not span.is_recording():
            return
        if span_attrs:
            span.set_attributes(span_attrs)
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        elif error_type is not None:
            span.set_status(Status(StatusCode.ERROR, error_type))

    def _record_metrics(self, attrs: dict[str, AttributeValue], duration: float, usage: Usage | None,
                        first_chunk: float | None, gaps: Sequence[float] | None,
                        error_type: str | None) -> None:  # fmt: skip
        """Records every histogram. ``attrs`` never carries error.type, which only duration takes."""
        inst = self.recorder.instruments
        if inst.duration is not None:
            inst.duration.record(
                duration, attrs if error_type is None else {**attrs, sc.ERROR_TYPE: error_type}, self.context
            )
            if usage is not None:
                token_usage: Any = inst.token_usage
                if usage.input_tokens is not None:
                    token_usage.record(
                        usage.input_tokens, {**attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_INPUT}, _NO_EXEMPLAR
                    )
                if usage.output_tokens is not None:
                    token_usage.record(
                        usage.output_tokens, {**attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_OUTPUT}, _NO_EXEMPLAR
                    )
            if first_chunk is not None:
                inst.ttfc.record(first_chunk - self._t0, attrs, _NO_EXEMPLAR)  # type: ignore[union-attr]
                if gaps:
                    record = inst.tpoc.record  # type: ignore[union-attr]
                    for gap in gaps:
                        record(gap, attrs, _NO_EXEMPLAR)
        if inst.latest is not None:
            ttfc = None if first_chunk is None else first_chunk - self._t0
            _record_latest(
                inst.latest, self.request.operation, attrs, duration, usage, ttfc, gaps, error_type, self.context
            )

    def _emit_details(self, end_attrs: dict[str, AttributeValue], response: ResponseInfo | None) -> None:
        rec = self.recorder
        attrs: dict[str, Any] = {k: v for k, v in self._attrs.items() if k not in _CONTENT_KEYS}
        attrs.update({k: v for k, v in end_attrs.items() if k not in _CONTENT_KEYS})
        if rec.capture_event:
            if self._content is not None:
                _content_attributes(self._content, attrs, to_any_value)
            if response is not None and response.output_messages is not None:
                attrs[sc.GEN_AI_OUTPUT_MESSAGES] = to_any_value(response.output_messages)
        rec.event_logger.emit(
            event_name=sc.EVENT_INFERENCE_DETAILS,
            severity_number=SeverityNumber.INFO,
            attributes=attrs,
            context=self.context,
        )

    def _emit_exception(self, error: BaseException) -> None:
        self.recorder.event_logger.emit(
            event_name=sc.EVENT_OPERATION_EXCEPTION,
            severity_number=SeverityNumber.WARN,
            attributes={sc.EXCEPTION_TYPE: type(error).__qualname__, sc.EXCEPTION_MESSAGE: str(error)},
            context=self.context,
        )


def _record_latest(latest: _LatestInstruments, operation: str, base: dict[str, AttributeValue], duration: float,
                   usage: Usage | None, ttfc: float | None, chunk_gaps: Sequence[float] | None,
                   error_type: str | None, span_context: Context) -> None:  # fmt: skip
    """The opt-in ``gen_ai.client.inference.*`` records of the newest draft."""
    with_error = base if error_type is None else {**base, sc.ERROR_TYPE: error_type}
    if operation not in _INFERENCE_OPERATIONS:
        latest.other_duration.record(duration, with_error, span_context)
        if usage is not None and usage.input_tokens is not None:
            latest.other_tokens.record(usage.input_tokens, {**base, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_INPUT}, _NO_EXEMPLAR)
        return
    latest.duration.record(duration, with_error, span_context)
    u = usage or Usage()
    # The draft records usage on every inference, failed ones included, as 0 when none arrived.
    modal = {**base, sc.GEN_AI_TOKEN_MODALITY: "unknown"}
    latest.input.add(u.input_tokens or 0, modal, _NO_EXEMPLAR)
    latest.output.add(u.output_tokens or 0, modal, _NO_EXEMPLAR)
    if u.cache_read_tokens is not None:
        latest.cache_read.add(u.cache_read_tokens, modal, _NO_EXEMPLAR)
    if u.cache_write_tokens is not None:
        latest.cache_write.add(u.cache_write_tokens, modal, _NO_EXEMPLAR)
    if u.reasoning_tokens is not None:
        latest.reasoning.add(u.reasoning_tokens, modal, _NO_EXEMPLAR)
    latest.op_input.record(u.input_tokens or 0, with_error, _NO_EXEMPLAR)
    latest.op_output.record(u.output_tokens or 0, with_error, _NO_EXEMPLAR)
    if ttfc is not None:
        latest.ttfc.record(ttfc, base, _NO_EXEMPLAR)
        for gap in chunk_gaps or ():
            latest.tpoc.record(gap, base, _NO_EXEMPLAR)


_CONTENT_KEYS = frozenset(
    {sc.GEN_AI_INPUT_MESSAGES, sc.GEN_AI_OUTPUT_MESSAGES, sc.GEN_AI_SYSTEM_INSTRUCTIONS, sc.GEN_AI_TOOL_DEFINITIONS}
)


def _content_attributes(content: RequestContent, attrs: dict[str, Any], encode: Any) -> None:
    if content.system_instructions:
        attrs[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = encode(content.system_instructions)
    if content.input_messages is not None:
        attrs[sc.GEN_AI_INPUT_MESSAGES] = encode(content.input_messages)
    if content.tool_definitions:
        attrs[sc.GEN_AI_TOOL_DEFINITIONS] = encode(content.tool_definitions)
