"""Instrumentors for agent frameworks: the OpenAI Agents SDK, MCP, LangChain/LangGraph and LlamaIndex.

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
import sys
from collections.abc import Collection
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from opentelemetry_instrumentation_llm import agents
from opentelemetry_instrumentation_llm._core.operations import OperationRecorder
from opentelemetry_instrumentation_llm._core.recorder import Recorder
from opentelemetry_instrumentation_llm._core.settings import ContentCapture
from opentelemetry_instrumentation_llm._core.spec import ProviderSpec
from opentelemetry_instrumentation_llm.config import ContentSettings
from opentelemetry_instrumentation_llm.patching import PatchingInstrumentor as _PatchingInstrumentor, instrument_once

_logger = logging.getLogger(__name__)

# Kept here, not in the adapters: those import their framework at module level, and
# ``instrumentation_dependencies()`` runs at instrument time, when the application may not have
# imported (or may never import) the framework. Instrumenting must not import it.
REQUIREMENTS = {
    "openai_agents": "openai-agents >= 0.20",
    "mcp": "mcp >= 1.9",
    "langchain": "langchain-core >= 1.0",
    "llama_index": "llama-index-core >= 0.12",
}


def content_settings(kwargs: dict[str, Any]) -> ContentSettings:
    """``content`` (resolved by ``instrument()``), else content capture from the environment,
    overridable by ``capture_content=`` (bool, ContentCapture or its name) and ``emit_event=``."""
    content = kwargs.get("content")
    if isinstance(content, ContentSettings):
        return content
    override = kwargs.get("capture_content")
    if override is None:
        return ContentSettings.from_env()
    if isinstance(override, bool):
        capture = ContentCapture.SPAN_AND_EVENT if override else ContentCapture.NO_CONTENT
    elif isinstance(override, ContentCapture):
        capture = override
    else:
        try:
            capture = ContentCapture[str(override).strip().upper()]
        except KeyError:
            raise ValueError(
                f"capture_content={override!r}: accepted values are True, False, or one of "
                + ", ".join(m.name for m in ContentCapture)
            ) from None
    emit = kwargs.get("emit_event")
    return ContentSettings(capture=capture, emit_event=capture.on_event if emit is None else bool(emit))


def _pipeline(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The providers and content settings every recorder of ours takes, from ``instrument()``'s kwargs."""
    return {
        "tracer_provider": kwargs.get("tracer_provider"),
        "meter_provider": kwargs.get("meter_provider"),
        "logger_provider": kwargs.get("logger_provider"),
        "content": content_settings(kwargs),
    }


def fallback_inference_recorder(spec: ProviderSpec, kwargs: dict[str, Any]) -> Recorder:
    """Inference spans a framework adapter opens itself, for model calls no SDK instrumentor of ours
    records. No pricing: a model we do not instrument is priced by nobody."""
    return Recorder(spec, **_pipeline(kwargs))


def operation_recorder(scope: str, kwargs: dict[str, Any]) -> OperationRecorder:
    return OperationRecorder(scope, **_pipeline(kwargs))


class MCPInstrumentor(_PatchingInstrumentor):
    """Instruments ``mcp`` 1.x and 2.x: client requests (CLIENT) and server handling (SERVER) as the
    MCP conventions' spans, ``tools/call`` also as ``execute_tool``, trace context in
    ``params._meta``. On 2.x the SDK's own spans are replaced by ours (its propagation is kept); on
    1.x, which traces nothing, its session and server are wrapped. Each line is patched through
    modules only it has, so the installed one picks its path."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return (REQUIREMENTS["mcp"],)

    def _instrument(self, **kwargs: Any) -> None:
        from opentelemetry_instrumentation_llm.frameworks import mcp, mcp_v1

        self._patched = []
        self._active = True
        recorder = operation_recorder("opentelemetry_instrumentation_llm.mcp", kwargs)
        wrapper = mcp.span_factory_wrapper(recorder)
        for module, target in mcp.SPAN_FACTORIES:
            self._patch_on_import(module, target, wrapper)
        self._patch_on_import(*mcp.RESULT_SOURCE, mcp.result_wrapper)
        wrapt.register_post_import_hook(lambda _module: self._patch_v1(recorder), mcp_v1.SESSION_MODULE)

    def _patch_v1(self, recorder: OperationRecorder) -> None:
        from opentelemetry_instrumentation_llm.frameworks import mcp_v1

        for module, target, make_wrapper in mcp_v1.PATCHES:
            self._patch_on_import(module, target, make_wrapper(recorder))


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
        return (REQUIREMENTS["openai_agents"],)

    def _instrument(self, **kwargs: Any) -> None:
        self._active = True
        wrapt.register_post_import_hook(lambda _module: self._add_processor(kwargs), "agents")

    def _add_processor(self, kwargs: dict[str, Any]) -> None:
        if not self._active:
            return
        try:
            from agents.tracing import add_trace_processor

            from opentelemetry_instrumentation_llm.frameworks import openai_agents

            inference = fallback_inference_recorder(openai_agents.FALLBACK_SPEC, kwargs)
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


class LangChainInstrumentor(_PatchingInstrumentor):
    """Instruments LangChain and LangGraph through langchain-core's callbacks: one handler added
    to every run (``register_configure_hook``), mapping graphs and root chains to workflows,
    agents to ``invoke_agent``, tools to ``execute_tool`` and retrievers to ``retrieval``; model
    calls once (ours from the SDK's instrumentation when on, else from the callback). Needs only
    ``langchain-core``; applied when it is imported.

    ``uninstrument()`` removes the hook and makes the handler inert.
    """

    _handler: Any = None
    _hook: Any = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return (REQUIREMENTS["langchain"],)

    def _instrument(self, **kwargs: Any) -> None:
        self._active = True
        self._patched = []
        wrapt.register_post_import_hook(lambda _module: self._add_handler(kwargs), "langchain_core")
        wrapt.register_post_import_hook(self._patch_agent_factory, "langgraph.prebuilt.chat_agent_executor")

    def _add_handler(self, kwargs: dict[str, Any]) -> None:
        if not self._active or type(self)._hook is not None:
            return
        try:
            from contextvars import ContextVar

            from langchain_core.tracers.context import register_configure_hook

            from opentelemetry_instrumentation_llm.frameworks import langchain

            inference = fallback_inference_recorder(langchain.FALLBACK_SPEC, kwargs)
            handler = langchain.LangChainCallbackHandler(
                operation_recorder("opentelemetry_instrumentation_llm.langchain", kwargs), inference
            )
            # A context variable whose default is our handler: every callback manager langchain-core
            # configures gets it (inheritable), in every thread and task.
            hook: ContextVar[Any] = ContextVar("opentelemetry_instrumentation_llm_langchain", default=handler)
            register_configure_hook(hook, True)
            type(self)._handler, type(self)._hook = handler, hook
            for module, target in langchain.CONFIG_CONTEXT_SETTERS:
                self._patch_on_import(module, target, langchain.config_context_wrapper(handler))
        except Exception:
            _logger.warning("LangChainInstrumentor could not instrument langchain-core", exc_info=True)

    def _patch_agent_factory(self, module: Any) -> None:
        if not self._active:
            return
        from opentelemetry_instrumentation_llm.frameworks import langchain

        def mark(wrapped: Any, _instance: Any, args: Any, kw: Any) -> Any:
            return langchain.mark_agent(wrapped(*args, **kw))

        try:
            wrapt.wrap_function_wrapper(module, "create_react_agent", mark)
            prebuilt: Any = sys.modules.get("langgraph.prebuilt")
            if prebuilt is not None and hasattr(prebuilt, "create_react_agent"):
                prebuilt.create_react_agent = module.create_react_agent  # the name users import
        except (AttributeError, ImportError) as exc:
            _logger.debug("LangChainInstrumentor: create_react_agent not marked (%s)", exc)

    def _uninstrument(self, **kwargs: Any) -> None:
        super()._uninstrument(**kwargs)
        cls = type(self)
        if cls._handler is not None:
            cls._handler.enabled = False
        try:
            from langchain_core.tracers import context as lc_context

            lc_context._configure_hooks[:] = [h for h in lc_context._configure_hooks if h[0] is not cls._hook]
        except Exception:  # the handler is inert anyway
            _logger.debug("LangChainInstrumentor: configure hook not removed", exc_info=True)
        factory: Any = getattr(sys.modules.get("langgraph.prebuilt.chat_agent_executor"), "create_react_agent", None)
        if hasattr(factory, "_self_wrapper"):
            original = factory.__wrapped__
            for name in ("langgraph.prebuilt.chat_agent_executor", "langgraph.prebuilt"):
                owner: Any = sys.modules.get(name)
                if getattr(owner, "create_react_agent", None) is factory:
                    owner.create_react_agent = original
        cls._handler = cls._hook = None


class LlamaIndexInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments LlamaIndex through its instrumentation dispatcher: one span handler on the root
    dispatcher maps agents, workflows and query/chat engines, tools, retrievers and embeddings to
    operations; model calls once (ours from the SDK's instrumentation when on, else from the
    LlamaIndex span). Applied when ``llama_index.core`` is imported.
    """

    _handler: Any = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return (REQUIREMENTS["llama_index"],)

    def _instrument(self, **kwargs: Any) -> None:
        self._active = True
        wrapt.register_post_import_hook(lambda _module: self._add_handler(kwargs), "llama_index.core")

    def _add_handler(self, kwargs: dict[str, Any]) -> None:
        if not self._active or type(self)._handler is not None:
            return
        try:
            from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]

            from opentelemetry_instrumentation_llm.frameworks import llama_index

            inference = fallback_inference_recorder(llama_index.FALLBACK_SPEC, kwargs)
            handler = llama_index.LlamaIndexSpanHandler(
                operation_recorder("opentelemetry_instrumentation_llm.llama_index", kwargs), inference
            )
            get_dispatcher().add_span_handler(handler)
            type(self)._handler = handler
        except Exception:
            _logger.warning("LlamaIndexInstrumentor could not instrument llama-index-core", exc_info=True)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._active = False
        handler, type(self)._handler = type(self)._handler, None
        if handler is None:
            return
        handler.enabled = False
        try:
            from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]

            dispatcher = get_dispatcher()
            dispatcher.span_handlers = [h for h in dispatcher.span_handlers if h is not handler]
        except Exception:  # the handler is inert anyway
            _logger.debug("LlamaIndexInstrumentor: span handler not removed", exc_info=True)


FRAMEWORKS: dict[str, tuple[str, type[BaseInstrumentor]]] = {
    "openai_agents": ("agents", OpenAIAgentsInstrumentor),
    "mcp": ("mcp", MCPInstrumentor),
    "langchain": ("langchain_core", LangChainInstrumentor),
    "llama_index": ("llama_index.core", LlamaIndexInstrumentor),
}


def instrument_frameworks(**kwargs: Any) -> list[str]:
    """Instrument every supported framework that is installed, and configure the hand-written-loop
    API with the same providers; returns the frameworks now instrumented."""
    agents.configure(**_pipeline(kwargs))
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
