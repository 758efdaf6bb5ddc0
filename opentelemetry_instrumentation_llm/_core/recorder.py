"""The recorder: one place that turns provider-neutral records into spans, metrics and events.

A :class:`Recorder` is built once per instrumentation (tracer, instruments, event logger and
settings resolved up front). Each wrapped call gets an :class:`Invocation`, which owns the span
and ends it exactly once, through :meth:`Invocation.finish` or :meth:`Invocation.fail`.

Everything here sits on the hot path of every LLM call: attribute dictionaries are built
directly, nothing is serialised unless content capture is on, and every public method is
guarded so a bug here can never reach the user's code.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from time import perf_counter, time_ns
from typing import Any

from opentelemetry import _logs, context, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context, create_key, get_current
from opentelemetry.metrics import Meter, MeterProvider, get_meter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_llm import config, cost, feedback, request_context, semconv as sc
from opentelemetry_instrumentation_llm._core.content import to_any_value, to_json
from opentelemetry_instrumentation_llm._core.guard import report
from opentelemetry_instrumentation_llm._core.records import (
    RequestContent,
    RequestInfo,
    ResponseInfo,
    Usage,
)
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec
from opentelemetry_instrumentation_llm.config import ContentSettings, MetricNames
from opentelemetry_instrumentation_llm.cost import PriceBook
from opentelemetry_instrumentation_llm.version import __version__

# Set in the context while one of our GenAI spans is current: a nested wrapped call (an SDK
# helper calling another wrapped method, or a framework layered on an SDK we also patch) then
# proceeds without opening a second inference span.
LLM_SPAN_ACTIVE_KEY = create_key("opentelemetry-instrumentation-llm.active")



def suppressed() -> bool:
    """OpenTelemetry's suppress-instrumentation key is set, or one of our GenAI spans is current."""
    ctx = get_current()
    return bool(ctx.get(_SUPPRESS_INSTRUMENTATION_KEY) or ctx.get(LLM_SPAN_ACTIVE_KEY))


_INFERENCE_OPERATIONS = frozenset({sc.OP_CHAT, sc.OP_TEXT_COMPLETION, sc.OP_GENERATE_CONTENT})


class _Instruments:
    """The metric instruments for one recorder, by the configured naming scheme."""

    def __init__(self, meter: Meter, names: MetricNames) -> None:
        self.meter = meter
        self.names = names
        self.duration = self.token_usage = self.ttfc = self.tpoc = None
        if names.default_names:
            self.duration = meter.create_histogram(
                sc.METRIC_OPERATION_DURATION, unit="s",
                description="GenAI operation duration.",
                explicit_bucket_boundaries_advisory=sc.DURATION_BUCKETS,
            )
            self.token_usage = meter.create_histogram(
                sc.METRIC_TOKEN_USAGE, unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=sc.TOKEN_BUCKETS,
            )
            self.ttfc = meter.create_histogram(
                sc.METRIC_TIME_TO_FIRST_CHUNK, unit="s",
                description="Time to receive the first chunk of a streamed response.",
                explicit_bucket_boundaries_advisory=sc.DURATION_BUCKETS,
            )
            self.tpoc = meter.create_histogram(
                sc.METRIC_TIME_PER_OUTPUT_CHUNK, unit="s",
                description="Time between consecutive output chunks of a streamed response.",
                explicit_bucket_boundaries_advisory=sc.DURATION_BUCKETS,
            )
        self.latest = _LatestInstruments(meter) if names.latest_names else None
        self._cost: Any = None

    def cost_counter(self) -> Any:
        """The cost counter, created on first use (only when prices are known)."""
        if self._cost is None:
            self._cost = self.meter.create_counter(
                sc.METRIC_OPERATION_COST, unit="USD",
                description="Cost of GenAI operations in USD, from list prices and the user's overrides.")
        return self._cost


# Every SDK's metrics come from ONE meter scope (spans and events keep one scope per SDK). With a
# scope per SDK the same metric arrives in several scopes whose attribute keys differ (error.type
# in one, no server.port in another), and opentelemetry-exporter-prometheus (0.66b2) builds each
# Prometheus family from the first scope's label names, then appends the other scopes' label
# values by position: series with wrong labels (server_address="40141"). One scope means one
# metric stream per name, whose label set the exporter computes over all its points.
METER_SCOPE = "opentelemetry_instrumentation_llm"
_instruments_lock = threading.Lock()
_instruments_by_meter: weakref.WeakKeyDictionary[Meter, dict[MetricNames, _Instruments]] = (
    weakref.WeakKeyDictionary())


def _shared_instruments(meter: Meter, names: MetricNames) -> _Instruments:
    """The instruments of ``meter``, created once (creating them again makes the SDK warn)."""
    with _instruments_lock:
        by_names = _instruments_by_meter.setdefault(meter, {})
        if names not in by_names:
            by_names[names] = _Instruments(meter, names)
        return by_names[names]


class _LatestInstruments:
    """The restructured ``gen_ai.client.inference.*`` instruments of the newest draft (opt-in)."""

    def __init__(self, meter: Meter) -> None:
        d, t = sc.DURATION_BUCKETS, sc.TOKEN_BUCKETS
        h = meter.create_histogram
        c = meter.create_counter
        self.duration = h(sc.METRIC_INFERENCE_DURATION, unit="s", explicit_bucket_boundaries_advisory=d,
                          description="GenAI inference duration.")
        self.ttfc = h(sc.METRIC_INFERENCE_TIME_TO_FIRST_CHUNK, unit="s", explicit_bucket_boundaries_advisory=d,
                      description="Time to receive the first chunk of a streamed inference.")
        self.tpoc = h(sc.METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK, unit="s", explicit_bucket_boundaries_advisory=d,
                      description="Time between consecutive output chunks of a streamed inference.")
        self.input = c(sc.METRIC_INFERENCE_INPUT_TOKENS, unit="{token}", description="Input tokens used.")
        self.output = c(sc.METRIC_INFERENCE_OUTPUT_TOKENS, unit="{token}", description="Output tokens used.")
        self.cache_read = c(sc.METRIC_INFERENCE_CACHE_READ_TOKENS, unit="{token}",
                            description="Input tokens read from the provider's cache.")
        self.cache_write = c(sc.METRIC_INFERENCE_CACHE_WRITE_TOKENS, unit="{token}",
                             description="Input tokens written to the provider's cache.")
        self.reasoning = c(sc.METRIC_INFERENCE_REASONING_TOKENS, unit="{token}",
                           description="Output tokens spent on reasoning.")
        self.op_input = h(sc.METRIC_INFERENCE_OPERATION_INPUT_TOKENS, unit="{token}",
                          explicit_bucket_boundaries_advisory=t, description="Input tokens per inference.")
        self.op_output = h(sc.METRIC_INFERENCE_OPERATION_OUTPUT_TOKENS, unit="{token}",
                           explicit_bucket_boundaries_advisory=t, description="Output tokens per inference.")
        # Operations that are not inference (embeddings) keep the baseline names.
        self.other_duration = h(sc.METRIC_OPERATION_DURATION, unit="s", explicit_bucket_boundaries_advisory=d,
                                description="GenAI operation duration.")
        self.other_tokens = h(sc.METRIC_TOKEN_USAGE, unit="{token}", explicit_bucket_boundaries_advisory=t,
                              description="Number of input and output tokens used.")


class Recorder:
    """Telemetry plumbing for one instrumented SDK, resolved once at instrument time."""

    def __init__(
        self,
        spec: ProviderSpec,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        content: ContentSettings | None = None,
        metric_names: MetricNames = MetricNames.DEFAULT,
    ) -> None:
        scope = f"opentelemetry_instrumentation_llm.{spec.sdk}"
        self.spec = spec
        self.error_type = spec.error_type
        self.tracer: Tracer = trace.get_tracer(scope, __version__, tracer_provider)
        self.instruments = _shared_instruments(get_meter(METER_SCOPE, __version__, meter_provider), metric_names)
        self.event_logger = _logs.get_logger(scope, __version__, logger_provider=logger_provider)
        self.content = content or ContentSettings.from_env()
        capture = self.content.capture
        self.capture_any = capture.on_span or capture.on_event
        self.capture_span = capture.on_span
        self.capture_event = capture.on_event
        self.emit_event = self.content.emit_event
        self.prices = _price_book()
        self.metric_context = _metric_context()
        self.cost_counter = self.instruments.cost_counter() if self.prices is not None else None

    def start(self, endpoint: Endpoint, instance: Any, kwargs: dict[str, Any],
              streaming: bool = False) -> Invocation | None:
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
            return Invocation(self, request, content)
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            report("starting a span", exc)
            return None


def _price_book() -> PriceBook | None:
    """The price book, unless cost is switched off; a bad prices file disables cost, loudly."""
    try:
        if config.COST.read() is False:
            return None
        return cost.price_book()
    except config.ConfigurationError as exc:
        logging.getLogger(__name__).error("%s; costs are not recorded", exc)
        return None


def _metric_context() -> request_context.MetricContext | None:
    try:
        return request_context.metric_context()
    except config.ConfigurationError as exc:
        logging.getLogger(__name__).error("%s; no request context is added to metrics", exc)
        return None


def _request_attributes(request: RequestInfo) -> dict[str, AttributeValue]:
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
    if request.stream:
        attrs[sc.GEN_AI_REQUEST_STREAM] = True
    if request.attributes:
        attrs.update(request.attributes)
    return attrs


def _metric_attributes(request: RequestInfo) -> dict[str, AttributeValue]:
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


def _usage_attributes(usage: Usage, attrs: dict[str, AttributeValue]) -> None:
    if usage.input_tokens is not None:
        attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = usage.input_tokens
    if usage.output_tokens is not None:
        attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output_tokens
    if usage.cache_read_tokens is not None:
        attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cache_read_tokens
    if usage.cache_write_tokens is not None:
        attrs[sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = usage.cache_write_tokens
    if usage.reasoning_tokens is not None:
        attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_tokens


class Invocation:
    """One in-flight LLM call: owns its span and records its metrics and events exactly once."""

    __slots__ = ("_attrs", "_content", "_context_metric_attrs", "_done", "_start_ns", "_t0", "context", "recorder",
                 "request", "span")

    def __init__(self, recorder: Recorder, request: RequestInfo, content: RequestContent | None) -> None:
        self.recorder = recorder
        self.request = request
        self._content = content
        self._done = False
        attrs = _request_attributes(request)
        values = request_context.current_values()
        self._context_metric_attrs: dict[str, str] | None = None
        if values:
            attrs.update(request_context.span_attributes(values))
            if recorder.metric_context is not None:
                self._context_metric_attrs = recorder.metric_context.attributes(values)
        if content is not None and recorder.capture_span:
            _content_attributes(content, attrs, to_json)
        self._attrs = attrs
        name = f"{request.operation} {request.model}" if request.model else request.operation
        self._start_ns = time_ns()
        self.span = span = recorder.tracer.start_span(
            name, kind=SpanKind.CLIENT, attributes=attrs, start_time=self._start_ns
        )
        self.context: Context = context.set_value(LLM_SPAN_ACTIVE_KEY, True, trace.set_span_in_context(span))
        self._t0 = perf_counter()

    @property
    def done(self) -> bool:
        return self._done

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
            self._finish(response, end, first_chunk, chunk_gaps, error)
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            report("ending a span", exc)
            try:
                self.span.end()
            except Exception:  # noqa: BLE001 - fail open: instrumentation never breaks the call
                pass

    def fail(self, error: BaseException, response: ResponseInfo | None = None, **timing: Any) -> None:
        """End the call as failed; the user's exception itself is re-raised by the caller."""
        self.finish(response, error=error, **timing)

    def _finish(
        self,
        response: ResponseInfo | None,
        end: float | None,
        first_chunk: float | None,
        chunk_gaps: Sequence[float] | None,
        error: BaseException | None,
    ) -> None:
        rec = self.recorder
        span = self.span
        end = perf_counter() if end is None else end
        duration = end - self._t0
        recording = span.is_recording()
        usage = response.usage if response is not None else None
        metric_attrs = _metric_attributes(self.request)
        span_attrs: dict[str, AttributeValue] = {}

        if self._context_metric_attrs:
            metric_attrs.update(self._context_metric_attrs)
        if response is not None:
            if response.response_model:
                metric_attrs[sc.GEN_AI_RESPONSE_MODEL] = response.response_model
            if response.metric_attributes:
                metric_attrs.update(response.metric_attributes)
            if response.response_id:
                feedback.recent_responses.remember(response.response_id, span.get_span_context())
            if recording or rec.emit_event:
                _response_attributes(response, span_attrs)
                if response.output_messages is not None and rec.capture_span:
                    span_attrs[sc.GEN_AI_OUTPUT_MESSAGES] = to_json(response.output_messages)
        if first_chunk is not None:
            span_attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = first_chunk - self._t0

        error_type = None
        if error is not None:
            error_type = rec.error_type(error)
        elif response is not None and response.error_type:
            error_type = response.error_type
        if error_type is not None:
            span_attrs[sc.ERROR_TYPE] = error_type
            metric_attrs[sc.ERROR_TYPE] = error_type

        priced = None
        if usage is not None and rec.prices is not None:
            model = (response.response_model if response is not None else None) or self.request.model
            priced = rec.prices.cost(self.request.provider, model, self.request.server_address, usage)
            if priced is not None:
                span_attrs[sc.GEN_AI_USAGE_COST_AMOUNT] = priced[0]
                span_attrs[sc.GEN_AI_USAGE_COST_CURRENCY] = "USD"
                span_attrs[sc.GEN_AI_USAGE_COST_SOURCE] = priced[1]

        if recording:
            if span_attrs:
                span.set_attributes(span_attrs)
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            elif error_type is not None:
                span.set_status(Status(StatusCode.ERROR, error_type))

        self._record_metrics(metric_attrs, duration, usage, first_chunk, chunk_gaps, error_type)
        if priced is not None:
            cost_attrs = metric_attrs if error_type is None else {
                k: v for k, v in metric_attrs.items() if k != sc.ERROR_TYPE}
            rec.cost_counter.add(priced[0], cost_attrs)  # type: ignore[union-attr]

        if rec.emit_event:
            self._emit_details(span_attrs, response)
        if error is not None:
            self._emit_exception(error)
        span.end(end_time=self._start_ns + int(duration * 1e9))

    def _record_metrics(
        self,
        attrs: dict[str, AttributeValue],
        duration: float,
        usage: Usage | None,
        first_chunk: float | None,
        chunk_gaps: Sequence[float] | None,
        error_type: str | None,
    ) -> None:
        inst = self.recorder.instruments
        if inst.duration is not None:
            inst.duration.record(duration, attrs)
            if error_type is not None:
                # error.type belongs to the duration metric only.
                attrs = {k: v for k, v in attrs.items() if k != sc.ERROR_TYPE}
            if usage is not None:
                token_usage = inst.token_usage
                if usage.input_tokens is not None:
                    token_usage.record(usage.input_tokens, {**attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_INPUT})  # type: ignore[union-attr]
                if usage.output_tokens is not None:
                    token_usage.record(usage.output_tokens, {**attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_OUTPUT})  # type: ignore[union-attr]
            if first_chunk is not None:
                inst.ttfc.record(first_chunk - self._t0, attrs)  # type: ignore[union-attr]
                if chunk_gaps:
                    record = inst.tpoc.record  # type: ignore[union-attr]
                    for gap in chunk_gaps:
                        record(gap, attrs)
        if inst.latest is not None:
            self._record_latest(inst.latest, attrs, duration, usage, first_chunk, chunk_gaps, error_type)

    def _record_latest(
        self,
        latest: _LatestInstruments,
        attrs: dict[str, AttributeValue],
        duration: float,
        usage: Usage | None,
        first_chunk: float | None,
        chunk_gaps: Sequence[float] | None,
        error_type: str | None,
    ) -> None:
        base = {k: v for k, v in attrs.items() if k != sc.ERROR_TYPE}
        with_error = dict(base)
        if error_type is not None:
            with_error[sc.ERROR_TYPE] = error_type
        if self.request.operation not in _INFERENCE_OPERATIONS:
            latest.other_duration.record(duration, with_error)
            if usage is not None and usage.input_tokens is not None:
                latest.other_tokens.record(usage.input_tokens, {**base, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_INPUT})
            return
        latest.duration.record(duration, with_error)
        u = usage or Usage()
        # The draft records usage on every inference, failed ones included, as 0 when none arrived.
        modal = {**base, sc.GEN_AI_TOKEN_MODALITY: "unknown"}
        latest.input.add(u.input_tokens or 0, modal)
        latest.output.add(u.output_tokens or 0, modal)
        if u.cache_read_tokens is not None:
            latest.cache_read.add(u.cache_read_tokens, modal)
        if u.cache_write_tokens is not None:
            latest.cache_write.add(u.cache_write_tokens, modal)
        if u.reasoning_tokens is not None:
            latest.reasoning.add(u.reasoning_tokens, modal)
        latest.op_input.record(u.input_tokens or 0, with_error)
        latest.op_output.record(u.output_tokens or 0, with_error)
        if first_chunk is not None:
            latest.ttfc.record(first_chunk - self._t0, base)
            for gap in chunk_gaps or ():
                latest.tpoc.record(gap, base)

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
