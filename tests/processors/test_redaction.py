"""Redaction: detectors, replacement modes, and nothing sensitive reaching the exporters.

Property tests embed generated PII and secrets in random text, messages and nested structures,
emit them through real SDK providers, and search everything the in-memory exporters received.
Example counts are stated on each test (hypothesis ``max_examples``).
"""

from __future__ import annotations

import ipaddress
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from opentelemetry_instrumentation_llm.config import ConfigurationError
from opentelemetry_instrumentation_llm.processors import (
    ProcessorSettings,
    RedactingLogRecordProcessor,
    RedactingSpanProcessor,
    Redactor,
)
from opentelemetry_instrumentation_llm.processors.redaction import iban_valid, luhn_valid

# --------------------------------------------------------------------------- generators of sensitive values

ALNUM = string.ascii_letters + string.digits


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


cards = st.builds(
    lambda digits, sep: sep.join(_luhn_complete("4" + digits)[i : i + 4] for i in range(0, 16, 4)),
    st.text("0123456789", min_size=14, max_size=14),
    st.sampled_from(["", " ", "-"]),
)
emails = st.from_regex(r"[a-z][a-z0-9._]{0,12}@[a-z][a-z0-9-]{1,12}\.(com|org|net|io|fr)", fullmatch=True)
ssns = st.builds(
    lambda a, g, s: f"{a:03d}-{g:02d}-{s:04d}",
    st.integers(1, 899).filter(lambda a: a != 666),
    st.integers(1, 99),
    st.integers(1, 9999),
)
phones = st.one_of(
    st.builds(lambda a, b, c: f"+1 {a} {b} {c}", st.integers(200, 999), st.integers(200, 999), st.integers(1000, 9999)),
    st.builds(lambda a, b, c: f"({a}) {b}-{c}", st.integers(200, 999), st.integers(200, 999), st.integers(1000, 9999)),
    st.builds(lambda a, b, c: f"{a}-{b}-{c}", st.integers(200, 999), st.integers(200, 999), st.integers(1000, 9999)),
    st.builds(
        lambda cc, n: f"+{cc} {n[:2]} {n[2:5]} {n[5:]}",
        st.integers(30, 49),
        st.text("0123456789", min_size=9, max_size=9),
    ),
)
ipv4s = st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", *[st.integers(1, 255)] * 4)
ipv6s = (
    st.integers(1 << 100, (1 << 128) - 1)
    .map(lambda n: str(ipaddress.IPv6Address(n)))
    .filter(lambda a: sum(1 for g in a.split(":") if g) >= 3)
)


def _iban(bank: str, account: str) -> str:
    for check in range(100):
        candidate = f"GB{check:02d}{bank}{account}"
        if iban_valid(candidate):
            return " ".join(candidate[i : i + 4] for i in range(0, len(candidate), 4))
    raise AssertionError("unreachable")


ibans = st.builds(
    _iban, st.text(string.ascii_uppercase, min_size=4, max_size=4), st.text("0123456789", min_size=14, max_size=14)
)
secrets_ = st.one_of(
    st.text(ALNUM, min_size=40, max_size=48).map(lambda s: "sk-proj-" + s),
    st.text(ALNUM, min_size=40, max_size=48).map(lambda s: "sk-ant-api03-" + s),
    st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16).map(lambda s: "AKIA" + s),
    st.text(ALNUM, min_size=36, max_size=40).map(lambda s: "ghp_" + s),
    st.text(ALNUM + "_-", min_size=35, max_size=35).map(lambda s: "AIza" + s),
    st.builds(lambda a, b, c: f"eyJ{a}.eyJ{b}.{c}", *[st.text(ALNUM, min_size=8, max_size=20)] * 3),
    st.text(ALNUM, min_size=24, max_size=40).map(lambda s: "Bearer " + s),
    st.text(ALNUM + "/+", min_size=64, max_size=64).map(
        lambda s: f"-----BEGIN PRIVATE KEY-----\n{s}\n-----END PRIVATE KEY-----"
    ),
)
sensitive = st.one_of(emails, cards, ssns, phones, ipv4s, ipv6s, ibans, secrets_)

# Filler that cannot form a sensitive value on its own: letters, spaces and mild punctuation.
filler = st.text(string.ascii_letters + " ,.!?", max_size=40)


@st.composite
def texts_with_secrets(draw: Any) -> tuple[str, list[str]]:
    values = draw(st.lists(sensitive, min_size=1, max_size=4))
    parts = []
    for value in values:
        parts += [draw(filler), value]
    parts.append(draw(filler))
    return " ".join(parts), values


# --------------------------------------------------------------------------- a real pipeline


class Pipeline:
    def __init__(self, redactor: Redactor) -> None:
        self.spans = InMemorySpanExporter()
        self.logs = InMemoryLogRecordExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(RedactingSpanProcessor(SimpleSpanProcessor(self.spans), redactor))
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(
            RedactingLogRecordProcessor(SimpleLogRecordProcessor(self.logs), redactor)
        )
        self.tracer = self.tracer_provider.get_tracer("test")
        self.logger = self.logger_provider.get_logger("test")

    def emit(self, text: str, structure: Any) -> None:
        messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": text}]}])
        with self.tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={"gen_ai.input.messages": messages, "note": text, "tags": [text, "plain"], "count": 3},
        ) as span:
            span.add_event("user.input", {"text": text})
            span.set_status(Status(StatusCode.ERROR, f"failed on {text}"))
            self.logger.emit(
                event_name="gen_ai.client.inference.operation.details",
                body={"echo": structure},
                attributes={
                    "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": text}]}],
                    "nested": structure,
                },
            )

    def exported(self) -> str:
        out = []
        for span in self.spans.get_finished_spans():
            out.append(span.to_json())
        for entry in self.logs.get_finished_logs():
            out.append(repr(entry.log_record.body))
            out.append(repr(dict(entry.log_record.attributes or {})))
        return "\n".join(out)

    def clear(self) -> None:
        self.spans.clear()
        self.logs.clear()


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(Redactor())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=texts_with_secrets(), depth=st.integers(0, 4))
def test_no_generated_secret_reaches_any_exporter(pipeline, case, depth):
    """300 examples: random text with 1-4 embedded values of every kind, in span attributes (plain,
    array, JSON messages), span events, span status, log bodies and log attributes nested 0-4 deep."""
    text, values = case
    structure: Any = text
    for level in range(depth):
        structure = {"level": level, "items": [structure, "ok"]}
    pipeline.clear()
    pipeline.emit(text, structure)
    exported = pipeline.exported()
    for value in values:
        assert value not in exported, value
    assert "[REDACTED:" in exported
    for span in pipeline.spans.get_finished_spans():
        json.loads(span.attributes["gen_ai.input.messages"])  # JSON content stays valid


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(string.ascii_letters + string.punctuation.replace("@", "") + " \n", max_size=200),
    numbers=st.lists(st.integers(0, 99_999), max_size=3),
)
def test_ordinary_text_is_left_intact(pipeline, text, numbers):
    """300 examples: prose with punctuation and short numbers (dates, versions, counts) is unchanged.

    At most three numbers of at most five digits: four Luhn-valid groups of four digits, or a
    4-6-5 group (Amex), *are* card-shaped, and redacting them is intended, not a false positive.
    """
    ordinary = text + " " + " ".join(str(n) for n in numbers) + " on 2026-11-24 at 12:30:45, v1.2.3, x[1::2]"
    assert Redactor().redact_text(ordinary) == ordinary
    pipeline.clear()
    pipeline.emit(ordinary, {"k": ordinary})
    assert "[REDACTED:" not in pipeline.exported()


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "jane.doe@example.com"),
        ("credit_card", "4111 1111 1111 1111"),
        ("us_ssn", "123-45-6789"),
        ("phone", "+44 20 7946 0958"),
        ("ipv4", "10.20.30.40"),
        ("ipv6", "2001:db8:85a3::8a2e:370:7334"),
        ("iban", "DE89 3704 0044 0532 0130 00"),
        ("openai_key", "sk-proj-" + "a1B2" * 10),
        ("anthropic_key", "sk-ant-api03-" + "Z9y8" * 10),
        ("aws_access_key", "AKIAIOSFODNN7EXAMPLE"),
        ("github_token", "ghp_" + "x" * 36),
        ("google_api_key", "AIza" + "k" * 35),
        ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig1234567"),
        ("bearer_token", "Bearer abcdefghijklmnop"),
    ],
)
def test_each_detector_is_typed_and_switchable(kind, value):
    assert Redactor().redact_text(f"see {value} here") == f"see [REDACTED:{kind}] here"
    others = [
        name for name in ProcessorSettings.from_env({"OTEL_INSTRUMENTATION_LLM_REDACT": "all"}).redact if name != kind
    ]
    assert Redactor(others).redact_text(f"see {value} here").count(value) == 1  # switched off: left alone


@pytest.mark.parametrize("value", ["4111 1111 1111 1112", "666-12-3456", "000-12-3456", "GB00 WEST 1234 5698 7654 32"])
def test_validators_reject_lookalikes(value):
    assert Redactor().redact_text(value) == value


def test_hash_mode_is_keyed_and_correlatable():
    one = Redactor(mode="hash", hash_key="k1")
    again = Redactor(mode="hash", hash_key="k1")
    other = Redactor(mode="hash", hash_key="k2")
    a = one.redact_text("a@example.com and a@example.com and b@example.com")
    tokens = a.split(" and ")
    assert tokens[0] == tokens[1] != tokens[2]
    assert tokens[0].startswith("[REDACTED:email:") and len(tokens[0]) == len("[REDACTED:email:]") + 12
    assert again.redact_text("a@example.com") == tokens[0]
    assert other.redact_text("a@example.com") != tokens[0]


def test_custom_patterns_and_callables():
    redactor = Redactor(
        ["email"],
        patterns={"employee_id": r"EMP-\d{6}"},
        custom=[lambda s: s.replace("Project Falcon", "[REDACTED:codename]")],
    )
    assert (
        redactor.redact_text("EMP-123456 on Project Falcon mailed x@y.io")
        == "[REDACTED:employee_id] on [REDACTED:codename] mailed [REDACTED:email]"
    )


def test_settings_from_environment_and_errors():
    settings_ = ProcessorSettings.from_env(
        {
            "OTEL_INSTRUMENTATION_LLM_REDACT": "pii, openai_key",
            "OTEL_INSTRUMENTATION_LLM_REDACT_MODE": "HASH",
            "OTEL_INSTRUMENTATION_LLM_REDACT_PATTERNS": '{"ticket": "TCK-\\\\d+"}',
        }
    )
    assert "email" in settings_.redact and "openai_key" in settings_.redact and "jwt" not in settings_.redact
    assert settings_.redact_mode == "hash" and settings_.redact_patterns == {"ticket": "TCK-\\d+"}
    for variable, value, expected in (
        ("OTEL_INSTRUMENTATION_LLM_REDACT", "emails", "unknown detector emails"),
        ("OTEL_INSTRUMENTATION_LLM_REDACT_MODE", "blur", "mask or hash"),
        ("OTEL_INSTRUMENTATION_LLM_REDACT_PATTERNS", '{"x": "("}', "pattern 'x'"),
        ("OTEL_INSTRUMENTATION_LLM_REDACT_PATTERNS", "[1]", "JSON object"),
    ):
        with pytest.raises(ConfigurationError) as raised:
            ProcessorSettings.from_env({variable: value})
        assert variable in str(raised.value) and expected in str(raised.value)


def test_unchanged_spans_are_forwarded_as_is():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RedactingSpanProcessor(SimpleSpanProcessor(exporter), Redactor()))
    provider.get_tracer("t").start_span("plain", attributes={"a": "nothing to hide"}).end()
    (span,) = exporter.get_finished_spans()
    assert span.attributes["a"] == "nothing to hide"


def test_exporter_wrappers_redact_without_touching_the_emitted_records():
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from opentelemetry_instrumentation_llm.processors import RedactingLogRecordExporter, RedactingSpanExporter

    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    tracer_provider, logger_provider = TracerProvider(), LoggerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(spans, Redactor())))
    seen_by_app: list[Any] = []
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(RedactingLogRecordExporter(logs, Redactor())))

    class Peek(SimpleLogRecordProcessor):
        def on_emit(self, log_record):  # what another processor sees, after ours ran
            seen_by_app.append(dict(log_record.log_record.attributes))

    logger_provider.add_log_record_processor(Peek(InMemoryLogRecordExporter()))
    tracer_provider.get_tracer("t").start_span("s", attributes={"user": "jane@example.com"}).end()
    logger_provider.get_logger("t").emit(
        event_name="e", attributes={"user": "jane@example.com"}, body={"text": "card 4111111111111111"}
    )
    tracer_provider.shutdown()
    logger_provider.shutdown()
    (span,) = spans.get_finished_spans()
    assert span.attributes["user"] == "[REDACTED:email]"
    (record,) = logs.get_finished_logs()
    assert record.log_record.attributes["user"] == "[REDACTED:email]"
    assert record.log_record.body == {"text": "card [REDACTED:credit_card]"}
    assert seen_by_app == [{"user": "jane@example.com"}]  # the record other processors see is untouched
