"""BaseInstrumentor subclasses, one per SDK, generated from the adapters' wrap tables."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
from collections.abc import Collection
from typing import Any, ClassVar

import wrapt

from opentelemetry_instrumentation_llm import config, cost, feedback, integrations, request_context, spend
from opentelemetry_instrumentation_llm._core.collaborators import Collaborators
from opentelemetry_instrumentation_llm._core.fingerprint import PromptFingerprints
from opentelemetry_instrumentation_llm._core.recorder import Recorder
from opentelemetry_instrumentation_llm._core.spec import ProviderSpec
from opentelemetry_instrumentation_llm._core.wrappers import close_hook_wrapper, sdk_span_hook_wrapper, wrapper_for
from opentelemetry_instrumentation_llm.config import (
    METRIC_NAMES,
    ContentSettings,
    MetricNames,
)
from opentelemetry_instrumentation_llm.patching import PatchingInstrumentor, instrument_once
from opentelemetry_instrumentation_llm.providers import PROVIDERS

_logger = logging.getLogger(__name__)


def _price_book() -> cost.PriceBook | None:
    """The price book, unless cost is switched off; a bad prices file disables cost, loudly."""
    try:
        if config.COST.read() is False:
            return None
        return cost.price_book()
    except config.ConfigurationError as exc:
        _logger.error("%s; costs are not recorded", exc)
        return None


def _metric_context() -> request_context.MetricContext | None:
    try:
        return request_context.metric_context()
    except config.ConfigurationError as exc:
        _logger.error("%s; no request context is added to metrics", exc)
        return None


_PROCESS_KEY = os.urandom(32)
_fingerprints: dict[bytes | None, PromptFingerprints] = {}


def template_key(given: bytes | str | None = None) -> bytes | None:
    """The key of prompt fingerprints and exported user labels: ``given`` (``instrument(fingerprint_key=...)``),
    else, when redaction is on, ``OTEL_INSTRUMENTATION_LLM_REDACT_HASH_KEY`` or a random key of this
    process; None (plain hashes) when redaction is off."""
    if given is not None:
        return given.encode() if isinstance(given, str) else given
    try:
        redacting = bool(config.REDACT.read() or config.REDACT_PATTERNS.read())
        key = config.REDACT_HASH_KEY.read()
    except config.ConfigurationError:
        return _PROCESS_KEY  # redaction was asked for, badly: stay on the private side
    if not redacting:
        return None
    if key is None and not _fingerprints:  # said once, when the first instrumentor is set up
        _logger.info(
            "redaction is on without OTEL_INSTRUMENTATION_LLM_REDACT_HASH_KEY: prompt fingerprints and "
            "user labels use a key of this process and do not match across processes"
        )
    return key.encode() if key else _PROCESS_KEY


def _prompt_fingerprints(key: bytes | None) -> PromptFingerprints | None:
    """One fingerprinter (and its caches) per key for the whole process, unless switched off."""
    if config.PROMPT_FINGERPRINT.read() is False:
        return None
    found = _fingerprints.get(key)
    if found is None:
        found = _fingerprints.setdefault(key, PromptFingerprints(key))
    return found


def _spend(key: bytes | None, meter_provider: Any) -> spend.SpendTable | None:
    if config.SPEND.read() is False:
        return None
    return spend.spend_table(meter_provider, spend.keyed_label(key) if key is not None else None)


def default_collaborators(meter_provider: Any = None, fingerprint_key: bytes | str | None = None) -> Collaborators:
    """Pricing, request context, the feedback registry, prompt fingerprints and the per-user spend
    table, as configured, for the core's recorders; the spend gauges go to ``meter_provider``."""
    key = template_key(fingerprint_key)
    return Collaborators(
        pricing=_price_book(),
        call_context=request_context.CallContextReader(_metric_context()),
        responses=feedback.recent_responses,
        fingerprints=_prompt_fingerprints(key),
        spend=_spend(key, meter_provider),
    )


class LLMInstrumentor(PatchingInstrumentor):
    """Instruments one SDK from its adapter's wrap table.

    ``instrument()`` accepts the standard ``tracer_provider``, ``meter_provider`` and
    ``logger_provider`` (default: the global ones), plus ``capture_content`` (bool or a
    ``ContentCapture`` mode name, overriding ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``)
    and ``metric_names`` (``default``/``latest``/``both``), and ``fingerprint_key`` (bytes or str:
    prompt fingerprints and exported user labels become HMACs under it; by default they are keyed
    only when redaction is on).
    """

    sdk: ClassVar[str]

    def instrumentation_dependencies(self) -> Collection[str]:
        return (PROVIDERS[self.sdk].requirement,)

    def _load_spec(self) -> ProviderSpec:
        module = importlib.import_module(PROVIDERS[self.sdk].adapter)
        return module.spec()  # type: ignore[no-any-return]

    def _instrument(self, **kwargs: Any) -> None:
        content = integrations.content_settings(kwargs)  # a bad argument in the caller's code is reported to it
        names = kwargs.get("metric_names")
        metric_names = MetricNames(names) if names is not None else METRIC_NAMES.read()
        self._patched: list[tuple[str, str]] = []
        self._active = True
        sdk_module = PROVIDERS[self.sdk].sdk
        if sdk_module not in sys.modules:
            # Not imported yet: patch when the application imports it, so that an installed but
            # unused SDK (litellm takes seconds to import) costs nothing at startup.
            _logger.debug("%s: %s not imported yet; instrumenting on import", type(self).__name__, sdk_module)
            wrapt.register_post_import_hook(
                lambda _module: self._patch_guarded(content, metric_names, kwargs), sdk_module
            )
            return
        self._patch_guarded(content, metric_names, kwargs)

    def _patch_guarded(self, content: ContentSettings, metric_names: MetricNames, kwargs: dict[str, Any]) -> None:
        if not self._active or self._patched:
            return  # uninstrumented before the SDK was imported, or already done
        try:
            self._patch_all(self._load_spec(), content, metric_names, kwargs)
        except Exception:
            _logger.warning(
                "%s could not instrument %s; the application runs uninstrumented",
                type(self).__name__,
                self.sdk,
                exc_info=True,
            )
            self._uninstrument()

    def _patch_all(
        self, spec: ProviderSpec, content: ContentSettings, metric_names: MetricNames, kwargs: dict[str, Any]
    ) -> None:
        recorder = Recorder(
            spec,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
            content=content,
            metric_names=metric_names,
            collaborators=default_collaborators(kwargs.get("meter_provider"), kwargs.get("fingerprint_key")),
        )
        for endpoint in spec.endpoints:
            self._patch(endpoint.module, endpoint.target, wrapper_for(recorder, endpoint))
        for hook in spec.close_hooks:
            self._patch(hook.module, hook.target, close_hook_wrapper(hook))
        for span_hook in spec.sdk_span_hooks:
            self._patch(span_hook.module, span_hook.target, sdk_span_hook_wrapper())
        _logger.debug("%s: instrumented %d methods", type(self).__name__, len(self._patched))


class OpenAIInstrumentor(LLMInstrumentor):
    """Instruments the ``openai`` SDK: chat completions, Responses, legacy completions, embeddings."""

    sdk = "openai"


class AnthropicInstrumentor(LLMInstrumentor):
    """Instruments the ``anthropic`` SDK: Messages (create, parse, stream helper), beta Messages.

    The SDK's built-in OpenTelemetry span for a call we instrument is replaced by ours (the SDK
    still propagates trace context as configured, now pointing at our span), so one call yields
    one GenAI inference span. Calls we do not instrument keep the SDK's own spans.
    """

    sdk = "anthropic"


class GoogleGenAIInstrumentor(LLMInstrumentor):
    """Instruments ``google-genai``: ``models.generate_content`` (+ stream) and ``embed_content``, sync and
    async; provider ``gcp.gemini`` or ``gcp.vertex_ai`` by the client's backend."""

    sdk = "google_genai"


class BedrockInstrumentor(LLMInstrumentor):
    """Instruments ``boto3``/``botocore`` ``bedrock-runtime``: Converse, ConverseStream, InvokeModel and
    InvokeModelWithResponseStream (Anthropic, Llama, Titan, Mistral, Cohere body formats)."""

    sdk = "bedrock"


class MistralAIInstrumentor(LLMInstrumentor):
    """Instruments ``mistralai``: chat complete and stream, embeddings, sync and async."""

    sdk = "mistralai"


class CohereInstrumentor(LLMInstrumentor):
    """Instruments ``cohere`` v2: chat, chat stream, embed, sync and async."""

    sdk = "cohere"


class GroqInstrumentor(LLMInstrumentor):
    """Instruments ``groq``: chat completions, streaming and not, sync and async."""

    sdk = "groq"


class OllamaInstrumentor(LLMInstrumentor):
    """Instruments ``ollama``: chat, generate, embed (and legacy embeddings), streaming, sync and async."""

    sdk = "ollama"


class LiteLLMInstrumentor(LLMInstrumentor):
    """Instruments ``litellm``: ``completion``/``acompletion`` (streaming too) and ``embedding``/``aembedding``.

    The span reports the provider litellm routes to. Inside it, the SDK litellm calls (``openai``,
    ``anthropic``, ...) opens no second inference span when we instrument that SDK too.
    """

    sdk = "litellm"


def _by_provider_table() -> dict[str, type[LLMInstrumentor]]:
    """Every instrumentor class, keyed and ordered as the provider table lists the SDKs."""
    classes = {cls.sdk: cls for cls in LLMInstrumentor.__subclasses__()}
    return {key: classes[key] for key in PROVIDERS}


# In the provider table's order: litellm last, since it routes to the SDKs before it.
INSTRUMENTORS: dict[str, type[LLMInstrumentor]] = _by_provider_table()


def installed(module: str) -> bool:
    """Whether ``module`` is importable, found without importing it or its parent packages
    (``importlib.util.find_spec("a.b")`` would import ``a``, and raises if ``a`` is missing)."""
    name, *rest = module.split(".")
    spec = importlib.util.find_spec(name)
    for part in rest:
        if spec is None or spec.submodule_search_locations is None:
            return False
        name = f"{name}.{part}"
        spec = importlib.machinery.PathFinder.find_spec(name, list(spec.submodule_search_locations))
    return spec is not None


def instrument(**kwargs: Any) -> list[str]:
    """Instrument every supported SDK that is installed; returns the SDK names now instrumented.

    Accepts what each instrumentor's ``instrument()`` accepts: ``tracer_provider``,
    ``meter_provider``, ``logger_provider``, ``capture_content``, ``metric_names``. SDKs that are
    not installed are skipped without being imported.
    """
    instrumented = []
    for sdk, instrumentor_type in INSTRUMENTORS.items():
        if not installed(PROVIDERS[sdk].sdk):
            _logger.debug("instrument(): %s is not installed; skipped", sdk)
            continue
        if instrument_once(instrumentor_type, kwargs):
            instrumented.append(sdk)
    # Agent frameworks (OpenAI Agents SDK, MCP) and the llm.agent/tool/workflow API: integrations.py.
    instrumented += integrations.instrument_frameworks(**kwargs, content=integrations.content_settings(kwargs))
    _logger.debug("instrument(): instrumented %s", ", ".join(instrumented) or "nothing")
    return instrumented


def uninstrument() -> None:
    """Undo :func:`instrument`: every SDK method we wrapped is restored."""
    for instrumentor_type in INSTRUMENTORS.values():
        instrumentor = instrumentor_type()
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    integrations.uninstrument_frameworks()
