"""Fake provider dialects, one module per provider API. ``ROUTES`` maps URL path suffixes to the
dialect that answers them; more specific suffixes come first."""

from __future__ import annotations

from opentelemetry_instrumentation_llm.testing.dialects import anthropic, openai
from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect

ROUTES: tuple[tuple[str, Dialect], ...] = (*anthropic.ROUTES, *openai.ROUTES)

__all__ = ["ROUTES", "Dialect"]
