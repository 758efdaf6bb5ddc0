"""Stream proxies: the SDK's own stream object, observed chunk by chunk, ending its span exactly once.

The proxies are ``wrapt.ObjectProxy`` subclasses, so ``isinstance`` checks, attributes (``.response``,
``.headers``, private fields used by SDK helpers) and ``repr`` are the SDK's own. Our state lives in
``_self_``-prefixed attributes on the proxy and never touches the wrapped object.

The span ends on whichever comes first: exhaustion, an error while reading, ``close()``,
leaving a ``with`` block, or garbage collection of the proxy. The span is made current only for
the duration of each read, never across the user's code between chunks, so closing a stream
from another thread or task cannot trip "failed to detach context".
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from time import perf_counter
from typing import Any

import wrapt
from opentelemetry.context import attach, detach

from opentelemetry_instrumentation_llm._core.guard import report
from opentelemetry_instrumentation_llm._core.recorder import Invocation, Recorder, suppressed
from opentelemetry_instrumentation_llm._core.records import StreamAccumulator
from opentelemetry_instrumentation_llm._core.spec import Endpoint


class _Observer:
    """Per-stream state and the per-chunk step, kept off the proxy.

    Attribute access on a wrapt proxy goes through its ``__getattribute__`` and costs several
    times a plain slot read; the per-chunk path therefore touches the proxy once (to reach this
    object) and everything else here. A chunk costs a context switch, one call into the SDK, one
    accumulator call and, for output chunks, one clock read and one list append.
    """

    __slots__ = ("accumulator", "add", "context", "first", "gaps", "invocation", "last", "next")

    def __init__(self, invocation: Invocation, accumulator: StreamAccumulator, next_chunk: Any) -> None:
        self.invocation = invocation
        self.accumulator = accumulator
        self.add = accumulator.add
        self.context = invocation.context
        self.next = next_chunk
        self.first: float | None = None
        self.last: float | None = None
        self.gaps: list[float] = []

    def step(self) -> Any:
        token = attach(self.context)
        try:
            chunk = self.next()
        except StopIteration:
            self.end(None)
            raise
        except BaseException as exc:
            self.end(exc)
            raise
        finally:
            detach(token)
        self.observe(chunk)
        return chunk

    async def astep(self) -> Any:
        token = attach(self.context)
        try:
            chunk = await self.next()
        except StopAsyncIteration:
            self.end(None)
            raise
        except BaseException as exc:  # CancelledError included: the span still ends
            self.end(exc)
            raise
        finally:
            detach(token)
        self.observe(chunk)
        return chunk

    def observe(self, chunk: Any) -> None:
        try:
            if self.add(chunk):
                now = perf_counter()
                last = self.last
                if last is None:
                    self.first = now
                else:
                    self.gaps.append(now - last)
                self.last = now
        except Exception as exc:  # noqa: BLE001
            report("reading a stream chunk", exc)

    def end(self, error: BaseException | None = None) -> None:
        invocation = self.invocation
        if invocation.done:
            return
        try:
            response = self.accumulator.result()
        except Exception as exc:  # noqa: BLE001
            report("summarising a stream", exc)
            response = None
        invocation.finish(response, first_chunk=self.first, chunk_gaps=self.gaps, error=error)


class _StreamState(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """Ending logic shared by the sync and async proxies; the state lives in an :class:`_Observer`."""

    _self_observer: _Observer

    def _self_end(self, error: BaseException | None = None) -> None:
        self._self_observer.end(error)

    def __del__(self) -> None:
        # A stream dropped before it was exhausted or closed still ends its span.
        try:
            self._self_observer.end(None)
        except Exception:  # noqa: BLE001 - nothing may escape a finaliser
            pass

    def __repr__(self) -> str:
        return repr(self.__wrapped__)


class StreamProxy(_StreamState):
    """Proxy for a synchronous SDK stream (``openai.Stream``, ``anthropic.Stream``, ...)."""

    def __init__(
        self, wrapped: Any, invocation: Invocation, accumulator: StreamAccumulator, next_chunk: Any = None
    ) -> None:
        super().__init__(wrapped)
        self._self_observer = _Observer(invocation, accumulator, next_chunk or wrapped.__next__)

    def __iter__(self) -> StreamProxy:
        return self

    def __next__(self) -> Any:
        return self._self_observer.step()

    def __enter__(self) -> Any:
        entered = self.__wrapped__.__enter__()
        return self if entered is self.__wrapped__ else entered

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._self_end(None)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_end(None)


class AsyncStreamProxy(_StreamState):
    """Proxy for an asynchronous SDK stream (``openai.AsyncStream``, ``anthropic.AsyncStream``, ...)."""

    def __init__(self, wrapped: Any, invocation: Invocation, accumulator: StreamAccumulator) -> None:
        super().__init__(wrapped)
        self._self_observer = _Observer(invocation, accumulator, wrapped.__anext__)

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    def __anext__(self) -> Any:
        return self._self_observer.astep()

    async def __aenter__(self) -> Any:
        entered = await self.__wrapped__.__aenter__()
        return self if entered is self.__wrapped__ else entered

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._self_end(None)

    def close(self) -> Any:
        # SDK async streams have `async def close()`; stay awaitable, and also cope with a sync one.
        try:
            result = self.__wrapped__.close()
        except BaseException:
            self._self_end(None)
            raise
        if inspect.isawaitable(result):
            return self._self_end_after(result)
        self._self_end(None)
        return result

    async def aclose(self) -> Any:
        # Async generators (google-genai, cohere, ollama streams) close with aclose().
        try:
            return await self.__wrapped__.aclose()
        finally:
            self._self_end(None)

    async def _self_end_after(self, awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        finally:
            self._self_end(None)


def end_stream(candidate: Any) -> None:
    """End the span of ``candidate`` if it is one of our stream proxies (used when the SDK closes the
    HTTP response behind the proxy's back, e.g. from a helper stream or a raw response)."""
    try:
        if isinstance(candidate, _StreamState):
            candidate._self_end(None)
    except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
        report("closing a wrapped stream", exc)


class _ManagerState(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """A stream helper's context manager; the call (and our span) starts on ``__enter__``."""

    def __init__(
        self, wrapped: Any, recorder: Recorder, endpoint: Endpoint, instance: Any, kwargs: dict[str, Any]
    ) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder
        self._self_endpoint = endpoint
        self._self_instance = instance
        self._self_kwargs = kwargs

    def _self_start(self) -> Invocation | None:
        if suppressed():
            return None
        return self._self_recorder.start(self._self_endpoint, self._self_instance, self._self_kwargs, streaming=True)

    def _self_observe(
        self, helper: Any, invocation: Invocation, proxy_type: type[StreamProxy] | type[AsyncStreamProxy]
    ) -> None:
        """Point the SDK helper's raw stream at our proxy, so every way of reading it passes through us."""
        endpoint = self._self_endpoint
        try:
            raw = getattr(helper, endpoint.raw_stream_attribute, None)
            if raw is None or endpoint.accumulator is None:
                invocation.finish(None)
                return
            accumulator = endpoint.accumulator(self._self_recorder.capture_any)
            setattr(helper, endpoint.raw_stream_attribute, proxy_type(raw, invocation, accumulator))
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            report("observing a helper stream", exc)
            invocation.finish(None)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)


class StreamManagerProxy(_ManagerState):
    def __enter__(self) -> Any:
        invocation = self._self_start()
        if invocation is None:
            return self.__wrapped__.__enter__()
        with invocation:
            helper = self.__wrapped__.__enter__()
        self._self_observe(helper, invocation, StreamProxy)
        return helper

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        return self.__wrapped__.__exit__(exc_type, exc, tb)


class AsyncStreamManagerProxy(_ManagerState):
    async def __aenter__(self) -> Any:
        invocation = self._self_start()
        if invocation is None:
            return await self.__wrapped__.__aenter__()
        with invocation:
            helper = await self.__wrapped__.__aenter__()
        self._self_observe(helper, invocation, AsyncStreamProxy)
        return helper

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        return await self.__wrapped__.__aexit__(exc_type, exc, tb)
