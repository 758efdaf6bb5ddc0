"""Who and what made an LLM call: session, user, tenant, feature, prompt template.

``with llm_context(session_id=..., tenant_id=..., feature=...):`` (or ``@llm_context(...)``) stamps
every GenAI span started inside it. The values live in the OpenTelemetry context, so they follow
asyncio tasks automatically, follow threads through :func:`bind_context` (or OpenTelemetry's
threading instrumentation), and go to downstream services as W3C baggage through whatever
propagation the application's HTTP clients do. A service that receives that baggage stamps its
own GenAI spans with it.

Attribute names: ``gen_ai.conversation.id`` and ``session.id`` (session), ``user.id``,
``gen_ai.prompt.name``, ``gen_ai.prompt.version`` from the conventions; ``llm.tenant.id`` and
``llm.feature.name`` are ours, as are ``llm.context.<key>`` for extra keys.

Privacy: the user id is kept in-process by default (baggage travels to every downstream HTTP
service, third-party LLM APIs included); pass ``propagate=("user_id", ...)`` to send it.

Metrics get only an allow-listed, low-cardinality subset (default: tenant and feature; user and
session are refused), each capped at a number of distinct values beyond which values become
``_OTHER``. They also get the prompt's identity, behind the same cap: ``gen_ai.prompt.name`` and
``gen_ai.prompt.version`` when ``llm_context`` names the prompt, else its fingerprint
(``llm.prompt.fingerprint``).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from opentelemetry import baggage, context as otel_context
from opentelemetry.context import Context, create_key

from opentelemetry_instrumentation_llm import config

F = TypeVar("F", bound=Callable[..., Any])

# Context key (from llm_context) -> span attribute name.
ATTRIBUTES: dict[str, str] = {
    "session_id": "session.id",
    "conversation_id": "gen_ai.conversation.id",
    "user_id": "user.id",
    "tenant_id": "llm.tenant.id",
    "feature": "llm.feature.name",
    "prompt_name": "gen_ai.prompt.name",
    "prompt_version": "gen_ai.prompt.version",
}
DEFAULT_PROPAGATE = ("session_id", "conversation_id", "tenant_id", "feature", "prompt_name", "prompt_version")
NEVER_ON_METRICS = frozenset({"user_id", "session_id", "conversation_id"})
OTHER = "_OTHER"
PROMPT_KEYS = ("prompt_name", "prompt_version")
PROMPT_FINGERPRINT_ATTRIBUTE = "llm.prompt.fingerprint"

_VALUES_KEY = create_key("opentelemetry-instrumentation-llm.request-context")


def _attribute(key: str) -> str:
    return ATTRIBUTES.get(key, f"llm.context.{key}")


class llm_context(contextlib.ContextDecorator):
    """Stamp GenAI spans (and allow-listed metrics) made inside it; usable as ``with`` or decorator.

    Nested contexts add to (and override keys of) the enclosing one.
    """

    def __init__(self, *, session_id: str | None = None, conversation_id: str | None = None,
                 user_id: str | None = None, tenant_id: str | None = None, feature: str | None = None,
                 prompt_name: str | None = None, prompt_version: str | None = None,
                 propagate: Iterable[str] = DEFAULT_PROPAGATE, **extra: str) -> None:  # fmt: skip
        given = {
            "session_id": session_id,
            "conversation_id": conversation_id,
            "user_id": user_id,
            "tenant_id": tenant_id,
            "feature": feature,
            "prompt_name": prompt_name,
            "prompt_version": prompt_version,
            **extra,
        }
        self.values = {k: str(v) for k, v in given.items() if v is not None}
        self.propagate = frozenset(propagate)
        self._tokens: list[object] = []

    def __enter__(self) -> llm_context:
        ctx = otel_context.get_current()
        merged = {**(ctx.get(_VALUES_KEY) or {}), **self.values}  # type: ignore[dict-item]
        ctx = otel_context.set_value(_VALUES_KEY, merged, ctx)
        for key, value in self.values.items():
            if key in self.propagate:
                ctx = baggage.set_baggage(_attribute(key), value, ctx)
        self._tokens.append(otel_context.attach(ctx))
        return self

    def __exit__(self, *exc: object) -> None:
        otel_context.detach(self._tokens.pop())  # type: ignore[arg-type]

    def __call__(self, func: F) -> F:  # type: ignore[override]
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._fresh():
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    def _fresh(self) -> llm_context:
        # A decorated function can run concurrently: give each run its own token stack.
        clone = llm_context(propagate=self.propagate)
        clone.values = self.values
        return clone


def bind_context(func: F) -> F:
    """``func`` bound to the current context, to run in another thread with the same llm_context
    (and trace context): ``executor.submit(bind_context(work), ...)``."""
    captured = otel_context.get_current()

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        token = otel_context.attach(captured)  # safe to run concurrently from many threads
        try:
            return func(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return run  # type: ignore[return-value]


def current_values(ctx: Context | None = None) -> dict[str, str]:
    """The request context in effect: llm_context values over baggage received from upstream."""
    ctx = otel_context.get_current() if ctx is None else ctx
    values: dict[str, str] = {}
    entries = baggage.get_all(ctx)
    if entries:
        for key, attribute in ATTRIBUTES.items():
            value = entries.get(attribute)
            if value is not None:
                values[key] = str(value)
    local = ctx.get(_VALUES_KEY)
    if local:
        values.update(local)  # type: ignore[arg-type,call-overload]
    return values


def span_attributes(values: Mapping[str, str]) -> dict[str, str]:
    attributes = {_attribute(key): value for key, value in values.items()}
    if "session_id" in values and "conversation_id" not in values:
        attributes["gen_ai.conversation.id"] = values["session_id"]  # the app's session is its conversation
    return attributes


class MetricContext:
    """Allow-listed context keys on metrics, each capped at ``max_values`` distinct values.

    ``prompt``: also identify the prompt, by the user's name and version when given, else by the
    call's fingerprint (each capped the same way).
    """

    def __init__(self, keys: Iterable[str], max_values: int, prompt: bool = True) -> None:
        self.keys = tuple(keys)
        forbidden = NEVER_ON_METRICS.intersection(self.keys)
        if forbidden:
            raise config.ConfigurationError(
                f"Invalid value for OTEL_INSTRUMENTATION_LLM_METRIC_CONTEXT: {', '.join(sorted(forbidden))} would "
                "give every user or session its own metric series; accepted values are low-cardinality keys such as "
                "tenant_id, feature, prompt_name, prompt_version"
            )
        self.max_values = max_values
        self.prompt = prompt
        self._seen: dict[str, set[str]] = {key: set() for key in (*self.keys, *PROMPT_KEYS, "prompt_fingerprint")}
        self._lock = threading.Lock()

    def attributes(self, values: Mapping[str, str], fingerprint: str | None = None) -> dict[str, str]:
        found: dict[str, str] = {}
        for key in self.keys:
            value = values.get(key)
            if value is not None:
                found[_attribute(key)] = self.capped(key, value)
        if self.prompt:
            named = False
            for key in PROMPT_KEYS:
                value = values.get(key)
                if value is not None:
                    named = True
                    found[_attribute(key)] = self.capped(key, value)
            if fingerprint is not None and not named:
                found[PROMPT_FINGERPRINT_ATTRIBUTE] = self.capped("prompt_fingerprint", fingerprint)
        return found

    def capped(self, key: str, value: str) -> str:
        seen = self._seen[key]
        if value not in seen:
            with self._lock:
                if len(seen) < self.max_values:
                    seen.add(value)
                else:
                    return OTHER
        return value


_NO_VALUES: dict[str, str] = {}


class CallContextReader:
    """The request context as the recorder reads it at the start of each call (its ``CallContext``):
    span attributes from ``llm_context`` and baggage, and the allow-listed, capped metric attributes."""

    __slots__ = ("_metrics",)

    def __init__(self, metrics: MetricContext | None) -> None:
        self._metrics = metrics

    def capture(self, fingerprint: str | None = None) -> tuple[dict[str, str], dict[str, str] | None] | None:
        values = current_values()
        metrics = self._metrics
        if not values:  # no llm_context: at most the fingerprint, on metrics only (the span has it already)
            if fingerprint is None or metrics is None or not metrics.prompt:
                return None
            return _NO_VALUES, {PROMPT_FINGERPRINT_ATTRIBUTE: metrics.capped("prompt_fingerprint", fingerprint)}
        return span_attributes(values), (metrics.attributes(values, fingerprint) if metrics is not None else None)


_metric_context: MetricContext | None = None


def metric_context() -> MetricContext:
    global _metric_context
    if _metric_context is None:
        _metric_context = MetricContext(
            config.METRIC_CONTEXT.read(),
            config.METRIC_CONTEXT_MAX_VALUES.read(),
            prompt=config.METRIC_PROMPT.read() is not False,
        )
    return _metric_context


def configure_metric_context(
    keys: Iterable[str] = ("tenant_id", "feature"), max_values: int = 100, prompt: bool = True
) -> None:
    """Choose, in code, which context keys reach metrics, how many values each may take, and whether
    the prompt's identity (name and version, else fingerprint) does."""
    global _metric_context
    _metric_context = MetricContext(keys, max_values, prompt)


def reset() -> None:
    global _metric_context
    _metric_context = None
