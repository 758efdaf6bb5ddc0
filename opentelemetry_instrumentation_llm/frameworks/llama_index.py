"""LlamaIndex (``llama-index-core``) spans as operation records.

LlamaIndex reports every instrumented method call (``DispatcherSpanMixin`` classes, workflow
steps) to the span handlers of its root dispatcher, its supported extension point;
:class:`LlamaIndexSpanHandler` is one. It maps, by the instance and the method:

=================================  ==============================================================
LlamaIndex span                    what we record
=================================  ==============================================================
agent ``run`` (``FunctionAgent``,  ``invoke_agent {agent name}``
``ReActAgent``, ...)
``AgentWorkflow.run``, any other   ``invoke_workflow {class name}``
workflow's ``run``, query engine
``query``, chat engine ``chat``
tool ``call`` / ``acall``          ``execute_tool {tool name}``
retriever ``retrieve``             ``retrieval {vector store class}`` with ``gen_ai.retrieval.top_k``
embedding ``get_*_embedding*``     nothing when the SDK under it is instrumented by us
                                   (``OpenAIEmbedding`` over ``openai``), else an ``embeddings``
                                   span from the call
LLM ``chat`` / ``complete`` (and   nothing when the SDK under it is instrumented by us, else an
their async forms)                 inference span from the call (model, usage of the response)
everything else                    no span; children nest under the closest recorded span
=================================  ==============================================================

Parents come from the dispatcher's own span tree (``parent_span_id``), which LlamaIndex carries
across workflow steps and tasks; each span's context is also current while the method runs (it is
attached on entry and detached on exit, in the same frame), so SDK calls inside nest under it.
Streaming LLM methods return a generator before the model is called: they get no span of their
own here (an instrumented SDK's span covers the call).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from pydantic import PrivateAttr

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

FALLBACK_SPEC = ProviderSpec(sdk="llama_index", endpoints=(), classify=lambda _result: ResultKind.VALUE)

# LlamaIndex integration modules whose calls go through an SDK method our core wraps.
_SDK_METHODS: dict[str, tuple[str, str, str]] = {
    "llama_index.llms.openai": ("openai.resources.chat.completions.completions", "Completions", "create"),
    "llama_index.llms.anthropic": ("anthropic.resources.messages.messages", "Messages", "create"),
    "llama_index.embeddings.openai": ("openai.resources.embeddings", "Embeddings", "create"),
}
_LLM_METHODS = frozenset({"chat", "achat", "complete", "acomplete"})
_EMBEDDING_METHODS = frozenset(
    {"get_query_embedding", "aget_query_embedding", "get_text_embedding", "aget_text_embedding",
     "get_text_embedding_batch", "aget_text_embedding_batch"}
)  # fmt: skip
_ENGINE_METHODS = frozenset({"query", "aquery", "chat", "achat", "stream_chat", "astream_chat"})
_TOOL_METHODS = frozenset({"call", "acall"})
_RETRIEVER_METHODS = frozenset({"retrieve", "aretrieve"})
_RUN_PREFIXES = ("run-",)
_INTERESTING = _LLM_METHODS | _EMBEDDING_METHODS | _ENGINE_METHODS | _TOOL_METHODS | _RETRIEVER_METHODS | {"run"}


def instrumented_by_us(instance: Any) -> bool:
    """Whether the SDK method under this LlamaIndex LLM or embedding carries our core's wrapper."""
    module_name = type(instance).__module__
    for prefix, target in _SDK_METHODS.items():
        if module_name.startswith(prefix):
            return wrapped_by_us(*target)
    return False


class _Run:
    __slots__ = ("attached", "context", "inference", "record", "token")

    def __init__(self, record: Operation | Invocation | None, ctx: Context, inference: bool) -> None:
        self.record = record
        self.context = ctx
        self.inference = inference  # a model call (ours or the SDK's): nested model spans are part of it
        self.attached: Context | None = ctx
        self.token: Any = None


def _kinds() -> dict[str, type]:
    """LlamaIndex's base classes, imported on first use (llama-index-core is imported by then)."""
    from llama_index.core.base.base_query_engine import BaseQueryEngine
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.base.llms.base import BaseLLM
    from llama_index.core.chat_engine.types import BaseChatEngine
    from llama_index.core.tools.types import BaseTool

    kinds: dict[str, type] = {"engine": BaseQueryEngine, "chat_engine": BaseChatEngine, "retriever": BaseRetriever,
                              "embedding": BaseEmbedding, "llm": BaseLLM, "tool": BaseTool}  # fmt: skip
    try:
        from llama_index.core.agent.workflow.base_agent import BaseWorkflowAgent
        from workflows import Workflow

        kinds["agent"], kinds["workflow"] = BaseWorkflowAgent, Workflow
    except ImportError:  # older llama-index-core: no workflow agents
        pass
    return kinds


class LlamaIndexSpanHandler(BaseSpanHandler[Any]):  # type: ignore[misc]
    """LlamaIndex's dispatcher spans, recorded through the core (added to the root dispatcher)."""

    _operations: Any = PrivateAttr()
    _inference: Any = PrivateAttr()
    _runs: dict[str, _Run] = PrivateAttr(default_factory=dict)
    _kinds: dict[str, type] = PrivateAttr(default_factory=dict)
    enabled: bool = True

    def __init__(self, operations: OperationRecorder, inference: Recorder) -> None:
        super().__init__()
        self._operations = operations
        self._inference = inference
        self._runs = {}
        self._kinds = {}

    @classmethod
    def class_name(cls) -> str:
        return "OpenTelemetryLLMSpanHandler"

    # The dispatcher calls span_enter / span_exit / span_drop; we keep our own table of runs.
    def span_enter(self, id_: str, bound_args: inspect.BoundArguments, instance: Any = None,
                   parent_id: str | None = None, tags: Any = None, **kwargs: Any) -> None:  # fmt: skip
        if not self.enabled:
            return
        try:
            parent = self._runs.get(parent_id) if parent_id is not None else None
            parent_ctx = parent.context if parent is not None else otel_context.get_current()
            run = self._start(id_, bound_args, instance, parent, parent_ctx)
            if not id_.startswith(_RUN_PREFIXES, id_.find(".") + 1):
                run.token = otel_context.attach(run.context)
            else:  # a workflow's run() returns a handler at once and ends in a callback: nothing to
                run.attached = None  # attach; its steps (spans of their own) carry its context
            self._runs[id_] = run
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into LlamaIndex
            report("starting a LlamaIndex span", exc)

    def span_exit(self, id_: str, bound_args: inspect.BoundArguments, instance: Any = None,
                  result: Any = None, **kwargs: Any) -> None:  # fmt: skip
        self._end(id_, None, result)

    def span_drop(self, id_: str, bound_args: inspect.BoundArguments, instance: Any = None,
                  err: BaseException | None = None, **kwargs: Any) -> None:  # fmt: skip
        self._end(id_, err, None)

    # Abstract in BaseSpanHandler; unused since the three methods above are overridden.
    def new_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    # ------------------------------------------------------------------ mapping

    def _start(self, id_: str, bound_args: Any, instance: Any, parent: _Run | None, parent_ctx: Context) -> _Run:
        method = id_.partition("-")[0].rpartition(".")[2]
        if instance is None or method not in _INTERESTING:
            return _Run(None, parent_ctx, parent.inference if parent else False)
        kinds = self._kinds or self._load_kinds()
        in_model_call = parent is not None and parent.inference
        if method in _LLM_METHODS and isinstance(instance, kinds["llm"]):
            return self._model_run(instance, sc.OP_CHAT if "chat" in method else sc.OP_TEXT_COMPLETION,
                                   parent_ctx, in_model_call)  # fmt: skip
        if method in _EMBEDDING_METHODS and isinstance(instance, kinds["embedding"]):
            return self._model_run(instance, sc.OP_EMBEDDINGS, parent_ctx, in_model_call)
        info = self._operation_info(method, instance, kinds)
        if info is None:
            return _Run(None, parent_ctx, in_model_call)
        operation = self._operations.start(info, parent=parent_ctx)
        if operation is None:
            return _Run(None, parent_ctx, in_model_call)
        if info.kind is OperationKind.RETRIEVAL:
            operation.record_content(sc.GEN_AI_RETRIEVAL_QUERY_TEXT, _query_text(bound_args))
        elif info.kind is OperationKind.TOOL and operation.captures_content:
            operation.record_content(sc.GEN_AI_TOOL_CALL_ARGUMENTS, dict(bound_args.arguments.get("kwargs") or {}))
        return _Run(operation, operation.context, False)

    def _load_kinds(self) -> dict[str, type]:
        self._kinds = _kinds()
        return self._kinds

    def _operation_info(self, method: str, instance: Any, kinds: dict[str, type]) -> OperationInfo | None:
        name = type(instance).__name__
        if method == "run":
            agent = kinds.get("agent")
            if agent is not None and isinstance(instance, agent):
                return OperationInfo(OperationKind.AGENT, getattr(instance, "name", None) or name)
            workflow = kinds.get("workflow")
            return OperationInfo(OperationKind.WORKFLOW, name) if workflow and isinstance(instance, workflow) else None
        if method in _ENGINE_METHODS and isinstance(instance, (kinds["engine"], kinds["chat_engine"])):
            return OperationInfo(OperationKind.WORKFLOW, name)
        if method in _TOOL_METHODS and isinstance(instance, kinds["tool"]):
            metadata: Any = getattr(instance, "metadata", None)
            attrs: dict[str, Any] = {sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION}
            if getattr(metadata, "description", None):
                attrs[sc.GEN_AI_TOOL_DESCRIPTION] = str(metadata.description)
            return OperationInfo(OperationKind.TOOL, getattr(metadata, "name", None) or name, attrs)
        if method in _RETRIEVER_METHODS and isinstance(instance, kinds["retriever"]):
            store = getattr(instance, "_vector_store", None)
            top_k = getattr(instance, "_similarity_top_k", None)
            attrs = {sc.GEN_AI_RETRIEVAL_TOP_K: top_k} if isinstance(top_k, int) else {}
            return OperationInfo(OperationKind.RETRIEVAL, type(store).__name__ if store is not None else name, attrs)
        return None

    def _model_run(self, instance: Any, operation: str, parent_ctx: Context, in_model_call: bool) -> _Run:
        if in_model_call or instrumented_by_us(instance):
            return _Run(None, parent_ctx, True)  # one span per call: the SDK's (ours), or the outer one
        request = _model_request(instance, operation)
        invocation = start_inference(self._inference, request, parent_ctx)
        return _Run(invocation, invocation.context, True)

    # ------------------------------------------------------------------ ending

    def _end(self, id_: str, error: BaseException | None, result: Any) -> None:
        run = self._runs.pop(id_, None)
        if run is None:
            return
        try:
            detach_if_current(run.attached, run.token)
            record = run.record
            if record is None:
                return
            if isinstance(record, Invocation):
                if error is not None:
                    record.fail(error)
                else:
                    record.finish(model_response(result))
                return
            if error is None and record.captures_content:
                _record_result(record, result)
            record.finish(error)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into LlamaIndex
            report("ending a LlamaIndex span", exc)


def _record_result(operation: Operation, result: Any) -> None:
    kind = operation.info.kind
    if kind is OperationKind.RETRIEVAL and isinstance(result, list):
        documents = []
        for scored in result:
            node = getattr(scored, "node", scored)
            entry: dict[str, Any] = {"id": getattr(node, "node_id", None)}
            get_content = getattr(node, "get_content", None)
            entry["content"] = get_content() if callable(get_content) else str(node)
            if getattr(scored, "score", None) is not None:
                entry["score"] = scored.score
            documents.append(entry)
        operation.record_content(sc.GEN_AI_RETRIEVAL_DOCUMENTS, documents)
    elif kind is OperationKind.TOOL and result is not None:
        operation.record_content(sc.GEN_AI_TOOL_CALL_RESULT, str(getattr(result, "content", result)))


def _query_text(bound_args: Any) -> str:
    arguments = getattr(bound_args, "arguments", {})
    query = arguments.get("str_or_query_bundle", arguments.get("query"))
    return str(getattr(query, "query_str", query))


def _model_request(instance: Any, operation: str) -> RequestInfo:
    model = getattr(instance, "model_name", None) or getattr(instance, "model", None)
    if model is None:
        metadata = getattr(instance, "metadata", None)
        model = getattr(metadata, "model_name", None)
    module = type(instance).__module__.split(".")
    # llama_index.llms.<provider> / llama_index.embeddings.<provider>: the integration names it.
    provider = module[2] if len(module) > 2 and module[0] == "llama_index" and module[1] != "core" else "_OTHER"
    # BaseEmbedding's model_name defaults to "unknown": no model named, not a model called "unknown".
    named = str(model) if model and model != "unknown" else None
    return RequestInfo(operation=operation, provider=provider, model=named)


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def model_response(result: Any) -> ResponseInfo | None:
    """What a LlamaIndex ChatResponse / CompletionResponse tells: the provider's raw response
    (model, id, usage, finish reason) or the usage the integration put in ``additional_kwargs``."""
    if result is None or isinstance(result, list):  # embeddings: vectors, nothing more to say
        return None
    raw = getattr(result, "raw", None)
    extra = getattr(result, "additional_kwargs", None) or {}
    usage = _field(raw, "usage") if raw is not None else None
    tokens = usage if usage is not None else extra
    input_tokens = _field(tokens, "prompt_tokens") or _field(tokens, "input_tokens")
    output_tokens = _field(tokens, "completion_tokens") or _field(tokens, "output_tokens")
    choices = _field(raw, "choices") if raw is not None else None
    finish = _field(choices[0], "finish_reason") if choices else (_field(raw, "stop_reason") if raw else None)
    return ResponseInfo(
        response_id=_field(raw, "id") if raw is not None else None,
        response_model=_field(raw, "model") if raw is not None else None,
        finish_reasons=[str(finish)] if finish else None,
        usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        if input_tokens is not None or output_tokens is not None
        else None,
    )
