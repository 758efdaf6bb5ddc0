"""Fake google_genai wire format (filled in by the google_genai adapter work)."""

from __future__ import annotations

from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect

ROUTES: tuple[tuple[str, Dialect], ...] = ()
