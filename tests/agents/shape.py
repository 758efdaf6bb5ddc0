"""Trace-shape checks shared by the agent, Agents SDK and MCP tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan


def by_operation(spans: Iterable[ReadableSpan], operation: str) -> list[ReadableSpan]:
    return [s for s in spans if (s.attributes or {}).get("gen_ai.operation.name") == operation]


def inference_spans(spans: Iterable[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if (s.attributes or {}).get("gen_ai.operation.name") in ("chat", "text_completion")]


def is_ancestor(ancestor: ReadableSpan, span: ReadableSpan, spans: Iterable[ReadableSpan]) -> bool:
    by_id = {s.context.span_id: s for s in spans}
    parent = span.parent
    while parent is not None:
        if parent.span_id == ancestor.context.span_id:
            return True
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    return False


def assert_one_trace(spans: list[ReadableSpan]) -> None:
    traces = {s.context.trace_id for s in spans}
    assert len(traces) == 1, [(s.name, s.context.trace_id) for s in spans]


def point_sum(points: list[Any], **attributes: Any) -> float:
    """Sum of the histogram points whose attributes include ``attributes``."""
    return sum(p.sum for p in points if all(p.attributes.get(k) == v for k, v in attributes.items()))


def point_count(points: list[Any], **attributes: Any) -> int:
    return sum(p.count for p in points if all(p.attributes.get(k) == v for k, v in attributes.items()))
