"""LangChain and LangGraph (``langchain-core`` callbacks) as operation records.

Every LangChain run reports to the callback handlers of its callback manager; langchain-core lets
a package add one handler to every manager it configures (``register_configure_hook``, the hook
LangSmith's own tracer uses). :class:`LangChainCallbackHandler` is that handler. It needs only
``langchain-core`` (and ``langgraph`` for graphs); the ``langchain`` meta-package is optional.

=============================  ================================================================
LangChain run                  what we record
=============================  ================================================================
agent graph                    ``invoke_agent {name}``: graphs built by ``langchain.agents.
                               create_agent``, LangGraph's ``create_react_agent`` (marked when
                               built, see :func:`mark_agent`), and ``AgentExecutor``
root chain or graph            ``invoke_workflow {run name}`` (a LangGraph graph's name)
tool                           ``execute_tool {tool name}`` (``gen_ai.tool.type=function``)
retriever                      ``retrieval {retriever name}``; query and documents only under
                               content capture
chat model / LLM               nothing when the SDK under it is instrumented by us (ChatOpenAI over
                               ``openai``, ChatAnthropic over ``anthropic``): its inference span is
                               the one span of the call; otherwise an inference span from what the
                               callback reports (model, usage, finish reasons)
nodes, inner chains, prompts   no span (the conventions define none); their children nest under
                               the closest recorded run
=============================  ================================================================

Parents come from LangChain's own run tree (``parent_run_id``), so a run that hops threads or
asyncio tasks (LangGraph runs nodes in pools and tasks) stays in its trace. Calls LangChain does
not see (an SDK called inside a node or a tool) must nest too, so each run's context is made
current where its body runs:

* chains, graphs, nodes and tools run their body in a copy of the context that langchain-core (or
  LangGraph) makes for it and fills in ``_set_config_context``; :meth:`LangChainCallbackHandler.
  enter_child_context`, called there, makes the run's context current in that copy, which is
  dropped when the body ends (nothing to detach, so nothing can leak into the caller even when the
  run's end is reported from another task, as LangGraph's async loop does);
* chat models, LLMs and retrievers call their SDK in the frame that reported the start, so their
  context is attached at start and detached at the end, only in the context it was attached to.

The handler never raises into LangChain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry.context import Context

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.guard import report
from opentelemetry_instrumentation_llm._core.operations import (
    Operation,
    OperationInfo,
    OperationKind,
    OperationRecorder,
)
from opentelemetry_instrumentation_llm._core.recorder import Invocation, Recorder
from opentelemetry_instrumentation_llm._core.records import RequestInfo, ResponseInfo, Usage
from opentelemetry_instrumentation_llm._core.spec import ProviderSpec, ResultKind
from opentelemetry_instrumentation_llm.frameworks._common import detach_if_current, start_inference, wrapped_by_us

FALLBACK_SPEC = ProviderSpec(sdk="langchain", endpoints=(), classify=lambda _result: ResultKind.VALUE)

AGENT_METADATA_KEY = "gen_ai.agent.name"
"""Run metadata that marks a graph as an agent (set by :func:`mark_agent` on the graphs that
LangGraph's ``create_react_agent`` builds; ``create_agent`` marks its own graphs)."""

# LangChain model classes (the last element of their serialized id) whose calls go through an SDK
# method our core wraps: (module, class, method) checked at each call, so the answer follows
# instrument()/uninstrument().
_SDK_METHODS: dict[str, tuple[str, str, str]] = {
    "ChatOpenAI": ("openai.resources.chat.completions.completions", "Completions", "create"),
    "AzureChatOpenAI": ("openai.resources.chat.completions.completions", "Completions", "create"),
    "OpenAI": ("openai.resources.completions", "Completions", "create"),
    "ChatAnthropic": ("anthropic.resources.messages.messages", "Messages", "create"),
}

# LangGraph's control-flow exceptions (interrupts, Command to a parent graph) are not failures.
_CONTROL_FLOW = frozenset({"GraphBubbleUp", "GraphInterrupt", "ParentCommand"})


def instrumented_by_us(serialized: Any) -> bool:
    """Whether the SDK method under this LangChain model carries our core's wrapper right now."""
    ids = serialized.get("id") if isinstance(serialized, Mapping) else None
    target = _SDK_METHODS.get(ids[-1]) if ids else None
    if target is None:
        return False
    return wrapped_by_us(*target)


# Where langchain-core and LangGraph fill the context copy a run's body executes in.
CONFIG_CONTEXT_SETTERS = (
    ("langchain_core.runnables.config", "_set_config_context"),
    ("langgraph._internal._runnable", "_set_config_context"),
)


def config_context_wrapper(handler: LangChainCallbackHandler) -> Any:
    """A wrapt wrapper for the setters above: after LangChain's own work, the run's context."""

    def wrapper(wrapped: Any, _instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = wrapped(*args, **kwargs)
        try:
            config = args[0] if args else kwargs.get("config")
            if isinstance(config, Mapping):
                handler.enter_child_context(config)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into LangChain
            report("entering a LangChain run's context", exc)
        return result

    return wrapper


def mark_agent(graph: Any) -> Any:
    """Mark a compiled agent graph (``create_react_agent``'s) so its runs are agent runs."""
    try:
        from langchain_core.runnables.config import merge_configs

        name = graph.get_name()
        graph.config = merge_configs(graph.config, {"metadata": {AGENT_METADATA_KEY: name}})
    except Exception as exc:  # noqa: BLE001 - fail open: the user's graph works unmarked
        report("marking a LangGraph agent", exc)
    return graph


def agent_marker(name: str | None, metadata: Mapping[str, Any] | None) -> str | None:
    """The agent a run belongs to, from its (inherited) metadata; None outside agents."""
    if not metadata:
        return "AgentExecutor" if name == "AgentExecutor" else None
    marker = metadata.get(AGENT_METADATA_KEY)
    if marker is None and metadata.get("ls_integration") == "langchain_create_agent":
        marker = metadata.get("lc_agent_name") or ""
    if marker is None and name == "AgentExecutor":
        return name
    return marker if marker is None else str(marker)


class _Run:
    """One LangChain run: its record (None for runs without a span), the context its children
    start in, and the attach token for the context made current while it runs."""

    __slots__ = ("agent", "attached", "context", "record", "token")

    def __init__(self, record: Operation | Invocation | None, ctx: Context, agent: str | None) -> None:
        self.record = record
        self.context = ctx
        self.agent = agent
        self.attached: Context | None = None  # set for runs whose context is attached at start
        self.token: Any = None


class LangChainCallbackHandler(BaseCallbackHandler):
    """LangChain's run events, recorded through the core (one handler for every run)."""

    # Called in the run's own thread and task (not in an executor), so the context it makes
    # current is the one the run executes in.
    run_inline = True
    raise_error = False

    def __init__(self, operations: OperationRecorder, inference: Recorder) -> None:
        self._operations = operations
        self._inference = inference
        self._runs: dict[UUID, _Run] = {}
        self.enabled = True

    # ------------------------------------------------------------------ run starts

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        try:
            name = kwargs.get("name") or _serialized_name(serialized)
            parent = self._parent(parent_run_id)
            agent = agent_marker(name, metadata)
            info = None
            if agent is not None and (parent is None or parent.agent != agent):
                info = OperationInfo(OperationKind.AGENT, agent or name)
            elif parent is None:
                info = OperationInfo(OperationKind.WORKFLOW, name)
            self._start_operation(run_id, parent, info, agent)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into LangChain
            report("starting a LangChain chain run", exc)

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        try:
            parent = self._parent(parent_run_id)
            name = kwargs.get("name") or _serialized_name(serialized)
            attrs: dict[str, Any] = {sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION}
            if kwargs.get("tool_call_id"):
                attrs[sc.GEN_AI_TOOL_CALL_ID] = str(kwargs["tool_call_id"])
            description = serialized.get("description") if isinstance(serialized, Mapping) else None
            if description:
                attrs[sc.GEN_AI_TOOL_DESCRIPTION] = str(description)
            operation = self._start_operation(
                run_id, parent, OperationInfo(OperationKind.TOOL, name, attrs), parent.agent if parent else None
            )
            if operation is not None and operation.captures_content:
                arguments = kwargs.get("inputs")
                operation.record_content(sc.GEN_AI_TOOL_CALL_ARGUMENTS, arguments if arguments else input_str)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into LangChain
            report("starting a LangChain tool run", exc)

    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        try:
            parent = self._parent(parent_run_id)
            metadata = kwargs.get("metadata") or {}
            # The vector store behind a VectorStoreRetriever names the data source; else the retriever.
            source = metadata.get("ls_vector_store_provider") or kwargs.get("name") or _serialized_name(serialized)
            info = OperationInfo(OperationKind.RETRIEVAL, source)
            operation = self._start_operation(run_id, parent, info, parent.agent if parent else None, attach=True)
            if operation is not None:
                operation.record_content(sc.GEN_AI_RETRIEVAL_QUERY_TEXT, query)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into LangChain
            report("starting a LangChain retriever run", exc)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._model_start(serialized, run_id, parent_run_id, sc.OP_CHAT, kwargs)

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._model_start(serialized, run_id, parent_run_id, sc.OP_TEXT_COMPLETION, kwargs)

    def _model_start(
        self,
        serialized: Any,
        run_id: UUID,
        parent_run_id: UUID | None,
        operation: str,
        kwargs: dict[str, Any],
    ) -> None:
        if not self.enabled:
            return
        try:
            parent = self._parent(parent_run_id)
            parent_ctx = parent.context if parent is not None else otel_context.get_current()
            agent = parent.agent if parent else None
            if instrumented_by_us(serialized):
                self._track(run_id, _Run(None, parent_ctx, agent), attach=True)  # the SDK's span is the call's
                return
            request = _model_request(operation, kwargs)
            invocation = start_inference(self._inference, request, parent_ctx)
            self._track(run_id, _Run(invocation, invocation.context, agent), attach=True)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into LangChain
            report("starting a LangChain model run", exc)

    # ------------------------------------------------------------------ run ends

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is not None and isinstance(run.record, Operation) and run.record.captures_content:
            run.record.record_content(sc.GEN_AI_TOOL_CALL_RESULT, str(getattr(output, "content", output)))
        self._end(run_id, None)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is not None and isinstance(run.record, Operation) and run.record.captures_content:
            run.record.record_content(sc.GEN_AI_RETRIEVAL_DOCUMENTS, _documents(documents))
        self._end(run_id, None)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None, response)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    # ------------------------------------------------------------------ bookkeeping

    def _parent(self, parent_run_id: UUID | None) -> _Run | None:
        return self._runs.get(parent_run_id) if parent_run_id is not None else None

    def enter_child_context(self, config: Mapping[str, Any]) -> None:
        """Make the run's context current in the context copy LangChain runs its body in (called
        inside that copy; never detached: the copy ends with the body)."""
        if not self.enabled:
            return
        parent_run_id = getattr(config.get("callbacks"), "parent_run_id", None)
        run = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if run is not None:
            otel_context.attach(run.context)

    def _start_operation(
        self, run_id: UUID, parent: _Run | None, info: OperationInfo | None, agent: str | None, attach: bool = False
    ) -> Operation | None:
        parent_ctx = parent.context if parent is not None else otel_context.get_current()
        operation = self._operations.start(info, parent=parent_ctx) if info is not None else None
        self._track(run_id, _Run(operation, operation.context if operation else parent_ctx, agent), attach)
        return operation

    def _track(self, run_id: UUID, run: _Run, attach: bool = False) -> None:
        if attach:
            run.attached = run.context
            run.token = otel_context.attach(run.context)
        self._runs[run_id] = run

    def _end(self, run_id: UUID, error: BaseException | None, response: Any = None) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        try:
            detach_if_current(run.attached, run.token)
            if error is not None and _not_a_failure(error):
                error = None
            record = run.record
            if isinstance(record, Invocation):
                if error is not None:
                    record.fail(error)
                else:
                    record.finish(model_response(response))
            elif record is not None:
                record.finish(error)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into LangChain
            report("ending a LangChain run", exc)


def _not_a_failure(error: BaseException) -> bool:
    if isinstance(error, GeneratorExit):  # the consumer closed a stream early
        return True
    return any(cls.__name__ in _CONTROL_FLOW for cls in type(error).__mro__)


def _serialized_name(serialized: Any) -> str | None:
    if not isinstance(serialized, Mapping):
        return None
    if serialized.get("name"):
        return str(serialized["name"])
    ids = serialized.get("id")
    return str(ids[-1]) if ids else None


def _model_request(operation: str, kwargs: Mapping[str, Any]) -> RequestInfo:
    metadata = kwargs.get("metadata") or {}
    params = kwargs.get("invocation_params") or {}
    model = metadata.get("ls_model_name") or params.get("model") or params.get("model_name")
    provider = metadata.get("ls_provider") or "_OTHER"
    return RequestInfo(operation=operation, provider=str(provider), model=str(model) if model else None)


def _usage(message: Any, llm_output: Mapping[str, Any]) -> Usage | None:
    metadata = getattr(message, "usage_metadata", None)
    if metadata:
        details = metadata.get("input_token_details") or {}
        return Usage(
            input_tokens=metadata.get("input_tokens"),
            output_tokens=metadata.get("output_tokens"),
            cache_read_tokens=details.get("cache_read"),
        )
    usage = llm_output.get("token_usage") or llm_output.get("usage")
    if isinstance(usage, Mapping):
        return Usage(
            input_tokens=usage.get("prompt_tokens", usage.get("input_tokens")),
            output_tokens=usage.get("completion_tokens", usage.get("output_tokens")),
        )
    return None


def model_response(result: Any) -> ResponseInfo | None:
    """What a LangChain ``LLMResult`` tells about the call: model, id, usage, finish reasons."""
    generations = getattr(result, "generations", None)
    if not generations:
        return None
    llm_output = getattr(result, "llm_output", None) or {}
    first = generations[0][0] if generations[0] else None
    message = getattr(first, "message", None)
    metadata = getattr(message, "response_metadata", None) or {}
    reasons = [reason for batch in generations for generation in batch if (reason := _finish_reason(generation))]
    return ResponseInfo(
        response_id=llm_output.get("id") or metadata.get("id"),
        response_model=llm_output.get("model_name") or metadata.get("model_name"),
        finish_reasons=reasons or None,
        usage=_usage(message, llm_output),
    )


def _finish_reason(generation: Any) -> str | None:
    """From the generation's info, else from its message's metadata (chat models put it there)."""
    info = getattr(generation, "generation_info", None) or {}
    metadata = getattr(getattr(generation, "message", None), "response_metadata", None) or {}
    reason = info.get("finish_reason") or metadata.get("finish_reason") or metadata.get("stop_reason")
    return str(reason) if reason else None


def _documents(documents: Sequence[Any]) -> list[dict[str, Any]]:
    """Retrieved documents in the conventions' shape (id, content), for opt-in capture."""
    found = []
    for document in documents:
        entry: dict[str, Any] = {"content": getattr(document, "page_content", str(document))}
        if getattr(document, "id", None):
            entry["id"] = document.id
        found.append(entry)
    return found
