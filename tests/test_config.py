"""Every variable parses what it documents and rejects the rest with a message naming it."""

from __future__ import annotations

import logging

import pytest

from opentelemetry_instrumentation_llm import config
from opentelemetry_instrumentation_llm.config import (
    CAPTURE_MESSAGE_CONTENT,
    GPU,
    METRIC_NAMES,
    SAMPLING_RATIO,
    ConfigurationError,
    ContentCapture,
    ContentSettings,
    MetricNames,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ContentCapture.NO_CONTENT),
        ("", ContentCapture.NO_CONTENT),
        ("no_content", ContentCapture.NO_CONTENT),
        ("SPAN_ONLY", ContentCapture.SPAN_ONLY),
        ("event_only", ContentCapture.EVENT_ONLY),
        (" Span_And_Event ", ContentCapture.SPAN_AND_EVENT),
        ("true", ContentCapture.SPAN_AND_EVENT),
        ("TRUE", ContentCapture.SPAN_AND_EVENT),
        ("false", ContentCapture.NO_CONTENT),
        ("1", ContentCapture.SPAN_AND_EVENT),
    ],
)
def test_capture_modes(raw, expected):
    env = {} if raw is None else {CAPTURE_MESSAGE_CONTENT.name: raw}
    assert CAPTURE_MESSAGE_CONTENT.read(env) is expected


def test_emit_event_follows_the_mode_unless_set():
    assert ContentSettings.from_env({CAPTURE_MESSAGE_CONTENT.name: "EVENT_ONLY"}).emit_event is True
    assert ContentSettings.from_env({CAPTURE_MESSAGE_CONTENT.name: "SPAN_ONLY"}).emit_event is False
    settings = ContentSettings.from_env(
        {CAPTURE_MESSAGE_CONTENT.name: "SPAN_AND_EVENT", "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT": "false"}
    )
    assert (settings.capture, settings.emit_event) == (ContentCapture.SPAN_AND_EVENT, False)


def test_lenient_variable_warns_once_with_name_and_accepted_values(caplog):
    config._warned.discard(METRIC_NAMES.name)
    with caplog.at_level(logging.WARNING):
        assert METRIC_NAMES.read({METRIC_NAMES.name: "newest"}) is MetricNames.DEFAULT
        assert METRIC_NAMES.read({METRIC_NAMES.name: "newest"}) is MetricNames.DEFAULT
    (record,) = [r for r in caplog.records if METRIC_NAMES.name in r.getMessage()]
    assert "default, latest, both" in record.getMessage() and "'newest'" in record.getMessage()


@pytest.mark.parametrize("raw", ["1.5", "-0.1", "ten percent", "nan"])
def test_strict_variable_raises_naming_variable_and_accepted_values(raw):
    with pytest.raises(ConfigurationError) as raised:
        SAMPLING_RATIO.read({SAMPLING_RATIO.name: raw})
    assert SAMPLING_RATIO.name in str(raised.value) and "from 0 to 1" in str(raised.value)


def test_strict_variable_accepts_its_range():
    assert SAMPLING_RATIO.read({SAMPLING_RATIO.name: "0.1"}) == 0.1
    assert SAMPLING_RATIO.read({}) is None


def test_booleans():
    assert GPU.read({}) is True
    assert GPU.read({GPU.name: "off"}) is False
    assert GPU.read({GPU.name: "True"}) is True
