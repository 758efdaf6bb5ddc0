"""Anthropic adapter (``anthropic`` 2.x): Messages API, sync and async, streaming, the ``stream()``
helper, tool use, thinking, and the ``beta.messages`` variants that share the same shapes.

Usage follows the Anthropic page of the conventions: ``gen_ai.usage.input_tokens`` is the sum of
Anthropic's ``input_tokens``, ``cache_read_input_tokens`` and ``cache_creation_input_tokens``
(Anthropic's own ``input_tokens`` excludes cached input). ``stop_reason`` is mapped to the
conventions' finish reasons (``end_turn`` -> ``stop``, ``max_tokens`` -> ``length``, ...).

This module imports the SDK, so it is imported only when the Anthropic instrumentor is enabled.
"""

from __future__ import annotations

from typing import Any

from anthropic import AsyncStream, Stream
from anthropic._response import APIResponse, AsyncAPIResponse
from anthropic._types import NotGiven, Omit

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.records import (
    Attributes,
    RequestContent,
    RequestInfo,
    ResponseInfo,
    Usage,
)
from opentelemetry_instrumentation_llm._core.spec import (
    Endpoint,
    ProviderSpec,
    SdkSpanHook,
    class_name_error_type,
)
from opentelemetry_instrumentation_llm.providers._common import (
    ProviderByClass,
    client_server,
    data_url_part,
    field,
    put,
    sdk_client,
    stainless_classifier,
    stop_sequences,
    text_part,
)

_SENTINELS = (Omit, NotGiven)

ANTHROPIC_REQUEST_SERVICE_TIER = "anthropic.request.service_tier"  # the SDK's own tracing uses this name
ANTHROPIC_RESPONSE_SERVICE_TIER = "anthropic.response.service_tier"


def _arg(kwargs: dict[str, Any], key: str) -> Any:
    value = kwargs.get(key)
    return None if value is None or type(value) in _SENTINELS else value


_provider_of = ProviderByClass(
    {"BaseBedrockClient": sc.PROVIDER_AWS_BEDROCK, "BaseMantleClient": sc.PROVIDER_AWS_BEDROCK,
     "AnthropicBedrock": sc.PROVIDER_AWS_BEDROCK, "AsyncAnthropicBedrock": sc.PROVIDER_AWS_BEDROCK,
     "BaseVertexClient": sc.PROVIDER_GCP_VERTEX_AI, "AnthropicVertex": sc.PROVIDER_GCP_VERTEX_AI,
     "AsyncAnthropicVertex": sc.PROVIDER_GCP_VERTEX_AI, "BaseGoogleCloudClient": sc.PROVIDER_GCP_VERTEX_AI},
    sc.PROVIDER_ANTHROPIC,
)

# stop_reason -> the conventions' finish reasons; unknown values pass through unchanged.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: str | None) -> str | None:
    if stop_reason is None:
        return None
    return FINISH_REASONS.get(stop_reason, stop_reason)


# --------------------------------------------------------------------------- requests


def _sampling_param(kwargs: dict[str, Any], extra_body: Any, key: str) -> Any:
    """Current models take no temperature/top_p/top_k in the SDK's signature; users pass them in
    ``extra_body`` where a model still accepts them."""
    value = _arg(kwargs, key)
    if value is None and isinstance(extra_body, dict):
        value = extra_body.get(key)
    return value


def parse_messages_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    client = sdk_client(resource)
    address, port = client_server(client)
    attrs: Attributes = {}
    put(attrs, sc.GEN_AI_REQUEST_MAX_TOKENS, _arg(kwargs, "max_tokens"))
    stop = _arg(kwargs, "stop_sequences")
    if stop is not None:
        put(attrs, sc.GEN_AI_REQUEST_STOP_SEQUENCES, stop_sequences(stop))
    extra_body = kwargs.get("extra_body")
    put(attrs, sc.GEN_AI_REQUEST_TEMPERATURE, _sampling_param(kwargs, extra_body, "temperature"))
    put(attrs, sc.GEN_AI_REQUEST_TOP_P, _sampling_param(kwargs, extra_body, "top_p"))
    top_k = _sampling_param(kwargs, extra_body, "top_k")
    if top_k is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_K] = int(top_k)
    output_config = _arg(kwargs, "output_config")
    if output_config is not None:
        put(attrs, sc.GEN_AI_REQUEST_REASONING_LEVEL, field(output_config, "effort"))
        if field(output_config, "format") is not None:
            attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"
    if _arg(kwargs, "output_format") is not None:  # parse() / stream() with a structured output type
        attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"
    tier = _arg(kwargs, "service_tier")
    if tier is not None:
        attrs[ANTHROPIC_REQUEST_SERVICE_TIER] = tier
    options = getattr(client, "_open_telemetry", None)
    conversation = options.get("conversation_id") if isinstance(options, dict) else None
    if conversation:
        attrs[sc.GEN_AI_CONVERSATION_ID] = conversation
    model = _arg(kwargs, "model")
    return RequestInfo(
        operation=sc.OP_CHAT,
        provider=_provider_of(client) if client is not None else sc.PROVIDER_ANTHROPIC,
        model=str(model) if model is not None else None,
        server_address=address,
        server_port=port,
        stream=bool(_arg(kwargs, "stream")),
        attributes=attrs,
    )


# --------------------------------------------------------------------------- content


def _source_part(source: Any, modality: str) -> dict[str, Any]:
    kind = field(source, "type")
    if kind == "base64":
        part = {"type": "blob", "modality": modality, "content": field(source, "data")}
        if field(source, "media_type"):
            part["mime_type"] = field(source, "media_type")
        return part
    if kind == "url":
        return data_url_part(field(source, "url") or "", modality)
    if kind == "file":
        return {"type": "file", "modality": modality, "file_id": field(source, "file_id")}
    if kind == "text":
        return text_part(field(source, "data") or "")
    return {"type": str(kind)}


def _tool_result_content(content: Any) -> Any:
    if isinstance(content, list):
        texts = [field(block, "text") for block in content if field(block, "type") == "text"]
        return "".join(t for t in texts if t) if len(texts) == len(content) else [
            {"type": field(block, "type"), "text": field(block, "text")} for block in content]
    return content


def block_parts(content: Any) -> list[dict[str, Any]]:
    """Anthropic content blocks (request or response) as the conventions' message parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[dict[str, Any]] = []
    for block in content:
        kind = field(block, "type")
        if kind == "text":
            parts.append(text_part(field(block, "text") or ""))
        elif kind == "image":
            parts.append(_source_part(field(block, "source"), "image"))
        elif kind == "document":
            parts.append(_source_part(field(block, "source"), "document"))
        elif kind == "tool_use":
            parts.append({"type": "tool_call", "id": field(block, "id"), "name": field(block, "name"),
                          "arguments": field(block, "input")})
        elif kind == "tool_result":
            parts.append({"type": "tool_call_response", "id": field(block, "tool_use_id"),
                          "response": _tool_result_content(field(block, "content"))})
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": field(block, "thinking") or ""})
        elif kind == "server_tool_use":
            name = field(block, "name")
            parts.append({"type": "server_tool_call", "id": field(block, "id"), "name": name,
                          "server_tool_call": {"type": name, "input": field(block, "input")}})
        elif isinstance(kind, str) and kind.endswith("_tool_result"):
            parts.append({"type": "server_tool_call_response", "id": field(block, "tool_use_id"),
                          "server_tool_call_response": {"type": kind}})
        else:
            parts.append({"type": str(kind)})
    return parts


def _tool_definition(tool: Any) -> dict[str, Any]:
    kind = field(tool, "type")
    name = field(tool, "name")
    if kind in (None, "custom"):
        definition: dict[str, Any] = {"type": "function", "name": name}
        if field(tool, "description"):
            definition["description"] = field(tool, "description")
        if field(tool, "input_schema") is not None:
            definition["parameters"] = field(tool, "input_schema")
        return definition
    return {"type": str(kind), "name": name or str(kind)}  # server tools (web search, code execution, ...)


def parse_messages_content(kwargs: dict[str, Any]) -> RequestContent:
    system = _arg(kwargs, "system")
    system_parts = None
    if system is not None:
        system_parts = [p for p in block_parts(system) if p.get("type") == "text"]
    messages = [
        {"role": field(message, "role") or "user", "parts": block_parts(field(message, "content"))}
        for message in _arg(kwargs, "messages") or ()
    ]
    tools = _arg(kwargs, "tools")
    return RequestContent(
        system_instructions=system_parts,
        input_messages=messages,
        tool_definitions=[_tool_definition(t) for t in tools] if tools else None,
    )


# --------------------------------------------------------------------------- responses


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


def anthropic_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    uncached = field(usage, "input_tokens")
    cache_read = field(usage, "cache_read_input_tokens")
    cache_write = field(usage, "cache_creation_input_tokens")
    total_input = None
    if uncached is not None or cache_read is not None or cache_write is not None:
        total_input = _count(uncached) + _count(cache_read) + _count(cache_write)
    return Usage(
        input_tokens=total_input,
        output_tokens=field(usage, "output_tokens"),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def parse_messages_response(message: Any, capture: bool) -> ResponseInfo:
    reason = finish_reason(getattr(message, "stop_reason", None))
    usage = getattr(message, "usage", None)
    info = ResponseInfo(
        response_id=getattr(message, "id", None),
        response_model=getattr(message, "model", None),
        finish_reasons=[reason] if reason else None,
        usage=anthropic_usage(usage),
    )
    tier = field(usage, "service_tier") if usage is not None else None
    if tier:
        info.attributes = {ANTHROPIC_RESPONSE_SERVICE_TIER: tier}
    if capture:
        info.output_messages = [{"role": "assistant", "parts": block_parts(getattr(message, "content", None)),
                                 "finish_reason": reason or "error"}]
    return info


class MessagesStreamAccumulator:
    """Raw Messages stream events -> ResponseInfo. Content blocks are assembled only when capturing."""

    __slots__ = ("_blocks", "_capture", "_id", "_model", "_stop", "_usage_delta", "_usage_start")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._id: str | None = None
        self._model: str | None = None
        self._stop: str | None = None
        self._usage_start: Any = None
        self._usage_delta: Any = None
        self._blocks: dict[int, dict[str, Any]] = {}

    def add(self, event: Any) -> bool:
        kind = event.type
        if kind == "content_block_delta":
            if self._capture:
                self._delta(event)
            return True
        if kind == "message_start":
            message = event.message
            self._id = message.id
            self._model = message.model
            self._usage_start = message.usage
        elif kind == "message_delta":
            self._stop = event.delta.stop_reason
            self._usage_delta = event.usage
        elif kind == "content_block_start" and self._capture:
            block = event.content_block
            self._blocks[event.index] = {"block": block, "text": [], "json": []}
        return False

    def _delta(self, event: Any) -> None:
        entry = self._blocks.setdefault(event.index, {"block": None, "text": [], "json": []})
        delta = event.delta
        kind = delta.type
        if kind == "text_delta":
            entry["text"].append(delta.text)
        elif kind == "thinking_delta":
            entry["text"].append(delta.thinking)
        elif kind == "input_json_delta":
            entry["json"].append(delta.partial_json)

    def _usage(self) -> Usage | None:
        start, delta = self._usage_start, self._usage_delta
        if start is None and delta is None:
            return None
        merged: dict[str, Any] = {}
        for source in (start, delta):  # message_delta carries the final (cumulative) counts
            if source is None:
                continue
            for key in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
                value = field(source, key)
                if value is not None:
                    merged[key] = value
        return anthropic_usage(merged)

    def _parts(self) -> list[dict[str, Any]]:
        import json

        parts: list[dict[str, Any]] = []
        for index in sorted(self._blocks):
            entry = self._blocks[index]
            block = entry["block"]
            kind = field(block, "type") if block is not None else "text"
            text = "".join(entry["text"])
            if kind == "text":
                parts.append(text_part(text))
            elif kind == "thinking":
                parts.append({"type": "reasoning", "content": text})
            elif kind == "tool_use":
                raw = "".join(entry["json"])
                try:
                    arguments = json.loads(raw) if raw else {}
                except ValueError:
                    arguments = raw
                parts.append({"type": "tool_call", "id": field(block, "id"), "name": field(block, "name"),
                              "arguments": arguments})
            else:
                parts.extend(block_parts([block]))
        return parts

    def result(self) -> ResponseInfo:
        reason = finish_reason(self._stop)
        info = ResponseInfo(
            response_id=self._id,
            response_model=self._model,
            finish_reasons=[reason] if reason else None,
            usage=self._usage(),
        )
        if self._capture and self._id is not None:
            info.output_messages = [{"role": "assistant", "parts": self._parts(), "finish_reason": reason or "error"}]
        return info


# --------------------------------------------------------------------------- errors and result kinds


def error_type(exc: BaseException) -> str:
    """The API's own error type (``overloaded_error``, ``rate_limit_error``, ...) when it sent one.

    That is what an ``error`` event inside a stream carries too (the SDK raises a generic status
    error for it), so it tells more than the exception class; the class name is the fallback.
    """
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return kind if isinstance(kind, str) and kind else class_name_error_type(exc)


classify = stainless_classifier(Stream, AsyncStream, APIResponse, AsyncAPIResponse)


# --------------------------------------------------------------------------- wrap table

_MESSAGES = "anthropic.resources.messages.messages"
_BETA_MESSAGES = "anthropic.resources.beta.messages.messages"


def spec() -> ProviderSpec:
    parsers: dict[str, Any] = {"parse_request": parse_messages_request, "parse_response": parse_messages_response,
                               "parse_content": parse_messages_content, "accumulator": MessagesStreamAccumulator}
    endpoints = []
    for module in (_MESSAGES, _BETA_MESSAGES):
        for cls, is_async in (("Messages", False), ("AsyncMessages", True)):
            endpoints.append(Endpoint(module, f"{cls}.create", is_async, **parsers))
            endpoints.append(Endpoint(module, f"{cls}.parse", is_async, **parsers))
            # stream() returns a (sync or async) context manager that sends the request on enter.
            endpoints.append(Endpoint(module, f"{cls}.stream", is_async, stream_manager=True, **parsers))
    return ProviderSpec(
        sdk="anthropic",
        endpoints=tuple(endpoints),
        classify=classify,
        sdk_span_hooks=(SdkSpanHook("anthropic._base_client", "start_api_call_span"),),
        error_type=error_type,
    )
