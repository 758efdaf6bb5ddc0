"""Provider adapters: one module per SDK, pure mapping plus a wrap table (see ``_core.spec``).

This package's ``__init__`` must not import any SDK: it only names what exists, so that
``instrument()`` can find installed SDKs without importing the ones the user does not use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderEntry:
    sdk: str  # import name of the SDK, also the suffix of our entry point (llm_<sdk>)
    adapter: str  # module holding spec()
    requirement: str  # supported (and tested) SDK range


PROVIDERS: dict[str, ProviderEntry] = {
    "openai": ProviderEntry("openai", "opentelemetry_instrumentation_llm.providers.openai", "openai >= 3.0, < 4"),
    "anthropic": ProviderEntry("anthropic", "opentelemetry_instrumentation_llm.providers.anthropic",
                               "anthropic >= 2.0, < 3"),
}
