"""Proxies for raw HTTP responses (``with_raw_response`` / ``with_streaming_response``).

The SDK hands back a response wrapper whose ``parse()`` yields the usual object (or a stream).
Our proxy keeps every attribute of the SDK's wrapper (``headers``, ``http_response``, ``read()``,
``iter_lines()``, ...) and watches the first default ``parse()``: a parsed value finishes the span,
a parsed stream is wrapped in a stream proxy (memoised, so repeated ``parse()`` calls return the
same object, as the SDK's own cache does). If ``parse()`` is never called, the span ends when the
response is closed or garbage-collected, with the timing of the call itself.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import Any

import wrapt

from opentelemetry_instrumentation_llm._core.guard import report
from opentelemetry_instrumentation_llm._core.recorder import Invocation
from opentelemetry_instrumentation_llm._core.streams import end_stream

Observe = Callable[[Any, float], Any]
"""(what parse() returned, when) -> the object to hand the user: finishes the call or wraps a stream."""


class _RawState(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    def __init__(self, wrapped: Any, invocation: Invocation, observe: Observe) -> None:
        super().__init__(wrapped)
        self._self_observe = observe
        self._self_invocation = invocation
        self._self_returned = perf_counter()
        self._self_parsed: Any = None
        self._self_has_parsed = False

    def _self_take(self, parsed: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if args or kwargs.get("to") is not None:
            return parsed  # a custom target type: the user's own view, not the call's result
        if self._self_has_parsed:
            return self._self_parsed
        try:
            observed = self._self_observe(parsed, perf_counter())
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            report("parsing a raw response", exc)
            observed = parsed
        self._self_parsed = observed
        self._self_has_parsed = True
        return observed

    def _self_end(self, closing: bool) -> None:
        if not self._self_has_parsed:
            self._self_invocation.finish(None, end=self._self_returned)
        elif closing:
            # Closing the response closes the stream parsed from it; dropping it does not
            # (users often keep only `response.parse()` and iterate that).
            end_stream(self._self_parsed)

    def __del__(self) -> None:
        try:
            self._self_end(closing=False)
        except Exception:  # noqa: BLE001 - nothing may escape a finaliser
            pass

    def __repr__(self) -> str:
        return repr(self.__wrapped__)


class RawResponseProxy(_RawState):
    """Proxy for a raw response with a synchronous ``parse()`` and no ``close()`` (``LegacyAPIResponse``)."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        if self._self_has_parsed and not args and kwargs.get("to") is None:
            return self._self_parsed
        return self._self_take(self.__wrapped__.parse(*args, **kwargs), args, kwargs)


class ClosableRawResponseProxy(RawResponseProxy):
    """Proxy for a raw response with sync ``parse()`` and ``close()`` (``APIResponse``)."""

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_end(closing=True)


class AsyncRawResponseProxy(_RawState):
    """Proxy for a raw response with async ``parse()`` and ``close()`` (``AsyncAPIResponse``)."""

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        if self._self_has_parsed and not args and kwargs.get("to") is None:
            return self._self_parsed
        return self._self_take(await self.__wrapped__.parse(*args, **kwargs), args, kwargs)

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_end(closing=True)
