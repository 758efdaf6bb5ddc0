"""One call to ship LLM telemetry: providers, OTLP exporters, our processors, GPU gauges, instrumentation.

:func:`setup` builds tracer, meter and logger providers from the standard ``OTEL_*`` variables
(exporters, OTLP endpoint/protocol/headers, resource attributes, batch and export intervals),
puts our processors in front of the exporters when they are configured, starts the GPU gauges
when available, instruments every installed SDK, and returns a :class:`LLMTelemetry` handle whose
``shutdown()`` flushes everything. A flush is also registered at interpreter exit.

``OTEL_METRICS_EXPORTER=prometheus`` (alone or in a list such as ``otlp,prometheus``) serves the
metrics for Prometheus to scrape on ``OTEL_EXPORTER_PROMETHEUS_HOST``:``OTEL_EXPORTER_PROMETHEUS_PORT``
(default ``localhost:9464``), with ``opentelemetry-exporter-prometheus`` (the ``prometheus`` extra).

Exporting never blocks an LLM call: spans and log records go to bounded batch queues drained by a
background thread; when a queue is full the oldest item is dropped, counted in the SDK's
``otel.sdk.processor.*.processed`` metric (``error.type=queue_full``) and logged (deduplicated).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from opentelemetry_instrumentation_llm import config
from opentelemetry_instrumentation_llm.processors import Processors, ProcessorSettings

_logger = logging.getLogger(__name__)

SIGNALS = ("traces", "metrics", "logs")
_EXPORTER_ENV = {"traces": "OTEL_TRACES_EXPORTER", "metrics": "OTEL_METRICS_EXPORTER", "logs": "OTEL_LOGS_EXPORTER"}
_PROTOCOL_ENV = {s: f"OTEL_EXPORTER_OTLP_{s.upper()}_PROTOCOL" for s in SIGNALS}
_ENTRY_POINT_GROUP = {s: f"opentelemetry_{s}_exporter" for s in SIGNALS}
_OTLP_BY_PROTOCOL = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}


@dataclass
class LLMTelemetry:
    """What :func:`setup` built. ``shutdown()`` flushes and stops everything; it is idempotent."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    instrumented: list[str] = field(default_factory=list)
    gpu: bool = False
    exporters: dict[str, list[str]] = field(default_factory=dict)
    redaction: bool = False
    sampling: bool = False
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _shut_down: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_shut_down(self) -> bool:
        return self._shut_down

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        ok = self.tracer_provider.force_flush(timeout_millis)
        ok = self.logger_provider.force_flush(timeout_millis) and ok
        return self.meter_provider.force_flush(timeout_millis) and ok

    def shutdown(self) -> None:
        """Flush pending spans, metrics and events, stop exporting, and undo the instrumentation."""
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
        from opentelemetry_instrumentation_llm.instrumentor import uninstrument

        try:
            if self.instrumented:
                uninstrument()
            if self.gpu:
                _stop_gpu()
        finally:
            # Spans first: events and metrics of the last calls are recorded when their spans end.
            self.tracer_provider.shutdown()
            self.logger_provider.shutdown()
            self.meter_provider.shutdown()
            for close in self._closers:  # e.g. the Prometheus endpoint's HTTP server
                close()


_state_lock = threading.Lock()
_current: LLMTelemetry | None = None
_atexit_registered = False


def current() -> LLMTelemetry | None:
    """The handle of the pipeline :func:`setup` built (None before, or after its shutdown)."""
    return _current if _current is not None and not _current.is_shut_down else None


def setup(
    service_name: str | None = None,
    *,
    resource_attributes: Mapping[str, Any] | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    export_timeout: float | None = None,
    metric_readers: Sequence[MetricReader] = (),
    processors: ProcessorSettings | None = None,
    instrument: bool = True,
    gpu: bool | None = None,
    set_global: bool = True,
    **instrument_kwargs: Any,
) -> LLMTelemetry:
    """Build and install the OpenTelemetry pipeline for an LLM application (idempotent).

    Arguments override the standard variables they correspond to; anything not given is read
    from the environment exactly as the OpenTelemetry SDK would (``OTEL_SERVICE_NAME``,
    ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_{TRACES,METRICS,LOGS}_EXPORTER``,
    ``OTEL_EXPORTER_OTLP_[{SIGNAL}_]{ENDPOINT,PROTOCOL,HEADERS,TIMEOUT}``, ``OTEL_BSP_*``,
    ``OTEL_BLRP_*``, ``OTEL_METRIC_EXPORT_INTERVAL``, ``OTEL_TRACES_SAMPLER``...).

    ``protocol`` is ``grpc`` (the Python SDK's default) or ``http/protobuf``. ``metric_readers``
    adds readers (e.g. a Prometheus reader) next to the exported one. ``processors`` configures
    tail sampling and redaction in code (default: ``ProcessorSettings.from_env()``, i.e. the
    ``OTEL_INSTRUMENTATION_LLM_REDACT*`` and ``..._SAMPLING_*`` variables); invalid values raise
    :class:`ConfigurationError` naming the variable, before anything is installed. ``instrument`` instruments
    every installed SDK (extra keyword arguments go to the instrumentors, e.g.
    ``capture_content``). ``gpu`` starts the NVML gauges (default: ``OTEL_INSTRUMENTATION_LLM_GPU``).
    ``set_global`` installs the providers as the global ones when none is installed yet.

    Calling it again returns the same handle until that handle is shut down.
    """
    # long: the public signature and its documentation; the work itself is in _build and _start.
    global _current, _atexit_registered
    with _state_lock:
        if _current is not None and not _current.is_shut_down:
            _logger.debug("setup(): already set up; returning the existing pipeline")
            return _current
        settings = processors if processors is not None else ProcessorSettings.from_env()  # validate first
        attributes = dict(resource_attributes or {})
        if service_name:
            attributes[SERVICE_NAME] = service_name
        resource = _HashedOnceResource.of(Resource.create(attributes))
        options = _ExportOptions(endpoint, protocol, dict(headers) if headers else None, export_timeout)
        # Resolve every exporter before starting anything, so a bad variable fails cleanly.
        exporters = {signal: options.exporters(signal) for signal in SIGNALS}

        readers, closers = _metric_readers(exporters["metrics"])  # may raise: nothing is installed yet
        handle = _build(resource, settings, options, exporters, [*readers, *metric_readers], closers)
        if set_global:
            _install_globals(handle)
        _start(handle, instrument, gpu, instrument_kwargs)
        _current = handle
        if not _atexit_registered:
            atexit.register(_shutdown_at_exit)
            _atexit_registered = True
        _logger.debug("setup(): exporters %s, instrumented %s, gpu %s", options.chosen, handle.instrumented, handle.gpu)
        return handle


def _build(
    resource: Resource,
    settings: ProcessorSettings,
    options: _ExportOptions,
    exporters: dict[str, Any],
    readers: list[MetricReader],
    closers: Any,
) -> LLMTelemetry:
    """The three providers, with redaction around the exporters and sampling before the batch processors."""
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    tracer_provider = TracerProvider(resource=resource)
    logger_provider = LoggerProvider(resource=resource)
    chain = Processors.create(settings, meter_provider=meter_provider)
    # Redaction wraps the exporters (it then runs in the export threads, off the call path);
    # sampling sits in front of the batch processors.
    with _processor_self_metrics():
        span_exporting = [
            BatchSpanProcessor(chain.span_exporter(e), meter_provider=meter_provider) for e in exporters["traces"]
        ]
        log_exporting = [
            BatchLogRecordProcessor(chain.log_exporter(e), meter_provider=meter_provider) for e in exporters["logs"]
        ]
    if span_exporting:
        tracer_provider.add_span_processor(chain.span_processor(span_exporting, redact=False))
    if log_exporting:
        logger_provider.add_log_record_processor(chain.log_processor(log_exporting, redact=False))
    return LLMTelemetry(
        tracer_provider,
        meter_provider,
        logger_provider,
        exporters=options.chosen,
        redaction=chain.redactor is not None,
        sampling=chain.sampler is not None,
        _closers=closers,
    )


def _start(handle: LLMTelemetry, instrument: bool, gpu: bool | None, instrument_kwargs: dict[str, Any]) -> None:
    """Instrument the installed SDKs and start the GPU gauges, as asked."""
    if instrument:
        from opentelemetry_instrumentation_llm.instrumentor import instrument as instrument_all

        handle.instrumented = instrument_all(
            tracer_provider=handle.tracer_provider,
            meter_provider=handle.meter_provider,
            logger_provider=handle.logger_provider,
            **instrument_kwargs,
        )
    if gpu if gpu is not None else config.GPU.read() is not False:
        handle.gpu = _start_gpu(handle.meter_provider)


def _shutdown_at_exit() -> None:
    handle = current()
    if handle is not None:
        handle.shutdown()


# --------------------------------------------------------------------------- export cost


class _HashedOnceResource(Resource):
    """The pipeline's resource, hashed once instead of once per exported span and log record.

    The OTLP encoders group every span and log record of a batch by resource, and
    ``Resource.__hash__`` JSON-encodes all its attributes each time: 2-9 µs of about 45 µs per
    span with five attributes (``benchmarks/export_encoding.py``), more with resource detectors,
    in the export thread that shares the interpreter with the application. A resource is immutable, so its hash can be
    kept; equality, merging and everything exported are unchanged.
    """

    def __init__(self, attributes: Any, schema_url: str | None = None) -> None:
        super().__init__(attributes, schema_url)
        self._hash = super().__hash__()

    @classmethod
    def of(cls, resource: Resource) -> _HashedOnceResource:
        return cls(resource.attributes, resource.schema_url)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)


# --------------------------------------------------------------------------- exporters

_SDK_SELF_METRICS = "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED"


@contextlib.contextmanager
def _processor_self_metrics() -> Iterator[None]:
    """Have the batch processors we build count what they process and drop (queue full).

    The SDK reads ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED`` when a processor is built and
    defaults it to off; we default it to on for our processors only (an explicit value wins), so
    ``otel.sdk.processor.{span,log}.processed{error.type=queue_full}`` shows data lost to a slow
    or absent collector.
    """
    if _SDK_SELF_METRICS in os.environ:
        yield
        return
    os.environ[_SDK_SELF_METRICS] = "true"
    try:
        yield
    finally:
        os.environ.pop(_SDK_SELF_METRICS, None)


@dataclass
class _ExportOptions:
    endpoint: str | None
    protocol: str | None
    headers: dict[str, str] | None
    timeout: float | None
    chosen: dict[str, list[str]] = field(default_factory=dict)

    def exporters(self, signal: str) -> list[Any]:
        """Exporters for one signal, by ``OTEL_{SIGNAL}_EXPORTER`` (default ``otlp``), as the SDK loads them."""
        names = [n.strip() for n in os.environ.get(_EXPORTER_ENV[signal], "otlp").split(",") if n.strip()]
        built: list[Any] = []
        self.chosen[signal] = []
        for name in names:
            if name == "none":
                continue
            if signal == "metrics" and name == "prometheus":
                built.append(PrometheusPull.from_env())
                self.chosen[signal].append(name)
                continue
            entry_name = name
            if name == "otlp":
                protocol = (
                    self.protocol
                    or os.environ.get(_PROTOCOL_ENV[signal])
                    or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                    or "grpc"
                ).strip()
                if protocol not in _OTLP_BY_PROTOCOL:
                    raise config.ConfigurationError(
                        f"Invalid OTLP protocol {protocol!r} (OTEL_EXPORTER_OTLP_PROTOCOL / "
                        f"{_PROTOCOL_ENV[signal]} or setup(protocol=...)): accepted values are "
                        + ", ".join(_OTLP_BY_PROTOCOL)
                    )
                entry_name = _OTLP_BY_PROTOCOL[protocol]
            found = entry_points(group=_ENTRY_POINT_GROUP[signal], name=entry_name)
            if not found:
                installed = ", ".join(sorted(e.name for e in entry_points(group=_ENTRY_POINT_GROUP[signal])))
                builtin = "otlp, prometheus, none" if signal == "metrics" else "otlp, none"
                raise config.ConfigurationError(
                    f"Unknown {signal} exporter {name!r} in {_EXPORTER_ENV[signal]}: accepted values are {builtin}, "
                    f"or an installed exporter ({installed})"
                )
            exporter_type = next(iter(found)).load()
            built.append(exporter_type(**self._arguments(signal, entry_name)))
            self.chosen[signal].append(entry_name)
        return built

    def _arguments(self, signal: str, entry_name: str) -> dict[str, Any]:
        if not entry_name.startswith("otlp"):
            return {}
        kwargs: dict[str, Any] = {}
        if self.endpoint:
            base = self.endpoint.rstrip("/")
            kwargs["endpoint"] = f"{base}/v1/{signal}" if entry_name == "otlp_proto_http" else base
        if self.headers:
            kwargs["headers"] = self.headers
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        return kwargs


# --------------------------------------------------------------------------- metric readers

_PROMETHEUS_HOST_ENV = "OTEL_EXPORTER_PROMETHEUS_HOST"
_PROMETHEUS_PORT_ENV = "OTEL_EXPORTER_PROMETHEUS_PORT"


@dataclass(frozen=True)
class PrometheusPull:
    """``OTEL_METRICS_EXPORTER=prometheus``: a /metrics endpoint for Prometheus to scrape.

    The exporter's entry point is a metric *reader* that starts its HTTP server as it is built and
    never stops it; we build the reader and the server ourselves, after every other setting has
    been validated, and stop the server on shutdown so a later ``setup()`` can listen again.
    """

    host: str
    port: int

    @classmethod
    def from_env(cls) -> PrometheusPull:
        host = os.environ.get(_PROMETHEUS_HOST_ENV, "").strip() or "localhost"
        raw = os.environ.get(_PROMETHEUS_PORT_ENV, "").strip() or "9464"
        if not raw.isdigit() or not 0 <= int(raw) <= 65535:
            raise config.ConfigurationError(
                f"Invalid {_PROMETHEUS_PORT_ENV} {raw!r}: accepted values are a port number from 0 to 65535 "
                "(default 9464)"
            )
        try:
            import opentelemetry.exporter.prometheus  # noqa: F401
        except ImportError as exc:
            raise config.ConfigurationError(
                "OTEL_METRICS_EXPORTER=prometheus needs opentelemetry-exporter-prometheus: "
                "pip install 'opentelemetry-instrumentation-llm[prometheus]'"
            ) from exc
        return cls(host, int(raw))

    def start(self) -> tuple[MetricReader, Callable[[], None]]:
        """The reader, registered in prometheus_client's default registry, and a function that
        stops it serving. The default registry is the standard exporter's too, so metrics the
        application registers with prometheus_client are served on the same endpoint."""
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import start_http_server

        try:
            server, _ = start_http_server(self.port, addr=self.host)
        except OSError as exc:
            raise config.ConfigurationError(
                f"Cannot serve Prometheus metrics on {self.host}:{self.port} ({_PROMETHEUS_HOST_ENV}, "
                f"{_PROMETHEUS_PORT_ENV}): {exc}"
            ) from exc

        def close() -> None:
            server.shutdown()
            server.server_close()

        try:
            return PrometheusMetricReader(), close
        except Exception:
            close()
            raise


def _metric_readers(configured: Sequence[Any]) -> tuple[list[MetricReader], list[Callable[[], None]]]:
    """Readers for the configured metrics exporters: exporters are read periodically; readers
    (an entry point may name a ``MetricReader`` class) are used as they are."""
    readers: list[MetricReader] = []
    closers: list[Callable[[], None]] = []
    try:
        for item in configured:
            if isinstance(item, PrometheusPull):
                reader, close = item.start()
                readers.append(reader)
                closers.append(close)
            elif isinstance(item, MetricReader):
                readers.append(item)
            else:
                readers.append(PeriodicExportingMetricReader(item))
    except Exception:
        for close in closers:
            close()
        raise
    return readers, closers


# --------------------------------------------------------------------------- hooks into other parts


def _start_gpu(meter_provider: MeterProvider) -> bool:
    from opentelemetry_instrumentation_llm.gpu import GPUInstrumentor

    instrumentor = GPUInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(meter_provider=meter_provider)
    return bool(instrumentor.is_instrumented_by_opentelemetry)


def _stop_gpu() -> None:
    from opentelemetry_instrumentation_llm.gpu import GPUInstrumentor

    instrumentor = GPUInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


def _install_globals(handle: LLMTelemetry) -> None:
    """Install our providers globally, unless an SDK provider is already there (it cannot be replaced)."""
    from opentelemetry.sdk._logs import LoggerProvider as SdkLoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

    for kind, getter, setter, provider, sdk_type in (
        ("tracer", trace.get_tracer_provider, trace.set_tracer_provider, handle.tracer_provider, SdkTracerProvider),
        ("meter", metrics.get_meter_provider, metrics.set_meter_provider, handle.meter_provider, SdkMeterProvider),
        ("logger", _logs.get_logger_provider, _logs.set_logger_provider, handle.logger_provider, SdkLoggerProvider),
    ):
        if isinstance(getter(), sdk_type):
            _logger.warning(
                "A global %s provider is already installed; setup() keeps it global and uses its own "
                "provider for LLM instrumentation only",
                kind,
            )
            continue
        setter(provider)  # type: ignore[operator,arg-type]
