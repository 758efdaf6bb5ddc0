"""OpenTelemetry instrumentation for LLM client SDKs."""

from opentelemetry_instrumentation_llm.version import __version__

__all__ = ["__version__"]
