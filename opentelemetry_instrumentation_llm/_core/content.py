"""Serialisation of captured content (only ever called when content capture is on)."""

from __future__ import annotations

import base64
import enum
import json
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, enum.Enum):
        return value.value
    dump = getattr(value, "model_dump", None)  # pydantic models inside user-supplied messages
    if callable(dump):
        try:
            return dump(mode="json", exclude_unset=True)
        except Exception:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            pass
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def to_json(value: Any) -> str:
    """Compact JSON as span attributes carry it (the conventions allow a JSON string on spans)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


def to_any_value(value: Any) -> Any:
    """A structure made only of AnyValue types (str, int, float, bool, bytes, list, dict), for events."""
    if value is None or isinstance(value, (str, bool, int, float, bytes)):
        return value
    if isinstance(value, dict):
        return {str(k): to_any_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [to_any_value(v) for v in value]
    return to_any_value(_default(value))
