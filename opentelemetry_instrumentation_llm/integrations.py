"""Instrumentors for agent frameworks: the OpenAI Agents SDK and MCP.

Like the SDK instrumentors, each is a ``BaseInstrumentor`` (entry points ``llm_openai_agents`` and
``llm_mcp``) built on an adapter from ``frameworks/``; the adapter translates the framework's
extension points into operation records, and the core's
:class:`~opentelemetry_instrumentation_llm._core.operations.OperationRecorder` records them.
:func:`instrument_frameworks` is what ``instrument()`` calls for them, and it also points the
hand-written-loop API (``llm.agent``/``llm.tool``/``llm.workflow``) at the same providers.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Collection
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from opentelemetry_instrumentation_llm import agents
from opentelemetry_instrumentation_llm._core.operations import OperationRecorder
from opentelemetry_instrumentation_llm._core.settings import ContentCapture
from opentelemetry_instrumentation_llm.config import ContentSettings
from opentelemetry_instrumentation_llm.patching import PatchingInstrumentor as _PatchingInstrumentor, instrument_once

_logger = logging.getLogger(__name__)


def content_settings(kwargs: dict[str, Any]) -> ContentSettings:
    """``content`` (resolved by ``instrument()``), else ``capture_content`` (bool or ContentCapture),
    else the environment."""
    content = kwargs.get("content")
    if isinstance(content, ContentSettings):
        return content
    override = kwargs.get("capture_content")
    if isinstance(override, bool):
        return ContentSettings(capture=ContentCapture.SPAN_AND_EVENT if override else ContentCapture.NO_CONTENT)
    if isinstance(override, ContentCapture):
        return ContentSettings(capture=override)
    return ContentSettings.from_env()


def operation_recorder(scope: str, kwargs: dict[str, Any]) -> OperationRecorder:
    return OperationRecorder(
        scope,
        tracer_provider=kwargs.get("tracer_provider"),
        meter_provider=kwargs.get("meter_provider"),
        content=content_settings(kwargs),
    )


class MCPInstrumentor(_PatchingInstrumentor):
    """Instruments ``mcp`` 2.x: client requests (CLIENT) and server handling (SERVER) as the MCP
    conventions' spans, ``tools/call`` also as ``execute_tool``; the SDK's own spans are replaced by
    ours and its ``params._meta`` trace propagation is kept."""

    def instrumentation_dependencies(self) -> Collection[str]:
        from opentelemetry_instrumentation_llm.frameworks import mcp

        return (mcp.REQUIREMENT,)

    def _instrument(self, **kwargs: Any) -> None:
        from opentelemetry_instrumentation_llm.frameworks import mcp

        self._patched = []
        self._active = True
        wrapper = mcp.span_factory_wrapper(operation_recorder("opentelemetry_instrumentation_llm.mcp", kwargs))
        for module, target in mcp.SPAN_FACTORIES:
            self._patch_on_import(module, target, wrapper)


class OpenAIAgentsInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments the OpenAI Agents SDK through its trace-processor interface: runs, agents and
    function tools as the conventions' workflow, agent and tool spans; model calls once (ours from
    the ``openai`` instrumentation when on, else from the SDK's generation/response spans).

    The processor is added beside the SDK's own, so its export to OpenAI's trace backend is kept
    (or not) as configured. ``uninstrument()`` makes our processor inert (the SDK offers no way to
    remove one processor).
    """

    _processor: Any = None

    def instrumentation_dependencies(self) -> Collection[str]:
        from opentelemetry_instrumentation_llm.frameworks import openai_agents

        return (openai_agents.REQUIREMENT,)

    def _instrument(self, **kwargs: Any) -> None:
        self._active = True
        wrapt.register_post_import_hook(lambda _module: self._add_processor(kwargs), "agents")

    def _add_processor(self, kwargs: dict[str, Any]) -> None:
        if not self._active:
            return
        try:
            from agents.tracing import add_trace_processor

            from opentelemetry_instrumentation_llm._core.recorder import Recorder
            from opentelemetry_instrumentation_llm.frameworks import openai_agents

            content = content_settings(kwargs)
            inference = Recorder(
                openai_agents.FALLBACK_SPEC,
                tracer_provider=kwargs.get("tracer_provider"),
                meter_provider=kwargs.get("meter_provider"),
                logger_provider=kwargs.get("logger_provider"),
                content=content,
            )
            processor = openai_agents.AgentsTraceProcessor(
                operation_recorder("opentelemetry_instrumentation_llm.openai_agents", kwargs), inference
            )
            add_trace_processor(processor)
            type(self)._processor = processor
        except Exception:
            _logger.warning("OpenAIAgentsInstrumentor could not instrument the Agents SDK", exc_info=True)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._active = False
        if type(self)._processor is not None:
            type(self)._processor.enabled = False
            type(self)._processor = None


FRAMEWORKS: dict[str, tuple[str, type[BaseInstrumentor]]] = {
    "openai_agents": ("agents", OpenAIAgentsInstrumentor),
    "mcp": ("mcp", MCPInstrumentor),
}


def instrument_frameworks(**kwargs: Any) -> list[str]:
    """Instrument every supported framework that is installed, and configure the hand-written-loop
    API with the same providers; returns the frameworks now instrumented."""
    agents.configure(
        tracer_provider=kwargs.get("tracer_provider"),
        meter_provider=kwargs.get("meter_provider"),
        content=content_settings(kwargs),
    )
    done = []
    for name, (module, instrumentor_type) in FRAMEWORKS.items():
        if importlib.util.find_spec(module) is None:
            continue
        if instrument_once(instrumentor_type, kwargs):
            done.append(name)
    return done


def uninstrument_frameworks() -> None:
    for _, instrumentor_type in FRAMEWORKS.values():
        instrumentor = instrumentor_type()
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
