"""Span and log-record processors that sit in front of the exporting ones.

They wrap a downstream processor (typically a ``BatchSpanProcessor`` / ``BatchLogRecordProcessor``
holding an exporter) and forward what they keep, redacted. The SDK freezes a span before
``on_end``, so redaction forwards a redacted copy; log records are mutable and are redacted in
place before the downstream processor sees them. Nothing here raises into the application: a
failure is logged once and the item is dropped rather than exported unredacted.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status

from opentelemetry_instrumentation_llm._core.guard import report
from opentelemetry_instrumentation_llm.processors.redaction import Redactor
from opentelemetry_instrumentation_llm.processors.sampling import KEEP, TraceSampler

_Exporter = TypeVar("_Exporter", SpanExporter, LogRecordExporter)
_Processor = TypeVar("_Processor", SpanProcessor, LogRecordProcessor)


def redacted_span(span: ReadableSpan, redactor: Redactor) -> ReadableSpan:
    """A copy of ``span`` with every exported string redacted (``span`` itself when nothing changed)."""
    attributes = redactor.redact_attributes(span.attributes)
    events = [
        Event(event.name, redactor.redact_attributes(event.attributes), event.timestamp)  # type: ignore[arg-type]
        for event in span.events
    ]
    events_changed = any(new.attributes is not old.attributes for new, old in zip(events, span.events, strict=True))
    links = [Link(link.context, redactor.redact_attributes(link.attributes)) for link in span.links]
    links_changed = any(new.attributes is not old.attributes for new, old in zip(links, span.links, strict=True))
    name = redactor.redact_text(span.name)
    status = span.status
    description = redactor.redact_text(status.description) if status.description else status.description
    if (
        attributes is span.attributes
        and not events_changed
        and not links_changed
        and name is span.name
        and description is status.description
    ):
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events if events_changed else span.events,
        links=links if links_changed else span.links,
        kind=span.kind,
        status=Status(status.status_code, description) if description is not status.description else status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class _Forwarding:
    """``shutdown()`` and ``force_flush()`` go to the wrapped processor or exporter (``_inner``)."""

    _inner: Any

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self._inner.force_flush(timeout_millis))


class _RedactingExporter(_Forwarding, Generic[_Exporter]):
    def __init__(self, exporter: _Exporter, redactor: Redactor) -> None:
        self.exporter: _Exporter = exporter
        self._inner = exporter
        self.redactor = redactor


class _RedactingProcessor(_Forwarding, Generic[_Processor]):
    def __init__(self, downstream: _Processor, redactor: Redactor) -> None:
        self.downstream: _Processor = downstream
        self._inner = downstream
        self.redactor = redactor


class RedactingSpanExporter(_RedactingExporter[SpanExporter], SpanExporter):
    """Redacts spans on their way out, inside the batch processor's export thread.

    This is what ``setup()`` uses: redaction then costs the application's threads nothing on the
    call path (spans wait unredacted only in the process's own export queue).
    """

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        redacted = []
        for span in spans:
            try:
                redacted.append(redacted_span(span, self.redactor))
            except Exception as exc:  # noqa: BLE001 - fail closed: drop rather than leak
                report("redacting a span", exc)
        return self.exporter.export(redacted)


class RedactingLogRecordExporter(_RedactingExporter[LogRecordExporter], LogRecordExporter):
    """Redacts log records on their way out, inside the batch processor's export thread."""

    def export(self, batch: Sequence[Any]) -> Any:
        redacted = []
        for readable in batch:
            try:
                record = readable.log_record
                body = self.redactor.redact_value(record.body)
                attributes = self.redactor.redact_attributes(record.attributes)
                if body is record.body and attributes is record.attributes:
                    redacted.append(readable)
                    continue
                # The batch processor's copy shares its attributes with the emitted record: copy again.
                fresh = copy.copy(record)
                fresh.body = body
                fresh.attributes = attributes
                redacted.append(dataclasses.replace(readable, log_record=fresh))
            except Exception as exc:  # noqa: BLE001 - fail closed
                report("redacting a log record", exc)
        return self.exporter.export(redacted)


class RedactingSpanProcessor(_RedactingProcessor[SpanProcessor], SpanProcessor):
    """Forwards a redacted copy of every finished span to ``downstream``."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.downstream.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            copy = redacted_span(span, self.redactor)
        except Exception as exc:  # noqa: BLE001 - fail closed: never export an unredacted span
            report("redacting a span", exc)
            return
        self.downstream.on_end(copy)


class RedactingLogRecordProcessor(_RedactingProcessor[LogRecordProcessor], LogRecordProcessor):
    """Redacts each log record's body and attributes (any depth) before ``downstream`` sees it."""

    def on_emit(self, log_record: Any) -> None:
        try:
            record = log_record.log_record
            if record.body is not None:
                record.body = self.redactor.redact_value(record.body)
            attributes = record.attributes
            if attributes:
                for key, value in list(attributes.items()):
                    redacted = self.redactor.redact_value(value)
                    if redacted is not value:
                        attributes[key] = redacted
        except Exception as exc:  # noqa: BLE001 - fail closed
            report("redacting a log record", exc)
            return
        self.downstream.on_emit(log_record)


class SamplingSpanProcessor(_Forwarding, SpanProcessor):
    """Holds finished spans until their trace is decided by ``sampler``; forwards kept traces."""

    def __init__(self, downstream: SpanProcessor, sampler: TraceSampler) -> None:
        self.downstream = self._inner = downstream
        self.sampler = sampler
        sampler.connect(span_sink=downstream.on_end)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            self.sampler.on_span_start(span)
        except Exception as exc:  # noqa: BLE001
            report("tail sampling (start)", exc)
        self.downstream.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            self.sampler.on_span_end(span)
        except Exception as exc:  # noqa: BLE001
            report("tail sampling (end)", exc)

    def shutdown(self) -> None:
        self.sampler.shutdown()
        super().shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.sampler.flush()
        return super().force_flush(timeout_millis)


class SamplingLogRecordProcessor(_Forwarding, LogRecordProcessor):
    """Log records follow their trace's sampling decision; records outside any trace pass."""

    def __init__(self, downstream: LogRecordProcessor, sampler: TraceSampler) -> None:
        self.downstream = self._inner = downstream
        self.sampler = sampler
        sampler.connect(log_sink=downstream.on_emit)

    def on_emit(self, log_record: Any) -> None:
        trace_id = getattr(log_record.log_record, "trace_id", None)
        if not trace_id:
            self.downstream.on_emit(log_record)
            return
        try:
            decision = self.sampler.on_log(log_record, trace_id)
        except Exception as exc:  # noqa: BLE001
            report("tail sampling (log)", exc)
            decision = KEEP
        if decision is KEEP:
            self.downstream.on_emit(log_record)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.sampler.flush()
        return super().force_flush(timeout_millis)
