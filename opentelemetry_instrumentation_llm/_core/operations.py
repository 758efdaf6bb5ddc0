"""Invocations above a single model call: agent runs, tool executions, workflows, retrievals and MCP
requests.

The hand-written-loop API (``agents.py``) and the framework adapters (``frameworks/``) describe
what ran as an :class:`OperationInfo`; an :class:`OperationRecorder` turns it into the
conventions' span and duration metric, exactly once, through the :class:`Operation` it returns.

An agent run puts an :class:`AgentScope` in the OpenTelemetry context of its span. Tool spans read
it for ``gen_ai.agent.name`` and count themselves in it; the inference recorder counts model calls
in it (one context lookup per call, nothing more when no agent is active). When the run ends, the
counts become the ``gen_ai.invoke_agent.inference_calls`` / ``tool_calls`` records.

Conventions followed: semantic-conventions-genai main (agent, tool and workflow spans and metrics,
see docs/agents.md for the exact revision) and its ``docs/gen-ai/mcp.md`` for MCP.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from time import time_ns
from typing import Any

from opentelemetry import _logs, context, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context, create_key, get_value
from opentelemetry.metrics import Histogram, Meter, MeterProvider, get_meter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.content import to_any_value, to_json
from opentelemetry_instrumentation_llm._core.guard import end_anyway, report
from opentelemetry_instrumentation_llm._core.settings import ContentSettings
from opentelemetry_instrumentation_llm.version import __version__

# Metric records pass a context explicitly. A duration record carries its span's, so its exemplar
# (when the span is sampled) leads from a latency bucket to the trace; every other record (tokens,
# cost, per-chunk gaps, per-run counts) passes this one, so the SDK does no exemplar work for it and
# does not look up the current context. It must not be empty: the SDK reads `context or
# get_current()`, and an empty Context is falsy (an empty one here gave the per-run counts exemplars).
NO_EXEMPLAR = Context({create_key("opentelemetry-instrumentation-llm.no-exemplar"): True})

AGENT_SCOPE_KEY = create_key("opentelemetry-instrumentation-llm.agent")
"""Context key of the innermost agent run: an :class:`AgentScope`."""


class AgentScope:
    """What a running agent shares with the spans below it: its name and its call counts."""

    __slots__ = ("inference_calls", "name", "tool_calls")

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.inference_calls = 0
        self.tool_calls = 0


def current_agent(ctx: Context | None = None) -> AgentScope | None:
    """The innermost agent run in ``ctx`` (default: the current context), or None."""
    return get_value(AGENT_SCOPE_KEY, ctx)  # type: ignore[return-value]


def count_inference(ctx: Context | None = None) -> None:
    """Count one model call in the enclosing agent run, if any (called by the inference recorder)."""
    scope = get_value(AGENT_SCOPE_KEY, ctx)
    if scope is not None:
        scope.inference_calls += 1  # type: ignore[attr-defined]


class OperationKind(enum.Enum):
    """The kinds of invocation recorded here; the value is the span's ``gen_ai.operation.name``."""

    AGENT = sc.OP_INVOKE_AGENT
    TOOL = sc.OP_EXECUTE_TOOL
    WORKFLOW = sc.OP_INVOKE_WORKFLOW
    RETRIEVAL = sc.OP_RETRIEVAL
    GUARDRAIL = sc.OP_APPLY_GUARDRAIL
    HANDOFF = sc.OP_HANDOFF
    MCP_CLIENT = "mcp.client"
    MCP_SERVER = "mcp.server"


@dataclass(slots=True)
class OperationInfo:
    """A neutral description of one invocation.

    ``name`` is the agent, tool or workflow name (for MCP: the tool or prompt name, if any);
    ``method`` the MCP method; ``attributes`` any further span attributes the caller knows
    (``gen_ai.tool.call.id``, ``gen_ai.agent.id``, ``mcp.session.id``, ...). ``remote`` marks an
    agent that runs elsewhere (its span is CLIENT, not INTERNAL).
    """

    kind: OperationKind
    name: str | None = None
    attributes: Mapping[str, AttributeValue] | None = None
    method: str | None = None
    remote: bool = False


_MCP_METRIC_KEYS = (
    sc.MCP_METHOD_NAME,
    sc.GEN_AI_OPERATION_NAME,
    sc.GEN_AI_TOOL_NAME,
    sc.GEN_AI_PROMPT_NAME,
    sc.MCP_PROTOCOL_VERSION,
    sc.NETWORK_TRANSPORT,
    sc.RPC_RESPONSE_STATUS_CODE,
)
# Metric attributes each kind keeps (allow-listed: span attributes such as call ids never reach metrics).
# Tables by kind are keyed by the kind's value: an Enum member hashes in Python, a str in C.
_METRIC_KEYS: dict[str, tuple[str, ...]] = {
    OperationKind.AGENT.value: (
        sc.GEN_AI_OPERATION_NAME,
        sc.GEN_AI_AGENT_NAME,
        sc.GEN_AI_PROVIDER_NAME,
        sc.GEN_AI_REQUEST_MODEL,
    ),
    OperationKind.TOOL.value: (
        sc.GEN_AI_OPERATION_NAME,
        sc.GEN_AI_TOOL_NAME,
        sc.GEN_AI_TOOL_TYPE,
        sc.GEN_AI_AGENT_NAME,
    ),
    OperationKind.WORKFLOW.value: (sc.GEN_AI_OPERATION_NAME, sc.GEN_AI_WORKFLOW_NAME),
    OperationKind.RETRIEVAL.value: (),  # the conventions define no retrieval metric: span only
    OperationKind.GUARDRAIL.value: (),  # nor a guardrail or handoff metric
    OperationKind.HANDOFF.value: (),
    OperationKind.MCP_CLIENT.value: _MCP_METRIC_KEYS,
    OperationKind.MCP_SERVER.value: _MCP_METRIC_KEYS,
}
_TOOL_METRIC_KEYS = _METRIC_KEYS[OperationKind.TOOL.value]


def _histogram(meter: Meter, name: str, unit: str, buckets: tuple[float, ...], description: str) -> Histogram:
    return meter.create_histogram(name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets)


# (attribute, metric name, unit, advised buckets, description) of every instrument.
_INSTRUMENTS: tuple[tuple[str, str, str, tuple[float, ...], str], ...] = (
    ("agent", sc.METRIC_INVOKE_AGENT_DURATION, "s", sc.AGENT_DURATION_BUCKETS, "Duration of GenAI agent invocations."),
    ("tool", sc.METRIC_EXECUTE_TOOL_DURATION, "s", sc.DURATION_BUCKETS, "Duration of tool executions."),
    ("workflow", sc.METRIC_INVOKE_WORKFLOW_DURATION, "s", sc.WORKFLOW_DURATION_BUCKETS,
     "Duration of GenAI workflow invocations."),
    ("inference_calls", sc.METRIC_INVOKE_AGENT_INFERENCE_CALLS, "{inference_call}", sc.CALL_COUNT_BUCKETS,
     "Model calls made by one agent invocation."),
    ("tool_calls", sc.METRIC_INVOKE_AGENT_TOOL_CALLS, "{tool_call}", sc.CALL_COUNT_BUCKETS,
     "Tool calls made by one agent invocation."),
    ("mcp_client", sc.METRIC_MCP_CLIENT_OPERATION_DURATION, "s", sc.MCP_DURATION_BUCKETS,
     "Duration of MCP requests as the sender sees them."),
    ("mcp_server", sc.METRIC_MCP_SERVER_OPERATION_DURATION, "s", sc.MCP_DURATION_BUCKETS,
     "Duration of MCP requests as the receiver handles them."),
)  # fmt: skip


class _Instruments:
    agent: Histogram
    tool: Histogram
    workflow: Histogram
    inference_calls: Histogram
    tool_calls: Histogram
    mcp_client: Histogram
    mcp_server: Histogram

    def __init__(self, meter: Meter) -> None:
        for attribute, name, unit, buckets, description in _INSTRUMENTS:
            setattr(self, attribute, _histogram(meter, name, unit, buckets, description))


class OperationRecorder:
    """Spans and metrics for agent runs, tools, workflows and MCP requests, resolved once.

    ``scope`` names the instrumentation scope (one per integration, so users can tell them apart).
    """

    def __init__(
        self,
        scope: str,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        content: ContentSettings | None = None,
    ) -> None:
        self.tracer = trace.get_tracer(scope, __version__, tracer_provider, schema_url=sc.SCHEMA_URL)
        self.instruments = _Instruments(get_meter(scope, __version__, meter_provider, schema_url=sc.SCHEMA_URL))
        self.event_logger = _logs.get_logger(
            scope, __version__, logger_provider=logger_provider, schema_url=sc.SCHEMA_URL
        )
        settings = content or ContentSettings()
        self.capture_span = settings.capture.on_span
        # Content on the details event: EVENT_ONLY / SPAN_AND_EVENT, unless OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT=false.
        self.capture_event = settings.capture.on_event and settings.emit_event

    def start(
        self, info: OperationInfo, *, parent: Context | None = None, start_time: int | None = None
    ) -> Operation | None:
        """Open the span for one invocation (in ``parent``, default: the current context).

        Returns None if anything goes wrong: the invocation then proceeds unrecorded.
        """
        try:
            return Operation(self, info, parent, start_time)
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            report("starting an operation span", exc)
            return None


def _span_name(info: OperationInfo) -> str:
    if info.kind is OperationKind.MCP_CLIENT or info.kind is OperationKind.MCP_SERVER:
        method = info.method or "unknown"
        return f"{method} {info.name}" if info.name else method
    operation = info.kind._value_
    return f"{operation} {info.name}" if info.name else operation


def _span_kind(info: OperationInfo) -> SpanKind:
    if info.kind is OperationKind.MCP_CLIENT:
        return SpanKind.CLIENT
    if info.kind is OperationKind.MCP_SERVER:
        return SpanKind.SERVER
    if info.kind is OperationKind.RETRIEVAL:  # the conventions' retrieval span is CLIENT
        return SpanKind.CLIENT
    return SpanKind.CLIENT if info.remote else SpanKind.INTERNAL


def _start_attributes(info: OperationInfo, agent: AgentScope | None) -> dict[str, AttributeValue]:
    kind = info.kind
    attrs: dict[str, AttributeValue] = {}
    if kind is OperationKind.MCP_CLIENT or kind is OperationKind.MCP_SERVER:
        attrs[sc.MCP_METHOD_NAME] = info.method or "unknown"
        if info.method == sc.MCP_TOOLS_CALL:
            attrs[sc.GEN_AI_OPERATION_NAME] = sc.OP_EXECUTE_TOOL
            if info.name:
                attrs[sc.GEN_AI_TOOL_NAME] = info.name
        elif info.method == sc.MCP_PROMPTS_GET and info.name:
            attrs[sc.GEN_AI_PROMPT_NAME] = info.name
    else:
        attrs[sc.GEN_AI_OPERATION_NAME] = kind._value_
        if info.name:
            attrs[_NAME_KEY[kind._value_]] = info.name
    if info.attributes:
        attrs.update(info.attributes)
    is_tool = kind is OperationKind.TOOL or attrs.get(sc.GEN_AI_OPERATION_NAME) == sc.OP_EXECUTE_TOOL
    if is_tool and agent is not None and agent.name and sc.GEN_AI_AGENT_NAME not in attrs:
        attrs[sc.GEN_AI_AGENT_NAME] = agent.name
    return attrs


_NAME_KEY: dict[str, str] = {
    OperationKind.AGENT.value: sc.GEN_AI_AGENT_NAME,
    OperationKind.TOOL.value: sc.GEN_AI_TOOL_NAME,
    OperationKind.WORKFLOW.value: sc.GEN_AI_WORKFLOW_NAME,
    OperationKind.RETRIEVAL.value: sc.GEN_AI_DATA_SOURCE_ID,
    OperationKind.GUARDRAIL.value: sc.GEN_AI_GUARDRAIL_COMPONENT_NAME,
    OperationKind.HANDOFF.value: sc.LLM_HANDOFF_TARGET_AGENT_NAME,
}


class Operation:
    """One invocation in flight: owns its span, ends it and records its metrics exactly once.

    ``context`` is the context to run the invocation's body in (its span current, and for an
    agent run its :class:`AgentScope`); attach it around the body, or hand it to the SDK.
    """

    __slots__ = (
        "_attrs",
        "_content",
        "_done",
        "_start_ns",
        "agent",
        "context",
        "info",
        "is_tool",
        "parent_agent",
        "recorder",
        "span",
    )

    def __init__(
        self, recorder: OperationRecorder, info: OperationInfo, parent: Context | None, start_time: int | None
    ) -> None:
        self.recorder = recorder
        self.info = info
        self._done = False
        self._content: dict[str, Any] | None = None
        self.parent_agent = current_agent(parent)
        attrs = _start_attributes(info, self.parent_agent)
        self._attrs = attrs
        self.is_tool = attrs.get(sc.GEN_AI_OPERATION_NAME) == sc.OP_EXECUTE_TOOL
        self._start_ns = time_ns() if start_time is None else start_time
        self.span: Span = recorder.tracer.start_span(
            _span_name(info), parent, _span_kind(info), attrs, start_time=self._start_ns
        )
        ctx = trace.set_span_in_context(self.span, parent)
        self.agent: AgentScope | None = None
        if info.kind is OperationKind.AGENT:
            self.agent = AgentScope(info.name)
            ctx = context.set_value(AGENT_SCOPE_KEY, self.agent, ctx)
        self.context: Context = ctx

    @property
    def done(self) -> bool:
        return self._done

    # ------------------------------------------------------------------ content (opt-in)

    @property
    def captures_content(self) -> bool:
        """Whether :meth:`record_content` records anything (on the span, the details event or both)."""
        rec = self.recorder
        return rec.capture_event or (rec.capture_span and self.span.is_recording())

    def record_content(self, key: str, value: Any) -> None:
        """Record ``value`` under ``key`` where content capture puts it: on the span as JSON
        (``SPAN_ONLY``/``SPAN_AND_EVENT``), and kept for the details event emitted at the end
        (``EVENT_ONLY``/``SPAN_AND_EVENT``). Nothing when capture is off."""
        if self._done:
            return
        rec = self.recorder
        try:
            if rec.capture_span and self.span.is_recording():
                self.span.set_attribute(key, value if isinstance(value, str) else to_json(value))
            if rec.capture_event:
                if self._content is None:
                    self._content = {}
                self._content[key] = to_any_value(value)
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            report("recording operation content", exc)

    def emit_event(self, name: str, attributes: Mapping[str, Any]) -> None:
        """A log-record event in this operation's context (so it carries the span's trace and span id)."""
        self.recorder.event_logger.emit(
            event_name=name, severity_number=SeverityNumber.INFO, attributes=attributes, context=self.context
        )

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Attributes learnt while running (e.g. the MCP session id); low-cardinality ones reach metrics."""
        if self._done:
            return
        self._attrs.update(attributes)
        if self.span.is_recording():
            self.span.set_attributes(attributes)

    # ------------------------------------------------------------------ ending

    def finish(self, error: BaseException | None = None, *, error_type: str | None = None,
               message: str | None = None, end_time: int | None = None) -> None:  # fmt: skip
        """End the invocation; ``error`` (raised) or ``error_type`` (reported) marks a failure."""
        if self._done:
            return
        self._done = True
        try:
            self._finish(error, error_type, message, end_time)
        except Exception as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            end_anyway(self.span, "ending an operation span", exc)

    def _finish(
        self, error: BaseException | None, error_type: str | None, message: str | None, end_time: int | None
    ) -> None:
        end_ns = time_ns() if end_time is None else end_time
        if error is not None and error_type is None:
            error_type = type(error).__name__
        span = self.span
        if error_type is not None and span.is_recording():
            span.set_attribute(sc.ERROR_TYPE, error_type)
            if error is not None:
                span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, message or (str(error) if error is not None else error_type)))
        self._record_metrics((end_ns - self._start_ns) / 1e9, error_type)
        if self._content is not None:
            self._emit_details(error_type)
        span.end(end_time=end_ns)

    def _emit_details(self, error_type: str | None) -> None:
        """The captured content on the conventions' details event (the only one they define; its
        ``gen_ai.operation.name`` says which operation it describes), with the span's attributes."""
        attrs: dict[str, Any] = dict(self._attrs)
        if error_type is not None:
            attrs[sc.ERROR_TYPE] = error_type
        attrs.update(self._content or {})
        self.emit_event(sc.EVENT_INFERENCE_DETAILS, attrs)

    def _record_metrics(self, duration: float, error_type: str | None) -> None:
        kind = self.info.kind
        attrs = self._attrs
        inst = self.recorder.instruments
        keys = _METRIC_KEYS[kind._value_]
        metric_attrs = {key: attrs[key] for key in keys if key in attrs}
        if error_type is not None:
            metric_attrs[sc.ERROR_TYPE] = error_type
        if kind is OperationKind.AGENT:
            inst.agent.record(duration, metric_attrs, self.context)
            self._record_counts()
        elif kind is OperationKind.TOOL:
            inst.tool.record(duration, metric_attrs, self.context)
        elif kind is OperationKind.WORKFLOW:
            inst.workflow.record(duration, metric_attrs, self.context)
        elif not keys:  # retrieval, guardrail, handoff: span only
            pass
        elif kind is OperationKind.MCP_SERVER:
            inst.mcp_server.record(duration, metric_attrs, self.context)
        else:
            inst.mcp_client.record(duration, metric_attrs, self.context)
            if self.is_tool:  # the caller's view of a tool it ran on an MCP server
                tool_attrs = {key: attrs[key] for key in _TOOL_METRIC_KEYS if key in attrs}
                if error_type is not None:
                    tool_attrs[sc.ERROR_TYPE] = error_type
                inst.tool.record(duration, tool_attrs, NO_EXEMPLAR)
        if self.is_tool and kind is not OperationKind.MCP_SERVER and self.parent_agent is not None:
            self.parent_agent.tool_calls += 1

    def _record_counts(self) -> None:
        scope = self.agent
        if scope is None:
            return
        attrs: dict[str, AttributeValue] = {sc.GEN_AI_AGENT_NAME: scope.name} if scope.name else {}
        inst = self.recorder.instruments
        inst.inference_calls.record(scope.inference_calls, attrs, NO_EXEMPLAR)
        inst.tool_calls.record(scope.tool_calls, attrs, NO_EXEMPLAR)
