"""Processors in front of the exporters: error- and latency-aware tail sampling, and redaction.

``build_span_processor`` / ``build_log_processor`` put them in front of exporting processors as
configured (by :class:`ProcessorSettings`, read from the ``OTEL_INSTRUMENTATION_LLM_*``
variables by default); ``setup()`` and the zero-code configurator call them. Order: sampling
first (so dropped traces are never redacted for nothing), then redaction, then the exporters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from opentelemetry_instrumentation_llm import config
from opentelemetry_instrumentation_llm.processors.exporting import (
    RedactingLogRecordExporter,
    RedactingLogRecordProcessor,
    RedactingSpanExporter,
    RedactingSpanProcessor,
    SamplingLogRecordProcessor,
    SamplingSpanProcessor,
    redacted_span,
)
from opentelemetry_instrumentation_llm.processors.redaction import (
    BUILTIN_DETECTORS,
    DETECTOR_NAMES,
    GROUPS,
    CustomRedaction,
    Redactor,
)
from opentelemetry_instrumentation_llm.processors.sampling import TraceSampler, ratio_keeps


@dataclass(frozen=True)
class ProcessorSettings:
    """What to put in front of the exporters. ``from_env()`` reads the documented variables."""

    redact: tuple[str, ...] = ()
    redact_mode: str = "mask"
    redact_hash_key: str | None = None
    redact_patterns: Mapping[str, str] = field(default_factory=dict)
    redact_custom: tuple[CustomRedaction, ...] = ()
    sampling_ratio: float | None = None
    sampling_slow_ms: float | None = None
    sampling_max_traces: int = 10_000
    sampling_decision_wait_ms: int = 30_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ProcessorSettings:
        return cls(
            redact=config.REDACT.read(environ),
            redact_mode=config.REDACT_MODE.read(environ),
            redact_hash_key=config.REDACT_HASH_KEY.read(environ),
            redact_patterns=config.REDACT_PATTERNS.read(environ),
            sampling_ratio=config.SAMPLING_RATIO.read(environ),
            sampling_slow_ms=config.SAMPLING_SLOW_MS.read(environ),
            sampling_max_traces=config.SAMPLING_MAX_TRACES.read(environ),
            sampling_decision_wait_ms=config.SAMPLING_DECISION_WAIT_MS.read(environ),
        )

    @property
    def redaction_enabled(self) -> bool:
        return bool(self.redact or self.redact_patterns or self.redact_custom)

    @property
    def sampling_enabled(self) -> bool:
        return self.sampling_ratio is not None and self.sampling_ratio < 1.0

    def redactor(self) -> Redactor | None:
        if not self.redaction_enabled:
            return None
        return Redactor(
            self.redact,
            mode=self.redact_mode,
            hash_key=self.redact_hash_key,
            patterns=self.redact_patterns,
            custom=self.redact_custom,
        )


@dataclass
class Processors:
    """The sampling core and redactor shared by one pipeline's span and log processors."""

    settings: ProcessorSettings
    redactor: Redactor | None
    sampler: TraceSampler | None

    @classmethod
    def create(
        cls, settings: ProcessorSettings | None = None, meter_provider: MeterProvider | None = None
    ) -> Processors:
        settings = settings or ProcessorSettings.from_env()
        sampler = None
        if settings.sampling_enabled:
            sampler = TraceSampler(
                settings.sampling_ratio if settings.sampling_ratio is not None else 1.0,
                slow_ms=settings.sampling_slow_ms,
                max_traces=settings.sampling_max_traces,
                decision_wait=settings.sampling_decision_wait_ms / 1000,
                meter_provider=meter_provider,
            )
        return cls(settings, settings.redactor(), sampler)

    @property
    def active(self) -> bool:
        return self.redactor is not None or self.sampler is not None

    def span_exporter(self, exporter: SpanExporter) -> SpanExporter:
        """``exporter``, redacting in the export thread when redaction is on (what ``setup()`` uses)."""
        return RedactingSpanExporter(exporter, self.redactor) if self.redactor is not None else exporter

    def log_exporter(self, exporter: LogRecordExporter) -> LogRecordExporter:
        return RedactingLogRecordExporter(exporter, self.redactor) if self.redactor is not None else exporter

    def span_processor(
        self, downstream: SpanProcessor | Sequence[SpanProcessor], *, redact: bool = True
    ) -> SpanProcessor:
        """Sampling (and, with ``redact``, redaction on the caller's thread) in front of ``downstream``.

        Pass ``redact=False`` when the exporters were wrapped with :meth:`span_exporter`.
        """
        chained: SpanProcessor = self._chain(
            _fan_out_spans(downstream), RedactingSpanProcessor, SamplingSpanProcessor, redact
        )
        return chained

    def log_processor(
        self, downstream: LogRecordProcessor | Sequence[LogRecordProcessor], *, redact: bool = True
    ) -> LogRecordProcessor:
        chained: LogRecordProcessor = self._chain(
            _fan_out_logs(downstream), RedactingLogRecordProcessor, SamplingLogRecordProcessor, redact
        )
        return chained

    def _chain(self, processor: Any, redacting: Any, sampling: Any, redact: bool) -> Any:
        """``processor`` behind redaction (when on and asked for), behind the tail sampler (when on)."""
        if redact and self.redactor is not None:
            processor = redacting(processor, self.redactor)
        if self.sampler is not None:
            processor = sampling(processor, self.sampler)
        return processor


def _fan_out_spans(downstream: SpanProcessor | Sequence[SpanProcessor]) -> SpanProcessor:
    from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor

    processor: SpanProcessor = _fan_out(downstream, SpanProcessor, SynchronousMultiSpanProcessor, "add_span_processor")
    return processor


def _fan_out_logs(downstream: LogRecordProcessor | Sequence[LogRecordProcessor]) -> LogRecordProcessor:
    from opentelemetry.sdk._logs import SynchronousMultiLogRecordProcessor

    multi = SynchronousMultiLogRecordProcessor
    processor: LogRecordProcessor = _fan_out(downstream, LogRecordProcessor, multi, "add_log_record_processor")
    return processor


def _fan_out(downstream: Any, single: type, multi_type: Any, add: str) -> Any:
    """One processor as it is; several behind the SDK's synchronous multi-processor, in order."""
    if isinstance(downstream, single):
        return downstream
    multi = multi_type()
    for processor in downstream:
        getattr(multi, add)(processor)
    return multi


__all__ = [
    "BUILTIN_DETECTORS",
    "DETECTOR_NAMES",
    "GROUPS",
    "ProcessorSettings",
    "Processors",
    "RedactingLogRecordExporter",
    "RedactingLogRecordProcessor",
    "RedactingSpanExporter",
    "RedactingSpanProcessor",
    "Redactor",
    "SamplingLogRecordProcessor",
    "SamplingSpanProcessor",
    "TraceSampler",
    "ratio_keeps",
    "redacted_span",
]
