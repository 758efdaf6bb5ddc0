"""OpenAI Agents SDK (``openai-agents``): its trace-processor events as operation records.

The SDK reports what it does to every registered ``TracingProcessor`` (its supported extension
point); :class:`AgentsTraceProcessor` is one, added beside the SDK's own (whose export to OpenAI's
backend stays as the user configured it). It maps:

=====================  ==========================================================================
SDK trace / span       what we record
=====================  ==========================================================================
trace (one run)        ``invoke_workflow {workflow name}``, the root of the run's trace
agent                  ``invoke_agent {agent name}`` (INTERNAL)
function (a tool)      ``execute_tool {tool name}`` (INTERNAL, ``gen_ai.tool.type=function``)
guardrail              ``apply_guardrail {guardrail name}`` (INTERNAL) with the draft conventions'
                       ``gen_ai.guardrail.*`` result attributes, and a ``gen_ai.guardrail.result``
                       event; a tripwire is the guardrail's result, not its error
handoff                ``handoff {target agent}`` (INTERNAL, ours: the conventions define none),
                       ``gen_ai.agent.name`` the source, ``llm.handoff.target_agent.name`` the target
generation, response   nothing when our ``openai`` instrumentation is on (its inference span is the
                       one span of the model call); otherwise an inference span from the SDK's
                       data (model, usage)
task, turn, custom     no span of their own; a failure the SDK reports on a turn (a tripped input
                       guardrail) is carried up to the agent and the workflow span
=====================  ==========================================================================

The SDK reports failures as messages; ``error.type`` is the class of the SDK exception propagating
when the span ends (``InputGuardrailTripwireTriggered``, ``MaxTurnsExceeded``, ...), else ``_OTHER``.

Each recorded operation's context is made current from the SDK's span start to its end, so model
calls and tools (and MCP requests, and anything else instrumented) inside nest under it. The
processor never raises into the SDK.

With ``OPENAI_AGENTS_DISABLE_TRACING=1`` the SDK calls no processor at all: agent, tool and
workflow spans are then absent, while model calls are still recorded by the ``openai``
instrumentation (as spans without an agent parent).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from agents.exceptions import AgentsException
from agents.tracing import Span as SdkSpan, Trace as SdkTrace, TracingProcessor
from opentelemetry import context as otel_context

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
from opentelemetry_instrumentation_llm._core.wrappers import patch_generation
from opentelemetry_instrumentation_llm.providers._common import maybe_json

FALLBACK_SPEC = ProviderSpec(sdk="openai_agents", endpoints=(), classify=lambda _result: ResultKind.VALUE)

# The openai SDK methods the Agents SDK's models call; wrapped by our core when the openai
# instrumentation is on (then the model call already has its inference span).
_MODEL_METHODS = (
    ("openai.resources.responses", "AsyncResponses", "create"),
    ("openai.resources.chat.completions", "AsyncCompletions", "create"),
)
_OUR_WRAPPERS = "opentelemetry_instrumentation_llm._core.wrappers"


_instrumented: tuple[int, bool] = (-1, False)  # (patch generation, answer) of the last check


def openai_instrumented_by_us() -> bool:
    """Whether the openai SDK's model methods carry our core's wrapper right now (asked for every
    model call of a run: answered again only after our patching changed something)."""
    global _instrumented
    generation = patch_generation()
    if _instrumented[0] == generation:
        return _instrumented[1]
    answer = all(_carries_our_wrapper(*target) for target in _MODEL_METHODS)
    _instrumented = (generation, answer)
    return answer


def _carries_our_wrapper(module_name: str, owner: str, method: str) -> bool:
    module = sys.modules.get(module_name)
    wrapper = getattr(getattr(getattr(module, owner, None), method, None), "_self_wrapper", None)
    return getattr(wrapper, "__module__", None) == _OUR_WRAPPERS


def _usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    if isinstance(usage, dict):
        return Usage(input_tokens=usage.get("input_tokens"), output_tokens=usage.get("output_tokens"))
    return Usage(input_tokens=getattr(usage, "input_tokens", None), output_tokens=getattr(usage, "output_tokens", None))


class AgentsTraceProcessor(TracingProcessor):
    """The Agents SDK's trace and span events, recorded through the core."""

    def __init__(self, operations: OperationRecorder, inference: Recorder) -> None:
        self._operations = operations
        self._inference = inference
        self._open: dict[str, tuple[Operation | Invocation, Any]] = {}
        # Failures on their way up (see _outcome): SDK span id -> error.type carried to it from a
        # child, and SDK trace id -> error.type of the run.
        self._carried: dict[str, str] = {}
        self._failed_runs: dict[str, str] = {}
        self._lock = threading.Lock()
        self.enabled = True

    # ------------------------------------------------------------------ traces (runs)

    def on_trace_start(self, trace: SdkTrace) -> None:
        if self.enabled:
            self._begin(
                trace.trace_id,
                lambda: self._operations.start(OperationInfo(OperationKind.WORKFLOW, getattr(trace, "name", None))),
            )

    def on_trace_end(self, trace: SdkTrace) -> None:
        with self._lock:
            error_type = self._failed_runs.pop(trace.trace_id, None)
        self._end(trace.trace_id, None, error_type)

    # ------------------------------------------------------------------ spans

    def on_span_start(self, span: SdkSpan[Any]) -> None:
        if not self.enabled:
            return
        data = span.span_data
        kind = data.type
        if kind in ("generation", "response"):
            if not openai_instrumented_by_us():
                model = getattr(data, "model", None)
                request = RequestInfo(operation=sc.OP_CHAT, provider=sc.PROVIDER_OPENAI, model=model)
                self._begin(span.span_id, lambda: Invocation(self._inference, request, None))
            return
        info = _operation_info(data)
        if info is not None:
            self._begin(span.span_id, lambda: self._operations.start(info))

    def on_span_end(self, span: SdkSpan[Any]) -> None:
        if not self.enabled and not self._open:
            return
        key = span.span_id
        if not span.error and not self._carried:  # no failure here or below: most spans, most runs
            if key in self._open:
                self._end(key, span, None)
            return
        try:
            error_type = self._outcome(span)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into the SDK
            report("reading an Agents SDK span's outcome", exc)
            error_type = None
        self._end(key, span, error_type)

    def shutdown(self) -> None:
        self.enabled = False

    def force_flush(self) -> None:
        pass

    # ------------------------------------------------------------------ bookkeeping

    def _begin(self, key: str, start: Any) -> None:
        try:
            record = start()
            if record is None:
                return
            token = otel_context.attach(record.context)
            with self._lock:
                self._open[key] = (record, token)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into the SDK
            report("starting an Agents SDK span", exc)

    def _outcome(self, span: SdkSpan[Any]) -> str | None:
        """The span's error.type: its own error, or one carried up from a failed child. The SDK
        reports a run's failure on the span current when it raises (a turn, for a tripped input
        guardrail), not on the agent or the trace: a turn's, agent's or task's failure is carried to
        its parent, and a root's to the run (the workflow span)."""
        own = _error_type(span)
        with self._lock:
            carried = self._carried.pop(span.span_id, None)
            error_type = own or carried
            if error_type is not None and span.span_data.type in _RUN_SPANS:
                if span.parent_id:
                    self._carried[span.parent_id] = error_type
                else:
                    self._failed_runs[span.trace_id] = error_type
        return error_type

    def _end(self, key: str, span: SdkSpan[Any] | None, error_type: str | None) -> None:
        with self._lock:
            entry = self._open.pop(key, None)
        if entry is None:
            return
        record, token = entry
        try:
            otel_context.detach(token)
            if isinstance(record, Invocation):
                record.finish(_response(span, error_type))
                return
            message = error_type
            if span is not None:
                _finish_operation(record, span, error_type)
                if span.error:
                    message = str(span.error.get("message") or error_type)
            record.finish(error_type=error_type, message=message)
        except Exception as exc:  # noqa: BLE001 - fail open: never raise into the SDK
            report("ending an Agents SDK span", exc)


# SDK spans whose failure is their parent's: a turn fails its agent, an agent its task (one
# Runner.run), a root task the whole run. A tool's failure is not carried: the SDK may hand it to the model.
_RUN_SPANS = frozenset({"turn", "agent", "task"})


def _operation_info(data: Any) -> OperationInfo | None:
    """The operation an SDK span starts, for the kinds we record (generation/response aside)."""
    kind = data.type
    if kind == "agent":
        return OperationInfo(OperationKind.AGENT, data.name)
    if kind == "function":
        return OperationInfo(OperationKind.TOOL, data.name, {sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION})
    if kind == "guardrail":
        return OperationInfo(OperationKind.GUARDRAIL, data.name)
    if kind == "handoff":
        # The target is set by the SDK once the handoff ran: named at the end.
        source = {sc.GEN_AI_AGENT_NAME: data.from_agent} if data.from_agent else None
        return OperationInfo(OperationKind.HANDOFF, None, source)
    return None


def _error_type(span: SdkSpan[Any]) -> str | None:
    """The SDK reports a failure as a message, not a type. When it ends the span while its own
    exception propagates (a tripped guardrail, max turns, a model behaviour error), that exception's
    class names it; otherwise ``_OTHER``, the conventions' fallback."""
    if not span.error:
        return None
    raised = sys.exc_info()[1]
    return type(raised).__name__ if isinstance(raised, AgentsException) else "_OTHER"


def _finish_operation(operation: Operation, span: SdkSpan[Any], error_type: str | None) -> None:
    """What the SDK span adds at its end: tool content, a guardrail's result, a handoff's target."""
    data = span.span_data
    if data.type == "function" and operation.captures_content:
        if data.input is not None:
            operation.record_content(sc.GEN_AI_TOOL_CALL_ARGUMENTS, maybe_json(data.input))  # an object, as asked
        if data.output is not None and error_type is None:
            operation.record_content(sc.GEN_AI_TOOL_CALL_RESULT, str(data.output))
    elif data.type == "guardrail":
        result = {
            sc.GEN_AI_GUARDRAIL_COMPONENT_NAME: data.name,
            sc.GEN_AI_GUARDRAIL_RESULT_TYPE: sc.GUARDRAIL_RESULT_TRIPWIRE,
            sc.GEN_AI_GUARDRAIL_RESULT_VALUE: "true" if data.triggered else "false",
        }
        operation.set_attributes(result)
        operation.emit_event(sc.EVENT_GUARDRAIL_RESULT, result)
    elif data.type == "handoff" and data.to_agent:
        operation.span.update_name(f"{sc.OP_HANDOFF} {data.to_agent}")
        operation.set_attributes({sc.LLM_HANDOFF_TARGET_AGENT_NAME: data.to_agent})


def _finish_reasons(response: Any) -> list[str] | None:
    """The conventions' finish reason of a Responses API response (one output, so one reason)."""
    status = getattr(response, "status", None)
    if status == "incomplete":
        return ["length"]
    if status != "completed":
        return None
    calls = any(getattr(item, "type", None) == "function_call" for item in getattr(response, "output", None) or ())
    return ["tool_call" if calls else "stop"]


def _response(span: SdkSpan[Any] | None, error_type: str | None) -> ResponseInfo | None:
    if span is None:
        return None
    data = span.span_data
    if data.type == "response":
        response = getattr(data, "response", None)
        return ResponseInfo(
            response_id=getattr(response, "id", None),
            response_model=getattr(response, "model", None),
            finish_reasons=_finish_reasons(response),
            usage=_usage(getattr(response, "usage", None) or data.usage),
            error_type=error_type,
        )
    return ResponseInfo(usage=_usage(data.usage), error_type=error_type)
