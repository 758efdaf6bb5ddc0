"""wrapt wrappers generated from the adapters' wrap tables.

Data flows one way: user code -> wrapper -> adapter.parse_request -> Recorder.start -> the SDK's
method -> adapter.parse_response (or a stream proxy feeding an accumulator) -> Invocation.finish.

Each wrapper has exactly one guard around our own code on each path; the SDK method itself is
always called with the user's arguments, untouched, and its exceptions propagate unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import Any

from opentelemetry import trace
from opentelemetry.context import get_current

from opentelemetry_instrumentation_llm._core.guard import report
from opentelemetry_instrumentation_llm._core.raw import (
    AsyncRawResponseProxy,
    ClosableRawResponseProxy,
    RawResponseProxy,
)
from opentelemetry_instrumentation_llm._core.recorder import LLM_SPAN_ACTIVE_KEY, Invocation, Recorder, suppressed
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ParamsBinder, ResultKind, StreamCloseHook
from opentelemetry_instrumentation_llm._core.streams import (
    AsyncStreamManagerProxy,
    AsyncStreamProxy,
    StreamManagerProxy,
    StreamProxy,
    end_stream,
)

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

_patch_generation = 0


def patch_generation() -> int:
    """A number that changes whenever one of our instrumentors patches or restores a method: what
    depends on which methods carry our wrappers can be cached until it changes."""
    return _patch_generation


def patches_changed() -> None:
    """Called by the patching layer after it patched or restored methods."""
    global _patch_generation
    _patch_generation += 1


_RAW_PROXIES = {
    ResultKind.RAW: RawResponseProxy,
    ResultKind.RAW_CLOSABLE: ClosableRawResponseProxy,
    ResultKind.ASYNC_RAW: AsyncRawResponseProxy,
}


def observe_result(
    recorder: Recorder, endpoint: Endpoint, invocation: Invocation, result: Any, end: float | None = None
) -> Any:
    """Finish the invocation from what the SDK returned, or hand back a proxy that will."""
    try:
        kind = (endpoint.classify or recorder.spec.classify)(result)
        if kind is ResultKind.VALUE:
            _finish_value(recorder, endpoint, invocation, result, end)
            return result
        if endpoint.accumulator is None and kind in _STREAMS:
            invocation.finish(None, end=end)
            return result
        if kind is ResultKind.STREAM or kind is ResultKind.ASYNC_STREAM:
            proxy = StreamProxy if kind is ResultKind.STREAM else AsyncStreamProxy
            return proxy(result, invocation, endpoint.accumulator(recorder.capture_any))  # type: ignore[misc]
        if kind is ResultKind.EMBEDDED_STREAM:
            key = recorder.spec.embedded_stream_key(result)  # type: ignore[misc]
            stream = result[key]
            # Iterable-only streams (botocore's EventStream) are read through one iterator.
            result[key] = StreamProxy(
                stream,
                invocation,
                endpoint.accumulator(recorder.capture_any),  # type: ignore[misc]
                iter(stream).__next__,
            )
            return result
        # Raw HTTP responses (with_raw_response / with_streaming_response): observed when parsed.
        return _RAW_PROXIES[kind](
            result, invocation, lambda parsed, when: observe_result(recorder, endpoint, invocation, parsed, when)
        )
    except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
        report("observing a result", exc)
        invocation.finish(None, end=end)
        return result


_STREAMS = frozenset({ResultKind.STREAM, ResultKind.ASYNC_STREAM, ResultKind.EMBEDDED_STREAM})


def _finish_value(
    recorder: Recorder, endpoint: Endpoint, invocation: Invocation, result: Any, end: float | None
) -> None:
    try:
        response = endpoint.parse_response(result, recorder.capture_any)
    except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
        report("reading a response", exc)
        response = None
    invocation.finish(response, end=end)


def _bound(bind: ParamsBinder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        return bind(args, kwargs)
    except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
        report("reading call arguments", exc)
        return kwargs


def sync_wrapper(recorder: Recorder, endpoint: Endpoint) -> Wrapper:
    bind = endpoint.params

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if suppressed():
            return wrapped(*args, **kwargs)
        invocation = recorder.start(endpoint, instance, kwargs if bind is None else _bound(bind, args, kwargs))
        if invocation is None:
            return wrapped(*args, **kwargs)
        with invocation:
            result = wrapped(*args, **kwargs)
        return observe_result(recorder, endpoint, invocation, result, perf_counter())

    return wrapper


def async_wrapper(recorder: Recorder, endpoint: Endpoint) -> Wrapper:
    bind = endpoint.params

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if suppressed():
            return await wrapped(*args, **kwargs)
        invocation = recorder.start(endpoint, instance, kwargs if bind is None else _bound(bind, args, kwargs))
        if invocation is None:
            return await wrapped(*args, **kwargs)
        with invocation:
            result = await wrapped(*args, **kwargs)
        return observe_result(recorder, endpoint, invocation, result, perf_counter())

    return wrapper


def close_hook_wrapper(hook: StreamCloseHook) -> Wrapper:
    attribute = hook.raw_stream_attribute
    if hook.is_async:

        async def async_close(
            wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Any:
            try:
                return await wrapped(*args, **kwargs)
            finally:
                end_stream(getattr(instance, attribute, None))

        return async_close

    def close(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return wrapped(*args, **kwargs)
        finally:
            end_stream(getattr(instance, attribute, None))

    return close


def stream_manager_wrapper(recorder: Recorder, endpoint: Endpoint) -> Wrapper:
    """For helpers that send the request on ``__enter__``: the span starts there, not at the call."""
    proxy_type = AsyncStreamManagerProxy if endpoint.is_async else StreamManagerProxy

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        manager = wrapped(*args, **kwargs)
        try:
            return proxy_type(manager, recorder, endpoint, instance, kwargs)
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            report("wrapping a stream manager", exc)
            return manager

    return wrapper


def wrapper_for(recorder: Recorder, endpoint: Endpoint) -> Wrapper:
    if endpoint.stream_manager:
        return stream_manager_wrapper(recorder, endpoint)
    return async_wrapper(recorder, endpoint) if endpoint.is_async else sync_wrapper(recorder, endpoint)


def sdk_span_hook_wrapper() -> Wrapper:
    """Inside one of our spans, an SDK's own span factory yields a non-recording span in our context."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        ctx = get_current()
        if ctx.get(LLM_SPAN_ACTIVE_KEY):
            span_context = trace.get_current_span(ctx).get_span_context()
            if span_context.is_valid:
                return trace.NonRecordingSpan(span_context)
        return wrapped(*args, **kwargs)

    return wrapper
