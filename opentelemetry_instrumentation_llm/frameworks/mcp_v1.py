"""MCP on the ``mcp`` 1.x line, which has no tracing of its own: the same operations as on 2.x.

Four public or long-stable points of the 1.x SDK (unchanged from 1.9 to 1.30, the last 1.x) are
wrapped with wrapt:

* ``BaseSession.send_request``: every request a session sends (the client's, and a server's
  requests to its client) is a CLIENT operation, current while the SDK waits for the answer, whose
  context goes into a copy of the request's ``params._meta`` (the caller's request is not touched);
  a JSON-RPC error answer (``McpError``) becomes ``error.type`` / ``rpc.response.status_code``, and
  a ``tools/call`` answered with ``isError`` gets ``error.type=tool_error``.
* ``Server._handle_message`` (the low-level server, which FastMCP runs on): every request and
  notification it handles is a SERVER operation parented on the context in ``params._meta``.
* ``ServerSession._received_request``: the one request the session answers itself, ``initialize``.
* ``RequestResponder.respond``: what a served request is answered with (an error, or a
  ``CallToolResult`` with ``isError``: ``tool_error``), since the 1.x server turns a handler's
  exception into an error answer before we could see it.

Operations are opened through :func:`~.mcp.running` and report their outcome to its
:class:`~.mcp.SpanView`, exactly as the 2.x SDK's own code does on that path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from functools import cache
from typing import Any

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.guard import report
from opentelemetry_instrumentation_llm._core.operations import (
    Operation,
    OperationInfo,
    OperationKind,
    OperationRecorder,
)
from opentelemetry_instrumentation_llm.frameworks.mcp import (
    SpanView,
    context_from_meta,
    record_error,
    record_tool_result,
    running,
    target_of,
)

SESSION_MODULE = "mcp.shared.session"
"""Exists only on the 1.x line: the 1.x patches are applied once it is imported."""

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Awaitable[Any]]

# The served request whose answer ``respond`` reports, and the view of its operation.
_SERVING: ContextVar[tuple[Any, SpanView] | None] = ContextVar("opentelemetry_instrumentation_llm_mcp", default=None)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


# ---------------------------------------------------------------------------------------- sending


def send_request_wrapper(recorder: OperationRecorder) -> Wrapper:
    """For ``BaseSession.send_request(request, result_type, ...)``."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        request = _arg(args, kwargs, 0, "request")
        operation = _start(recorder, "reading an MCP request", _sending, instance, request)
        if operation is None:
            return await wrapped(*args, **kwargs)
        with running(operation) as view:
            traced = with_trace_context(request, operation.context)
            if args:
                args = (traced, *args[1:])
            else:
                kwargs = {**kwargs, "request": traced}
            try:
                result = await wrapped(*args, **kwargs)
            except Exception as exc:
                error = getattr(exc, "error", None)  # McpError: the peer's JSON-RPC error
                code = getattr(error, "code", None)
                if isinstance(code, int):
                    record_error(view, code, getattr(error, "message", None))
                raise
            if operation.info.method == sc.MCP_TOOLS_CALL:
                record_tool_result(view, result)
            return result

    return wrapper


def _start(recorder: OperationRecorder, what: str, read: Callable[[Any, Any], Any], *args: Any) -> Operation | None:
    """The operation ``read(*args)`` describes ((info, parent) or None), started; a failure to read
    is reported as ``what`` and the message goes on unrecorded (fail open)."""
    try:
        found = read(*args)
    except Exception as exc:  # noqa: BLE001 - fail open: the message goes on unrecorded
        report(what, exc)
        return None
    return recorder.start(found[0], parent=found[1]) if found is not None else None


def _sending(session: Any, request: Any) -> tuple[OperationInfo, None] | None:
    root = getattr(request, "root", request)
    method = getattr(root, "method", None)
    if not isinstance(method, str):
        return None
    attributes: dict[str, AttributeValue] = {}
    request_id = getattr(session, "_request_id", None)  # the id send_request is about to take
    if isinstance(request_id, int):
        attributes[sc.JSONRPC_REQUEST_ID] = str(request_id)
    info = OperationInfo(OperationKind.MCP_CLIENT, target_of(getattr(root, "params", None)), attributes, method=method)
    return info, None  # the client's request starts where the caller is


def with_trace_context(request: Any, ctx: Context) -> Any:
    """A copy of ``request`` whose ``params._meta`` carries ``ctx``; ``request`` itself if that fails."""
    try:
        carrier: dict[str, Any] = {}
        propagate.inject(carrier, context=ctx)
        if not carrier:
            return request
        is_root_model = hasattr(request, "root")
        root = request.root if is_root_model else request
        params = root.params if root.params is not None else _params_type(root.__class__)()
        meta = params.meta
        meta_type = type(meta) if meta is not None else type(params).Meta
        merged = {**(meta.model_dump(by_alias=True, exclude_none=True) if meta is not None else {}), **carrier}
        params = params.model_copy(update={"meta": meta_type.model_validate(merged)})
        root = root.model_copy(update={"params": params})
        return request.model_copy(update={"root": root}) if is_root_model else root
    except Exception as exc:  # noqa: BLE001 - fail open: the request goes out as the caller built it
        report("putting trace context into an MCP request", exc)
        return request


@cache
def _params_type(request_type: Any) -> type:
    """The params model of a request type whose params are optional (``tools/list``, ``ping``)."""
    annotation = request_type.model_fields["params"].annotation
    candidates = getattr(annotation, "__args__", (annotation,))
    return next(t for t in candidates if isinstance(t, type) and "meta" in getattr(t, "model_fields", ()))


# ---------------------------------------------------------------------------------------- serving


def handle_message_wrapper(recorder: OperationRecorder) -> Wrapper:
    """For ``Server._handle_message(message, session, lifespan_context, raise_exceptions)``."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        message = _arg(args, kwargs, 0, "message")
        operation = _start(recorder, "reading an MCP message", _serving, message, _arg(args, kwargs, 1, "session"))
        return await _serve(operation, message, wrapped, args, kwargs)

    return wrapper


def received_request_wrapper(recorder: OperationRecorder) -> Wrapper:
    """For ``ServerSession._received_request(responder)``: only ``initialize`` is answered there."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        responder = _arg(args, kwargs, 0, "responder")
        if getattr(getattr(getattr(responder, "request", None), "root", None), "method", None) != "initialize":
            return await wrapped(*args, **kwargs)
        operation = _start(recorder, "reading an MCP message", _serving, responder, instance)
        return await _serve(operation, responder, wrapped, args, kwargs)

    return wrapper


async def _serve(
    operation: Operation | None,
    message: Any,
    wrapped: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    if operation is None:
        return await wrapped(*args, **kwargs)
    with running(operation) as view:
        token = _SERVING.set((message, view))
        try:
            return await wrapped(*args, **kwargs)
        finally:
            _SERVING.reset(token)


def _serving(message: Any, session: Any) -> tuple[OperationInfo, Context | None] | None:
    root = getattr(getattr(message, "request", message), "root", None)
    method = getattr(root, "method", None)
    if not isinstance(method, str):
        return None
    params = getattr(root, "params", None)
    attributes: dict[str, AttributeValue] = {}
    request_id = getattr(message, "request_id", None)
    if request_id is not None:
        attributes[sc.JSONRPC_REQUEST_ID] = str(request_id)
    version = _protocol_version(session, params)
    if version is not None:
        attributes[sc.MCP_PROTOCOL_VERSION] = version
    meta = getattr(params, "meta", None)
    carrier = meta if isinstance(meta, Mapping) else getattr(meta, "model_extra", None)
    info = OperationInfo(OperationKind.MCP_SERVER, target_of(params), attributes, method=method)
    return info, context_from_meta(carrier)


def _protocol_version(session: Any, params: Any) -> str | None:
    """The version the session negotiated: the client's if the server supports it, else its latest
    (as ``ServerSession`` answers ``initialize``)."""
    client = getattr(session, "client_params", None) or params  # during initialize: its own params
    requested = getattr(client, "protocolVersion", None)
    if not isinstance(requested, str):
        return None
    supported, latest = _server_versions()
    return requested if supported is None or requested in supported else latest


@cache
def _server_versions() -> tuple[Any, str | None]:
    try:
        from mcp.shared.version import SUPPORTED_PROTOCOL_VERSIONS  # type: ignore[import-not-found]
        from mcp.types import LATEST_PROTOCOL_VERSION  # type: ignore[attr-defined]
    except ImportError:
        return None, None
    return SUPPORTED_PROTOCOL_VERSIONS, LATEST_PROTOCOL_VERSION


def respond_wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """For ``RequestResponder.respond(response)``: the answer to a request we serve is its outcome."""
    serving = _SERVING.get()
    if serving is not None and serving[0] is instance:
        _record_answer(serving[1], _arg(args, kwargs, 0, "response"))
    return wrapped(*args, **kwargs)


def _record_answer(view: SpanView, response: Any) -> None:
    try:
        code, message = getattr(response, "code", None), getattr(response, "message", None)
        if isinstance(code, int) and isinstance(message, str):  # ErrorData
            record_error(view, code, message)
        else:
            record_tool_result(view, getattr(response, "root", response))
    except Exception as exc:  # noqa: BLE001 - fail open: the answer goes out regardless
        report("reading an MCP answer", exc)


# (module, attribute, wrapper factory) of every 1.x patch; the first two modules exist on 1.x only.
PATCHES: tuple[tuple[str, str, Callable[[OperationRecorder], Any]], ...] = (
    (SESSION_MODULE, "BaseSession.send_request", send_request_wrapper),
    (SESSION_MODULE, "RequestResponder.respond", lambda _recorder: respond_wrapper),
    ("mcp.server.session", "ServerSession._received_request", received_request_wrapper),
    ("mcp.server.lowlevel.server", "Server._handle_message", handle_message_wrapper),
)
