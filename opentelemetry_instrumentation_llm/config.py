"""Every environment variable this package reads, declared, parsed and validated in one place.

Each variable is a :class:`Variable` in :data:`VARIABLES`. ``docs/configuration.md`` is checked
against this registry by the test suite, so the documentation cannot drift from the code.

Values are read when something is instrumented or set up, never on the hot path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from opentelemetry_instrumentation_llm._core.settings import (
    ContentCapture as ContentCapture,
    ContentSettings as _CoreContentSettings,
    MetricNames as MetricNames,
)

_logger = logging.getLogger(__name__)

T = TypeVar("T")


class ConfigurationError(ValueError):
    """A configuration value is invalid. The message names the variable and what it accepts."""


class _Invalid(Exception):
    """Raised by a parser for a value it does not accept."""


@dataclass(frozen=True)
class Variable(Generic[T]):
    """One environment variable: its name, default, accepted values and parser.

    ``strict`` variables raise :class:`ConfigurationError` on a bad value (used where silently
    falling back could leak data or mislead, e.g. redaction); the others log one warning naming
    the variable and the accepted values, and fall back to the default.
    """

    name: str
    default: str | None
    accepts: str
    description: str
    parser: Callable[[str], T]
    strict: bool = False

    def read(self, environ: Mapping[str, str] | None = None) -> T:
        env = os.environ if environ is None else environ
        raw = env.get(self.name)
        if raw is not None and raw.strip() != "":
            try:
                return self.parser(raw.strip())
            except _Invalid as exc:
                message = f"Invalid value {raw!r} for {self.name}: accepted values are {self.accepts}"
                detail = str(exc)
                if detail:
                    message += f" ({detail})"
                if self.strict:
                    raise ConfigurationError(message) from None
                _warn_once(self.name, message + f"; using the default ({self.default or 'unset'}).")
        return self.parse_default()

    def parse_default(self) -> T:
        return self.parser(self.default) if self.default is not None else self.parser("")


VARIABLES: dict[str, Variable[object]] = {}

_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        _logger.warning(message)


def _declare(variable: Variable[T]) -> Variable[T]:
    VARIABLES[variable.name] = variable  # type: ignore[assignment]
    return variable


# --------------------------------------------------------------------------- parsers

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_bool(raw: str) -> bool | None:
    """``true``/``false`` (and 1/0, yes/no, on/off), case-insensitive; empty means unset (None)."""
    value = raw.strip().lower()
    if value == "":
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _Invalid()


def _optional_float(low: float | None = None, high: float | None = None) -> Callable[[str], float | None]:
    def parse(raw: str) -> float | None:
        if raw.strip() == "":
            return None
        try:
            value = float(raw)
        except ValueError:
            raise _Invalid() from None
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            raise _Invalid()
        return value

    return parse


def _comma_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in raw.split(",") if part.strip())


def _parse_capture(raw: str) -> ContentCapture:
    value = raw.strip().upper()
    if value == "":
        return ContentCapture.NO_CONTENT
    # Older instrumentations took true/false; accept them so users moving over keep working.
    if value in ("TRUE", "1"):
        return ContentCapture.SPAN_AND_EVENT
    if value in ("FALSE", "0"):
        return ContentCapture.NO_CONTENT
    try:
        return ContentCapture[value]
    except KeyError:
        raise _Invalid() from None


def _parse_metric_names(raw: str) -> MetricNames:
    try:
        return MetricNames(raw.strip().lower() or "default")
    except ValueError:
        raise _Invalid() from None


# --------------------------------------------------------------------------- the variables

CAPTURE_MESSAGE_CONTENT = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        default="NO_CONTENT",
        accepts="NO_CONTENT, SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT (case-insensitive), "
        "or true/false (true means SPAN_AND_EVENT)",
        description="Whether and where prompt and completion content (input and output messages, "
        "system instructions, tool definitions) is recorded. Off by default.",
        parser=_parse_capture,
    )
)

EMIT_EVENT = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT",
        default=None,
        accepts="true or false",
        description="Whether each call emits a gen_ai.client.inference.operation.details log event. "
        "Default: true when content capture is EVENT_ONLY or SPAN_AND_EVENT, false otherwise.",
        parser=parse_bool,
    )
)

METRIC_NAMES = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_METRIC_NAMES",
        default="default",
        accepts="default, latest, both",
        description="default: gen_ai.client.operation.duration, gen_ai.client.token.usage, "
        "gen_ai.client.operation.time_to_first_chunk and time_per_output_chunk. latest: the restructured "
        "gen_ai.client.inference.* names of the newest draft conventions. both: emit both sets while "
        "dashboards migrate.",
        parser=_parse_metric_names,
    )
)


def _detector_list(raw: str) -> tuple[str, ...]:
    from opentelemetry_instrumentation_llm.processors.redaction import resolve_detector_names

    names = _comma_list(raw)
    if raw.strip() and not names:
        raise _Invalid()
    try:
        return resolve_detector_names(names)
    except ValueError as exc:
        raise _Invalid(f"unknown detector {exc}") from None


def _redact_mode(raw: str) -> str:
    value = raw.strip().lower() or "mask"
    if value not in ("mask", "hash"):
        raise _Invalid()
    return value


def _patterns(raw: str) -> dict[str, str]:
    import json
    import re

    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise _Invalid("not valid JSON") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _Invalid("expected a JSON object of name -> regular expression")
    for name, pattern in value.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _Invalid(f"pattern {name!r}: {exc}") from None
    return value


def _positive_int(default: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not raw.strip():
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _Invalid() from None
        if value <= 0:
            raise _Invalid()
        return value

    return parse


def _redaction_accepts() -> str:
    return (
        "all, pii, secrets, or a comma-separated list of detector names: email, phone, credit_card, iban, "
        "us_ssn, ipv4, ipv6, openai_key, anthropic_key, aws_access_key, aws_secret_key, github_token, "
        "google_api_key, jwt, bearer_token, private_key"
    )


REDACT = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_REDACT",
        default=None,
        accepts=_redaction_accepts(),
        description="Redact PII and secrets from everything exported (span attributes, span events, span "
        "status, log record bodies and attributes). Unset: off.",
        parser=_detector_list,
        strict=True,
    )
)

REDACT_MODE = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_REDACT_MODE",
        default="mask",
        accepts="mask or hash",
        description="mask: `[REDACTED:email]`. hash: `[REDACTED:email:<12 hex>]`, an HMAC-SHA256 of the value, "
        "so equal values stay correlatable without being readable.",
        parser=_redact_mode,
        strict=True,
    )
)

REDACT_HASH_KEY = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_REDACT_HASH_KEY",
        default=None,
        accepts="any secret string",
        description="HMAC key for the hash mode, shared by processes that must correlate values. Unset: a "
        "random key per process (values correlate within one process only).",
        parser=lambda raw: raw or None,
        strict=True,
    )
)

REDACT_PATTERNS = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_REDACT_PATTERNS",
        default=None,
        accepts='a JSON object of name -> regular expression, e.g. {"employee_id": "EMP-\\d{6}"}',
        description="Extra patterns redacted as `[REDACTED:<name>]`, in addition to the detectors chosen by "
        "OTEL_INSTRUMENTATION_LLM_REDACT (setting only this variable turns redaction on with these patterns).",
        parser=_patterns,
        strict=True,
    )
)

SAMPLING_RATIO = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_SAMPLING_RATIO",
        default=None,
        accepts="a number from 0 to 1",
        description="Fraction of ordinary traces kept by the error- and latency-aware tail sampler; traces with "
        "an error or a slow GenAI call are always kept, and metrics always count every call. Unset: keep everything.",
        parser=_optional_float(0.0, 1.0),
        strict=True,
    )
)

SAMPLING_SLOW_MS = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_SAMPLING_SLOW_MS",
        default=None,
        accepts="a positive number of milliseconds",
        description="A trace with a GenAI span at least this long is always kept by the tail sampler.",
        parser=_optional_float(0.0, None),
        strict=True,
    )
)

SAMPLING_MAX_TRACES = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_SAMPLING_MAX_TRACES",
        default="10000",
        accepts="a positive integer",
        description="Most traces the tail sampler holds awaiting a decision; beyond it the oldest is decided at "
        "once (per-trace spans are capped at 1000 the same way).",
        parser=_positive_int(10_000),
        strict=True,
    )
)

SAMPLING_DECISION_WAIT_MS = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_SAMPLING_DECISION_WAIT_MS",
        default="30000",
        accepts="a positive integer number of milliseconds",
        description="A trace whose local root has not ended after this long is decided with the spans it has.",
        parser=_positive_int(30_000),
        strict=True,
    )
)

GPU = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_GPU",
        default="true",
        accepts="true or false",
        description="Whether setup() and the llm_gpu instrumentor register the NVML GPU gauges.",
        parser=parse_bool,
    )
)

GPU_EXTRA_METRICS = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_GPU_EXTRA_METRICS",
        default="false",
        accepts="true or false",
        description="Also report GPU clock frequencies and PCIe throughput (`nvml.gpu.clock.frequency`, "
        "`nvml.gpu.pcie.throughput`), which the conventions lack.",
        parser=parse_bool,
    )
)

GPU_PROCESS_MEMORY = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_GPU_PROCESS_MEMORY",
        default="false",
        accepts="true or false",
        description="Also report the GPU memory used by this process (`nvml.gpu.process.memory.usage`).",
        parser=parse_bool,
    )
)


COST = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_COST",
        default="true",
        accepts="true or false",
        description="Compute each call's cost in USD (span attributes `gen_ai.usage.cost.*` and the "
        "`gen_ai.client.operation.cost` counter) from the genai-prices catalogue and your overrides.",
        parser=parse_bool,
    )
)

PRICES_FILE = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_PRICES_FILE",
        default=None,
        accepts="a path to a JSON prices file",
        description="Your prices (negotiated or self-hosted), overriding the catalogue: "
        '{"prices": [{"provider": "openai", "model": "gpt-4o*", "input": 2.0, "output": 8.0}, '
        '{"provider": "anthropic", "model": "*", "scale": 0.8}]} with rates per million tokens.',
        parser=lambda raw: raw or None,
        strict=True,
    )
)

METRIC_CONTEXT = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_METRIC_CONTEXT",
        default="tenant_id,feature",
        accepts="a comma-separated list of llm_context keys (not user_id, session_id or conversation_id)",
        description="Which llm_context values are added to the GenAI metrics as attributes.",
        parser=_comma_list,
    )
)

METRIC_CONTEXT_MAX_VALUES = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_METRIC_CONTEXT_MAX_VALUES",
        default="100",
        accepts="a positive integer",
        description="Distinct values kept per metric context attribute; later values are reported as `_OTHER`.",
        parser=_positive_int(100),
    )
)

FEEDBACK_MAX_RESPONSES = _declare(
    Variable(
        name="OTEL_INSTRUMENTATION_LLM_FEEDBACK_MAX_RESPONSES",
        default="10000",
        accepts="a positive integer",
        description="Recent response ids remembered so record_feedback(response_id=...) can find their spans.",
        parser=_positive_int(10_000),
    )
)


# --------------------------------------------------------------------------- resolved settings


@dataclass(frozen=True)
class ContentSettings(_CoreContentSettings):
    """The core's content settings, readable from the environment."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ContentSettings:
        capture = CAPTURE_MESSAGE_CONTENT.read(environ)
        emit = EMIT_EVENT.read(environ)
        return cls(capture=capture, emit_event=capture.on_event if emit is None else emit)


def markdown_table() -> str:
    """The variables table of ``docs/configuration.md``, generated from this registry."""
    lines = ["| Variable | Default | Accepted values | What it does |", "|---|---|---|---|"]
    for variable in VARIABLES.values():
        default = f"`{variable.default}`" if variable.default is not None else "unset"
        lines.append(f"| `{variable.name}` | {default} | {variable.accepts} | {variable.description} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m opentelemetry_instrumentation_llm.config > table.md
    print(markdown_table())
