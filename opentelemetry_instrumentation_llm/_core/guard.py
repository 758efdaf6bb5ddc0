"""Fail-open helpers: instrumentation problems are logged once at debug level, never raised."""

from __future__ import annotations

import logging
from typing import Any

_logger = logging.getLogger("opentelemetry_instrumentation_llm")

_MAX_REMEMBERED = 256
_reported: set[tuple[str, str]] = set()


def report(where: str, exc: BaseException) -> None:
    """Log an internal failure once per (place, exception type); the user's call proceeds."""
    key = (where, type(exc).__name__)
    if key in _reported:
        return
    if len(_reported) < _MAX_REMEMBERED:
        _reported.add(key)
    _logger.debug(
        "opentelemetry-instrumentation-llm: %s failed; telemetry for this call may be incomplete", where, exc_info=exc
    )


_noted: set[str] = set()


def note_once(key: str, message: str) -> None:
    """Log a data problem (a value we dropped rather than record wrongly) once per key, at debug level."""
    if key in _noted:
        return
    if len(_noted) < _MAX_REMEMBERED:
        _noted.add(key)
    _logger.debug("opentelemetry-instrumentation-llm: %s", message)


def end_anyway(span: Any, where: str, exc: BaseException) -> None:
    """Our code failed while ending ``span``: report it once, and still end the span."""
    report(where, exc)
    try:
        span.end()
    except Exception:  # noqa: BLE001 - fail open: instrumentation never breaks the call
        pass
