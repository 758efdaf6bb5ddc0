"""Provider adapters: one module per SDK, pure mapping plus a wrap table (see ``_core.spec``).

This package's ``__init__`` must not import any SDK: it only names what exists, so that
``instrument()`` can find installed SDKs without importing the ones the user does not use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderEntry:
    sdk: str  # import name of the SDK (looked up with importlib.util.find_spec, never imported here)
    adapter: str  # module holding spec()
    requirement: str  # supported (and tested) SDK range


PROVIDERS: dict[str, ProviderEntry] = {
    "openai": ProviderEntry("openai", "opentelemetry_instrumentation_llm.providers.openai", "openai >= 3.0, < 4"),
    "anthropic": ProviderEntry(
        "anthropic", "opentelemetry_instrumentation_llm.providers.anthropic", "anthropic >= 2.0, < 3"
    ),
    "google_genai": ProviderEntry(
        "google.genai", "opentelemetry_instrumentation_llm.providers.google_genai", "google-genai >= 1.0, < 4"
    ),
    "bedrock": ProviderEntry(
        "botocore", "opentelemetry_instrumentation_llm.providers.bedrock", "botocore >= 1.34, < 2"
    ),
    # mistralai 2.x+ is a namespace package: import hooks fire for mistralai.client, never for mistralai.
    "mistralai": ProviderEntry(
        "mistralai.client", "opentelemetry_instrumentation_llm.providers.mistralai", "mistralai >= 2.0, < 4"
    ),
    # The v2 raw client, which the adapter wraps, exists since cohere 5.16.
    "cohere": ProviderEntry("cohere", "opentelemetry_instrumentation_llm.providers.cohere", "cohere >= 5.16, < 8"),
    "groq": ProviderEntry("groq", "opentelemetry_instrumentation_llm.providers.groq", "groq >= 0.9, < 2"),
    "ollama": ProviderEntry("ollama", "opentelemetry_instrumentation_llm.providers.ollama", "ollama >= 0.4, < 1"),
    "litellm": ProviderEntry("litellm", "opentelemetry_instrumentation_llm.providers.litellm", "litellm >= 1.60, < 2"),
}
