"""OpenTelemetry instrumentation for LLM client SDKs, following the GenAI semantic conventions.

Zero code: ``opentelemetry-instrument python app.py`` picks up our ``llm_<sdk>`` entry points.
One call: ``opentelemetry_instrumentation_llm.instrument()`` instruments every supported SDK that
is installed, with the global providers or the ones you pass.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
from typing import Any

from opentelemetry_instrumentation_llm import cost, request_context
from opentelemetry_instrumentation_llm.config import ConfigurationError, ContentCapture
from opentelemetry_instrumentation_llm.cost import register_prices
from opentelemetry_instrumentation_llm.feedback import record_feedback
from opentelemetry_instrumentation_llm.gpu import GPUInstrumentor
from opentelemetry_instrumentation_llm.instrumentor import (
    INSTRUMENTORS,
    AnthropicInstrumentor,
    BedrockInstrumentor,
    CohereInstrumentor,
    GoogleGenAIInstrumentor,
    GroqInstrumentor,
    LiteLLMInstrumentor,
    LLMInstrumentor,
    MistralAIInstrumentor,
    OllamaInstrumentor,
    OpenAIInstrumentor,
)
from opentelemetry_instrumentation_llm.pipeline import LLMTelemetry, setup
from opentelemetry_instrumentation_llm.providers import PROVIDERS
from opentelemetry_instrumentation_llm.request_context import bind_context, llm_context
from opentelemetry_instrumentation_llm.version import __version__

_logger = logging.getLogger(__name__)


def _installed(module: str) -> bool:
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
        if not _installed(PROVIDERS[sdk].sdk):
            _logger.debug("instrument(): %s is not installed; skipped", sdk)
            continue
        instrumentor = instrumentor_type()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**kwargs)
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumented.append(sdk)
    _logger.debug("instrument(): instrumented %s", ", ".join(instrumented) or "nothing")
    return instrumented


def uninstrument() -> None:
    """Undo :func:`instrument`: every SDK method we wrapped is restored."""
    for instrumentor_type in INSTRUMENTORS.values():
        instrumentor = instrumentor_type()
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


__all__ = [
    "AnthropicInstrumentor",
    "BedrockInstrumentor",
    "CohereInstrumentor",
    "ConfigurationError",
    "ContentCapture",
    "GPUInstrumentor",
    "GoogleGenAIInstrumentor",
    "GroqInstrumentor",
    "LLMInstrumentor",
    "LLMTelemetry",
    "LiteLLMInstrumentor",
    "MistralAIInstrumentor",
    "OllamaInstrumentor",
    "OpenAIInstrumentor",
    "__version__",
    "bind_context",
    "cost",
    "instrument",
    "llm_context",
    "record_feedback",
    "register_prices",
    "request_context",
    "setup",
    "uninstrument",
]
