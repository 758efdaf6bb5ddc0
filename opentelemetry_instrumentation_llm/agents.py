"""Agent runs, tool executions and workflows written by hand, as one trace.

Many agents are plain loops: call the model, run the tools it asked for, repeat. Mark the pieces
and the loop becomes one trace, the agent span above every model call and tool span::

    import opentelemetry_instrumentation_llm as llm

    @llm.tool
    def get_weather(city: str) -> str: ...

    with llm.agent("planner"):
        response = client.chat.completions.create(...)   # an inference span, child of the agent
        get_weather("Paris")                             # execute_tool get_weather, child of the agent

``tool``, ``agent`` and ``workflow`` each work as a decorator (bare or with options) on sync and
async functions and generators, and as a context manager (``with`` / ``async with``) that yields
an :class:`Invocation` handle. A function that raises ends its span with ``error.type`` and the
exception propagates unchanged. Tool arguments and results and agent input and output are
recorded only when content capture is on (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``):
as span attributes under ``SPAN_ONLY``, on a ``gen_ai.client.inference.operation.details`` log
event under ``EVENT_ONLY``, on both under ``SPAN_AND_EVENT``; the redaction processors apply to
both.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from types import TracebackType
from typing import Any, TypeVar, overload

from opentelemetry import context
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.operations import (
    Operation,
    OperationInfo,
    OperationKind,
    OperationRecorder,
)
from opentelemetry_instrumentation_llm._core.settings import ContentSettings
from opentelemetry_instrumentation_llm.config import ContentSettings as EnvContentSettings

F = TypeVar("F", bound=Callable[..., Any])

SCOPE = "opentelemetry_instrumentation_llm.agents"

_recorder: OperationRecorder | None = None


def configure(
    *,
    tracer_provider: Any = None,
    meter_provider: Any = None,
    logger_provider: Any = None,
    content: ContentSettings | None = None,
) -> None:
    """Record with these providers and content settings (``instrument()`` calls this with its own).

    Without a call, the global providers and the environment's content setting are used.
    """
    global _recorder
    _recorder = OperationRecorder(
        SCOPE,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        content=content or EnvContentSettings.from_env(),
    )


def _get_recorder() -> OperationRecorder:
    recorder = _recorder
    if recorder is None:
        configure()
        recorder = _recorder
    return recorder  # type: ignore[return-value]


# --------------------------------------------------------------------------- content shapes

_INPUT_KEY = {OperationKind.TOOL: sc.GEN_AI_TOOL_CALL_ARGUMENTS}
_OUTPUT_KEY = {OperationKind.TOOL: sc.GEN_AI_TOOL_CALL_RESULT}


def _messages(value: Any, role: str) -> Any:
    """Agent/workflow input or output in the conventions' message form: text becomes one message
    with one text part; a list of messages passes as given; anything else becomes JSON text."""
    if isinstance(value, list) and all(isinstance(m, Mapping) and "role" in m for m in value):
        return value
    if not isinstance(value, str):
        from opentelemetry_instrumentation_llm._core.content import to_json

        value = to_json(value)
    message: dict[str, Any] = {"role": role, "parts": [{"type": "text", "content": value}]}
    if role == "assistant":
        message["finish_reason"] = "stop"
    return [message]


class Invocation:
    """The handle a ``with llm.tool(...)`` / ``llm.agent(...)`` / ``llm.workflow(...)`` block yields."""

    __slots__ = ("_operation",)

    def __init__(self, operation: Operation | None) -> None:
        self._operation = operation

    @property
    def span(self) -> Span | None:
        return self._operation.span if self._operation is not None else None

    @property
    def captures_content(self) -> bool:
        """Whether content given to :meth:`record_input`/:meth:`record_output` is recorded."""
        return self._operation is not None and self._operation.captures_content

    def record_input(self, value: Any) -> None:
        """Tool arguments, or an agent's/workflow's input (text or messages); only under content capture."""
        self._record(value, _INPUT_KEY, sc.GEN_AI_INPUT_MESSAGES, "user")

    def record_output(self, value: Any) -> None:
        """A tool's result, or an agent's/workflow's output; only under content capture."""
        self._record(value, _OUTPUT_KEY, sc.GEN_AI_OUTPUT_MESSAGES, "assistant")

    def _record(self, value: Any, tool_keys: dict[OperationKind, str], message_key: str, role: str) -> None:
        op = self._operation
        if op is None or not op.captures_content:
            return
        key = tool_keys.get(op.info.kind)
        if key is not None:
            op.record_content(key, value)
        else:
            op.record_content(message_key, _messages(value, role))

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """More span attributes (e.g. ``gen_ai.request.model`` of an agent, known once it ran)."""
        if self._operation is not None:
            self._operation.set_attributes(attributes)


# --------------------------------------------------------------------------- wrapping functions


def _bound_arguments(signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if signature is None:
        return {"args": list(args), **kwargs}
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {"args": list(args), **kwargs}
    return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}


class _Marker:
    """One ``tool``/``agent``/``workflow`` declaration: a decorator and a (re-entrant) context manager."""

    def __init__(self, kind: OperationKind, name: str | None, attributes: dict[str, AttributeValue]) -> None:
        self.kind = kind
        self.name = name
        self.attributes = attributes
        self._open: list[tuple[Operation | None, Any]] = []

    def _start(self, attributes: Mapping[str, AttributeValue] | None = None) -> Operation | None:
        attrs = {**self.attributes, **attributes} if attributes else self.attributes
        return _get_recorder().start(OperationInfo(self.kind, self.name, attrs or None))

    # -- context manager ------------------------------------------------------------------
    def __enter__(self) -> Invocation:
        op = self._start()
        token = context.attach(op.context) if op is not None else None
        self._open.append((op, token))
        return Invocation(op)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        op, token = self._open.pop()
        if token is not None:
            context.detach(token)
        if op is not None:
            op.finish(_failure(exc))

    async def __aenter__(self) -> Invocation:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- decorator --------------------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        if self.name is None:
            self.name = getattr(fn, "__name__", None)
        if self.kind is OperationKind.TOOL and sc.GEN_AI_TOOL_DESCRIPTION not in self.attributes:
            doc = inspect.getdoc(fn)
            if doc:
                self.attributes[sc.GEN_AI_TOOL_DESCRIPTION] = doc.split("\n\n", 1)[0].strip()
        try:
            signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            signature = None
        if inspect.isasyncgenfunction(fn):
            return _wrap_async_generator(self, fn, signature)  # type: ignore[no-any-return]
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(self, fn, signature)  # type: ignore[no-any-return]
        if inspect.iscoroutinefunction(fn):
            return _wrap_coroutine(self, fn, signature)  # type: ignore[no-any-return]
        return _wrap_function(self, fn, signature)  # type: ignore[no-any-return]

    def _begin(
        self, signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Operation | None:
        op = self._start()
        if op is not None and op.captures_content:
            Invocation(op).record_input(_bound_arguments(signature, args, kwargs))
        return op


def _failure(exc: BaseException | None) -> BaseException | None:
    """The exception that failed the invocation; closing a generator early is not a failure."""
    return None if exc is None or isinstance(exc, GeneratorExit) else exc


def _end(op: Operation | None, result: Any = None, error: BaseException | None = None, has_result: bool = True) -> None:
    if op is None:
        return
    if error is None and has_result and op.captures_content:
        Invocation(op).record_output(result)
    op.finish(_failure(error))


def _wrap_function(marker: _Marker, fn: Callable[..., Any], signature: inspect.Signature | None) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        op = marker._begin(signature, args, kwargs)
        if op is None:
            return fn(*args, **kwargs)
        token = context.attach(op.context)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _end(op, error=exc)
            raise
        finally:
            context.detach(token)
        _end(op, result)
        return result

    return wrapper


def _wrap_coroutine(marker: _Marker, fn: Callable[..., Any], signature: inspect.Signature | None) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        op = marker._begin(signature, args, kwargs)
        if op is None:
            return await fn(*args, **kwargs)
        token = context.attach(op.context)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            _end(op, error=exc)
            raise
        finally:
            context.detach(token)
        _end(op, result)
        return result

    return wrapper


def _wrap_generator(marker: _Marker, fn: Callable[..., Any], signature: inspect.Signature | None) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        op = marker._begin(signature, args, kwargs)
        if op is None:
            return (yield from fn(*args, **kwargs))
        # The span is current only while the generator body runs, never across the caller's code.
        gen = fn(*args, **kwargs)
        step: Callable[[], Any] = functools.partial(gen.send, None)
        while True:
            token = context.attach(op.context)
            try:
                item = step()
            except StopIteration as stop:
                _end(op, stop.value, has_result=False)
                return stop.value
            except BaseException as exc:
                _end(op, error=exc)
                raise
            finally:
                context.detach(token)
            try:
                sent = yield item
            except GeneratorExit:
                gen.close()
                _end(op, has_result=False)
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in by the caller: passed on to the body
                step = functools.partial(gen.throw, exc)
            else:
                step = functools.partial(gen.send, sent)

    return wrapper


def _wrap_async_generator(marker: _Marker, fn: Callable[..., Any], signature: inspect.Signature | None) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        op = marker._begin(signature, args, kwargs)
        agen = fn(*args, **kwargs)
        if op is None:
            async for item in agen:
                yield item
            return
        step: Callable[[], Any] = functools.partial(agen.asend, None)
        while True:
            token = context.attach(op.context)
            try:
                item = await step()
            except StopAsyncIteration:
                _end(op, has_result=False)
                return
            except BaseException as exc:
                _end(op, error=exc)
                raise
            finally:
                context.detach(token)
            try:
                sent = yield item
            except GeneratorExit:
                await agen.aclose()
                _end(op, has_result=False)
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in by the caller: passed on to the body
                step = functools.partial(agen.athrow, exc)
            else:
                step = functools.partial(agen.asend, sent)

    return wrapper


# --------------------------------------------------------------------------- public markers


def _options(**values: AttributeValue | None) -> dict[str, AttributeValue]:
    return {key: value for key, value in values.items() if value is not None}


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(
    name: str | None = None,
    /,
    *,
    description: str | None = None,
    type: str = sc.TOOL_TYPE_FUNCTION,
    call_id: str | None = None,
) -> _Marker: ...
@overload
def tool(
    *, name: str, description: str | None = None, type: str = sc.TOOL_TYPE_FUNCTION, call_id: str | None = None
) -> _Marker: ...
def tool(
    fn_or_name: Any = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    type: str = sc.TOOL_TYPE_FUNCTION,
    call_id: str | None = None,
) -> Any:
    """An ``execute_tool`` span: ``@tool``, ``@tool("name", description=...)`` or ``with tool("name"):``.

    The description defaults to the first paragraph of the function's docstring.
    """
    attrs = _options(
        **{sc.GEN_AI_TOOL_TYPE: type, sc.GEN_AI_TOOL_DESCRIPTION: description, sc.GEN_AI_TOOL_CALL_ID: call_id}
    )
    if callable(fn_or_name):
        return _Marker(OperationKind.TOOL, name, attrs)(fn_or_name)
    return _Marker(OperationKind.TOOL, fn_or_name or name, attrs)


@overload
def agent(fn: F, /) -> F: ...
@overload
def agent(
    name: str | None = None,
    /,
    *,
    id: str | None = None,
    description: str | None = None,
    version: str | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> _Marker: ...
def agent(
    fn_or_name: Any = None,
    /,
    *,
    id: str | None = None,
    description: str | None = None,
    version: str | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> Any:
    """An ``invoke_agent`` span: ``@agent``, ``@agent("planner")`` or ``with agent("planner"):``.

    Model calls and tools inside become its children; tools get its name as ``gen_ai.agent.name``;
    its ``gen_ai.invoke_agent.inference_calls``/``tool_calls`` count them.
    """
    attrs = _options(
        **{
            sc.GEN_AI_AGENT_ID: id,
            sc.GEN_AI_AGENT_DESCRIPTION: description,
            sc.GEN_AI_AGENT_VERSION: version,
            sc.GEN_AI_PROVIDER_NAME: provider,
            sc.GEN_AI_REQUEST_MODEL: model,
        }
    )
    if callable(fn_or_name):
        return _Marker(OperationKind.AGENT, None, attrs)(fn_or_name)
    return _Marker(OperationKind.AGENT, fn_or_name, attrs)


@overload
def workflow(fn: F, /) -> F: ...
@overload
def workflow(name: str | None = None, /) -> _Marker: ...
def workflow(fn_or_name: Any = None, /) -> Any:
    """An ``invoke_workflow`` span: ``@workflow``, ``@workflow("ingest")`` or ``with workflow("ingest"):``."""
    if callable(fn_or_name):
        return _Marker(OperationKind.WORKFLOW, None, {})(fn_or_name)
    return _Marker(OperationKind.WORKFLOW, fn_or_name, {})
