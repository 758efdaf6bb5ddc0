"""Fake provider dialects, one module per provider API. ``ROUTES`` maps URL path suffixes to the
dialect that answers them; more specific suffixes come first (the OpenAI dialect, whose suffixes
such as ``/chat/completions`` are shared by OpenAI-compatible APIs, comes last)."""

from __future__ import annotations

from opentelemetry_instrumentation_llm.testing.dialects import (
    anthropic,
    bedrock,
    cohere,
    google_genai,
    groq,
    mistralai,
    ollama,
    openai,
)
from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect

ROUTES: tuple[tuple[str, Dialect], ...] = (
    *google_genai.ROUTES,
    *bedrock.ROUTES,
    *mistralai.ROUTES,
    *cohere.ROUTES,
    *groq.ROUTES,
    *ollama.ROUTES,
    *anthropic.ROUTES,
    *openai.ROUTES,
)

__all__ = ["ROUTES", "Dialect"]
