"""What the framework adapters share: whether our core wraps an SDK method, an inference span
opened from a framework's view of a model call, and detaching a context only where it was attached."""

from __future__ import annotations

import sys
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import _RUNTIME_CONTEXT, Context

from opentelemetry_instrumentation_llm._core.recorder import Invocation, Recorder
from opentelemetry_instrumentation_llm._core.records import RequestInfo

_OUR_WRAPPERS = "opentelemetry_instrumentation_llm._core.wrappers"


def wrapped_by_us(module_name: str, owner: str, method: str) -> bool:
    """Whether ``module_name.owner.method`` carries our core's wrapper right now (so a model call
    through it already has its inference span). Imports nothing."""
    module = sys.modules.get(module_name)
    wrapper = getattr(getattr(getattr(module, owner, None), method, None), "_self_wrapper", None)
    return getattr(wrapper, "__module__", None) == _OUR_WRAPPERS


def detach_if_current(attached: Context | None, token: Any) -> None:
    """Undo ``attach(attached)`` if it is still the current context of this very
    ``contextvars.Context``. A run whose end is reported from another thread or task leaves the
    context alone (it goes away with its thread or task), and so does a run with something attached
    after it still current: resetting then would undo what is not ours, and OpenTelemetry's
    ``detach`` would log an error for each such run."""
    if attached is None or otel_context.get_current() is not attached:
        return
    try:
        _RUNTIME_CONTEXT.detach(token)
    except ValueError:  # the token belongs to another contextvars.Context
        pass


def start_inference(recorder: Recorder, request: RequestInfo, parent: Context) -> Invocation:
    """The inference span of a model call the framework reports and no SDK instrumentation of ours
    covers, opened in ``parent`` (the recorder starts spans in the current context)."""
    token = otel_context.attach(parent)
    try:
        return Invocation(recorder, request, None)
    finally:
        otel_context.detach(token)
