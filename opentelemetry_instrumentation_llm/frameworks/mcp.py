"""MCP (the ``mcp`` Python SDK): client requests and server handling as the MCP conventions' spans.

This module holds what both SDK lines share (the :class:`SpanView` the SDK's code, or ours, reports
an outcome to; :func:`running`; trace context in ``params._meta``) and the 2.x path. The 1.x path
(no tracing of its own) is ``mcp_v1``.

``mcp`` 2.x traces itself through one span factory, ``mcp.shared._otel.otel_span``, that its
JSON-RPC dispatcher (client side: ``MCP send tools/call add`` spans, then ``traceparent`` injected
into ``params._meta``) and its server middleware (server side, parented on the context extracted
from ``_meta``) import by name. We replace that factory in both places: each operation the SDK
would have traced becomes one :class:`~opentelemetry_instrumentation_llm._core.operations.Operation`
with the conventions' name (``tools/call add``), kind, attributes and metrics, made current while
the SDK runs, so the SDK's own propagation now carries our span's context. Everything the SDK
tells its span (``error.type``, JSON-RPC status codes, status) is forwarded to ours. On the client,
a ``tools/call`` span ends once the result is back, so that a ``CallToolResult`` with ``isError``
gets ``error.type=tool_error`` as on the server (the SDK's client never looks at the result).

``mcp`` 1.x has no such factory: ``mcp_v1`` wraps its session and server instead, and opens the
same operations through :func:`running`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context, propagate
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode, get_current_span
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.operations import (
    Operation,
    OperationInfo,
    OperationKind,
    OperationRecorder,
)

# (module, attribute): where the 2.x SDK's span factory is imported by name (modules 1.x lacks).
SPAN_FACTORIES: tuple[tuple[str, str], ...] = (
    ("mcp.shared.jsonrpc_dispatcher", "otel_span"),
    ("mcp.server._otel", "otel_span"),
)
# Where the client's raw result of a request comes back: the span factory's block ends before the
# caller sees it, so a tools/call result with ``isError`` is read here (see :class:`PendingToolCall`).
RESULT_SOURCE = ("mcp.shared.jsonrpc_dispatcher", "JSONRPCDispatcher.send_raw_request")


class SpanView:
    """What the SDK's code holds in place of its own span: calls reach our span, and the outcome
    the SDK reports (``error.type``, status message) is kept for our metrics."""

    def __init__(self, operation: Operation) -> None:
        self._operation = operation
        self.error_type: str | None = None
        self.message: str | None = None

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.set_attributes({key: value})

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        error_type = attributes.get(sc.ERROR_TYPE)
        if error_type is not None:
            self.error_type = str(error_type)
        self._operation.set_attributes({k: v for k, v in attributes.items() if k != sc.ERROR_TYPE})

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if isinstance(status, Status):
            description = status.description or description
        if description:
            self.message = description

    def record_exception(self, exception: BaseException, *args: Any, **kwargs: Any) -> None:
        self._operation.span.record_exception(exception, *args, **kwargs)

    def is_recording(self) -> bool:
        return self._operation.span.is_recording()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._operation.span, name)


def operation_info(name: str, kind: SpanKind, attributes: Mapping[str, Any] | None) -> OperationInfo | None:
    """The operation the SDK is about to trace, from what it passes its span factory; None if unknown."""
    attrs = dict(attributes or {})
    method = attrs.pop(sc.MCP_METHOD_NAME, None)
    if not isinstance(method, str):
        return None
    # SDK names: "MCP send {method} {target}" (client), "{method} {target}" (server).
    _, _, rest = name.partition(method)
    target = rest.strip() or None
    for key in (sc.GEN_AI_OPERATION_NAME, sc.GEN_AI_TOOL_NAME, sc.GEN_AI_PROMPT_NAME):
        attrs.pop(key, None)  # derived again from method and target by the core
    op_kind = OperationKind.MCP_CLIENT if kind is SpanKind.CLIENT else OperationKind.MCP_SERVER
    return OperationInfo(op_kind, target, attrs or None, method=method)


def span_factory_wrapper(recorder: OperationRecorder) -> Callable[..., Any]:
    """A wrapt wrapper for the SDK's ``otel_span``: our operation instead of the SDK's span."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = args[0] if args else kwargs.get("name", "")
        info = operation_info(name, kwargs.get("kind", SpanKind.INTERNAL), kwargs.get("attributes"))
        if info is None:
            return wrapped(*args, **kwargs)
        operation = recorder.start(info, parent=kwargs.get("context"))
        if operation is None:
            return wrapped(*args, **kwargs)
        return running(operation)

    return wrapper


class PendingToolCall:
    """A client ``tools/call`` whose operation ends only once its result is known. The SDK's span
    block ends when the response arrives, before anyone reads it; the conventions ask for
    ``error.type=tool_error`` when that result has ``isError``. :func:`result_wrapper` holds one of
    these around the request; the span block hands its operation over instead of ending it."""

    __slots__ = ("operation", "view")

    def __init__(self) -> None:
        self.operation: Operation | None = None
        self.view: SpanView | None = None

    def finish(self, outcome: Any, error: BaseException | None) -> None:
        operation, view = self.operation, self.view
        if operation is None or view is None:
            return
        if error is None:
            record_tool_result(view, outcome)
        _end(operation, view, error)


_PENDING_TOOL_CALL: ContextVar[PendingToolCall | None] = ContextVar("llm_mcp_pending_tool_call", default=None)


def result_wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A wrapt wrapper for the client's ``send_raw_request``: a ``tools/call``'s operation ends
    with the result it returns (``tool_error`` for ``isError``), or with the error it raises."""
    method = args[0] if args else kwargs.get("method")
    if method != sc.MCP_TOOLS_CALL:
        return wrapped(*args, **kwargs)
    return _awaiting_result(wrapped(*args, **kwargs))


async def _awaiting_result(request: Any) -> Any:
    pending = PendingToolCall()
    token = _PENDING_TOOL_CALL.set(pending)
    try:
        outcome = await request
    except BaseException as exc:
        pending.finish(None, exc)
        raise
    finally:
        _PENDING_TOOL_CALL.reset(token)
    pending.finish(outcome, None)
    return outcome


@contextmanager
def running(operation: Operation) -> Iterator[SpanView]:
    """The operation's context current around the SDK's work; ends the operation with the outcome
    reported to the :class:`SpanView` it yields, or with the exception that escapes."""
    view = SpanView(operation)
    token = otel_context.attach(operation.context)
    try:
        yield view
    except BaseException as exc:
        _end(operation, view, exc)
        raise
    else:
        if not _hand_over(operation, view):
            _end(operation, view, None)
    finally:
        otel_context.detach(token)


def _hand_over(operation: Operation, view: SpanView) -> bool:
    """Leave a successful client ``tools/call`` to the :class:`PendingToolCall` around it, if any."""
    pending = _PENDING_TOOL_CALL.get()
    if pending is None or pending.operation is not None or view.error_type is not None:
        return False
    if operation.info.kind is not OperationKind.MCP_CLIENT or operation.info.method != sc.MCP_TOOLS_CALL:
        return False
    pending.operation, pending.view = operation, view
    return True


def _end(operation: Operation, view: SpanView, error: BaseException | None) -> None:
    if view.error_type is not None:
        operation.finish(error_type=view.error_type, message=view.message or (str(error) if error else None))
    else:
        operation.finish(error)


def record_tool_result(view: SpanView, result: Any) -> None:
    """A ``tools/call`` answered with ``isError`` (a dict on the wire, a model in the SDK): the tool
    failed, ``error.type=tool_error``, as the MCP conventions ask on both sides."""
    is_error = result.get("isError") if isinstance(result, Mapping) else getattr(result, "isError", None)
    if is_error is True:
        view.set_attributes({sc.ERROR_TYPE: sc.MCP_TOOL_ERROR})


def record_error(view: SpanView, code: int, message: str | None) -> None:
    """A JSON-RPC error response, as the 2.x SDK reports one to its span."""
    status = str(code)
    view.set_attributes({sc.ERROR_TYPE: status, sc.RPC_RESPONSE_STATUS_CODE: status})
    view.set_status(StatusCode.ERROR, message)


def target_of(params: Any) -> str | None:
    """The span name's target: the ``name`` parameter (a tool's or a prompt's), as the 2.x SDK takes it."""
    name = params.get("name") if isinstance(params, Mapping) else getattr(params, "name", None)
    return name if isinstance(name, str) else None


def context_from_meta(carrier: Mapping[str, Any] | None) -> Context | None:
    """The W3C trace context a peer put in ``params._meta``; None when absent, malformed or invalid,
    so the operation starts where it would have without it."""
    if not carrier:
        return None
    try:
        ctx = propagate.extract(carrier)
    except (ValueError, TypeError):
        return None
    return ctx if get_current_span(ctx).get_span_context().is_valid else None
