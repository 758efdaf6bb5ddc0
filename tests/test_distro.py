"""The distro's one reach into SDK internals: wrapping processors another configurator installed.

These tests run against the installed opentelemetry-sdk. If a release moves the processor tuples,
they fail here, naming what moved, instead of redaction silently not applying in production.
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_llm.distro import (
    LOG_RECORD_PROCESSORS,
    SPAN_PROCESSORS,
    wrap_installed_processors,
)
from opentelemetry_instrumentation_llm.processors import Processors, ProcessorSettings

SECRET = "mail me at jane.doe@example.com"


@pytest.fixture
def redacting() -> Processors:
    return Processors.create(ProcessorSettings(redact=("email",)))


@pytest.mark.parametrize(
    ("provider_type", "where"), [(TracerProvider, SPAN_PROCESSORS), (LoggerProvider, LOG_RECORD_PROCESSORS)]
)
def test_the_sdk_still_keeps_installed_processors_where_we_look(provider_type: Any, where: tuple[str, str]):
    provider = provider_type()
    holder = getattr(provider, where[0], None)
    assert holder is not None, f"opentelemetry-sdk no longer has {provider_type.__name__}.{where[0]}"
    assert isinstance(getattr(holder, where[1], None), tuple), (
        f"opentelemetry-sdk no longer keeps a tuple at {provider_type.__name__}.{where[0]}.{where[1]}"
    )


def test_spans_go_through_the_wrapper_after_wrapping(redacting: Processors):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert wrap_installed_processors(provider, SPAN_PROCESSORS, redacting.span_processor)
    with provider.get_tracer("t").start_as_current_span("s") as span:
        span.set_attribute("note", SECRET)
    (finished,) = exporter.get_finished_spans()
    assert "jane.doe@example.com" not in str(finished.attributes["note"])
    assert "[REDACTED:email]" in str(finished.attributes["note"])


def test_log_records_go_through_the_wrapper_after_wrapping(redacting: Processors):
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    assert wrap_installed_processors(provider, LOG_RECORD_PROCESSORS, redacting.log_processor)
    provider.get_logger("t").emit(LogRecord(body=SECRET))
    (finished,) = exporter.get_finished_logs()
    assert "jane.doe@example.com" not in str(finished.log_record.body)


def test_a_provider_without_processors_is_left_alone(redacting: Processors):
    provider = TracerProvider()
    assert not wrap_installed_processors(provider, SPAN_PROCESSORS, redacting.span_processor)
    assert getattr(getattr(provider, SPAN_PROCESSORS[0]), SPAN_PROCESSORS[1]) == ()


def test_an_unknown_layout_raises_instead_of_guessing(redacting: Processors):
    class Moved:
        _active_span_processor = type("Multi", (), {"_span_processors": []})()

    with pytest.raises(TypeError, match="not the tuple"):
        wrap_installed_processors(Moved(), SPAN_PROCESSORS, redacting.span_processor)
    with pytest.raises(AttributeError):
        wrap_installed_processors(object(), SPAN_PROCESSORS, redacting.span_processor)
