"""OpenAI adapter (``openai`` 3.x): maps requests, responses and stream chunks to neutral records.

Covers chat completions (``create``, ``parse``, the ``stream()`` helper through ``create``),
the Responses API (``create``, ``parse``, the ``stream()`` helper), legacy completions and
embeddings, sync and async. This module imports the SDK, so it is imported only when the
OpenAI instrumentor is enabled.
"""

from __future__ import annotations

from typing import Any

from openai import AsyncStream, Stream
from openai._legacy_response import LegacyAPIResponse
from openai._response import APIResponse, AsyncAPIResponse
from openai._types import NotGiven, Omit

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.records import (
    Attributes,
    RequestContent,
    RequestInfo,
    ResponseInfo,
    Usage,
)
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec, StreamCloseHook
from opentelemetry_instrumentation_llm.providers._common import (
    ClientFactsCache,
    ProviderByClass,
    client_server,
    data_url_part,
    field,
    maybe_json,
    put,
    stainless_classifier,
    text_part,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import (
    ChatStreamAccumulator,
    _arg,
    _common_tail,
    _copy_params,
    _output_type,
    chat_request_attributes,
    chat_response_info,
    chat_usage,
    embeddings_request_attributes,
    parse_chat_content,
    parse_embeddings_response,
    register_sentinels,
    token_usage,
    tool_definitions,
    usage_keys,
)

register_sentinels(Omit, NotGiven)


# --------------------------------------------------------------------------- client facts

_provider_of = ProviderByClass(
    {"BaseAzureClient": sc.PROVIDER_AZURE_OPENAI, "AzureOpenAI": sc.PROVIDER_AZURE_OPENAI,
     "AsyncAzureOpenAI": sc.PROVIDER_AZURE_OPENAI, "BedrockOpenAI": sc.PROVIDER_AWS_BEDROCK,
     "AsyncBedrockOpenAI": sc.PROVIDER_AWS_BEDROCK},
    sc.PROVIDER_OPENAI,
)
_PROVIDER_BY_RUNTIME = {"bedrock": sc.PROVIDER_AWS_BEDROCK, "vertex": sc.PROVIDER_GCP_VERTEX_AI}


def client_facts(resource: Any) -> tuple[str, str | None, int | None]:
    """(provider name, server.address, server.port) for the client behind an SDK resource.

    The provider is what the SDK speaks: ``openai`` for OpenAI and any OpenAI-compatible server
    reached through ``base_url`` (``server.address`` tells those apart), ``azure.ai.openai`` for
    the Azure clients, and the cloud's name for the SDK's Bedrock/Vertex provider runtimes.
    """
    client = getattr(resource, "_client", None)
    if client is None:
        return sc.PROVIDER_OPENAI, None, None
    facts: tuple[str, str | None, int | None] = _FACTS(client, _facts_of)
    return facts


def _facts_of(client: Any) -> tuple[str, str | None, int | None]:
    provider = _provider_of(client)
    runtime = getattr(client, "_provider_runtime", None)
    if runtime is not None:
        provider = _PROVIDER_BY_RUNTIME.get(getattr(runtime, "name", ""), provider)
    address, port = client_server(client)
    return provider, address, port


_FACTS = ClientFactsCache()


# --------------------------------------------------------------------------- requests

# (kwarg, attribute) pairs copied as-is when given.
_COMPLETION_PARAMS = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", sc.GEN_AI_REQUEST_SEED),
    ("max_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
)
_RESPONSES_PARAMS = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("max_output_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("previous_response_id", sc.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID),
)


def _request(resource: Any, operation: str, kwargs: dict[str, Any], attrs: Attributes) -> RequestInfo:
    provider, address, port = client_facts(resource)
    model = _arg(kwargs, "model")
    return RequestInfo(
        operation=operation,
        provider=provider,
        model=str(model) if model is not None else None,
        server_address=address,
        server_port=port,
        stream=bool(_arg(kwargs, "stream")),
        attributes=attrs,
    )


def parse_chat_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    attrs = chat_request_attributes(kwargs)
    attrs[sc.OPENAI_API_TYPE] = "chat_completions"
    tier = _arg(kwargs, "service_tier")
    if tier is not None and tier != "auto":
        attrs[sc.OPENAI_REQUEST_SERVICE_TIER] = tier
    return _request(resource, sc.OP_CHAT, kwargs, attrs)


def parse_responses_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    attrs: Attributes = {sc.OPENAI_API_TYPE: "responses"}
    _copy_params(kwargs, _RESPONSES_PARAMS, attrs)
    reasoning = _arg(kwargs, "reasoning")
    if reasoning is not None:
        put(attrs, sc.GEN_AI_REQUEST_REASONING_LEVEL, field(reasoning, "effort"))
    text = _arg(kwargs, "text")
    output_type = _output_type(field(text, "format")) if text is not None else None
    text_format = _arg(kwargs, "text_format")  # responses.parse(text_format=PydanticModel)
    if text_format is not None:
        output_type = "json"
    put(attrs, sc.GEN_AI_OUTPUT_TYPE, output_type)
    conversation = _arg(kwargs, "conversation")
    if conversation is not None:
        put(attrs, sc.GEN_AI_CONVERSATION_ID, conversation if isinstance(conversation, str)
            else field(conversation, "id"))
    tier = _arg(kwargs, "service_tier")
    if tier is not None and tier != "auto":
        attrs[sc.OPENAI_REQUEST_SERVICE_TIER] = tier
    return _request(resource, sc.OP_CHAT, kwargs, attrs)


def parse_completion_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    attrs: Attributes = {}
    _copy_params(kwargs, _COMPLETION_PARAMS, attrs)
    _common_tail(kwargs, attrs)
    tier = _arg(kwargs, "service_tier")
    if tier is not None and tier != "auto":
        attrs[sc.OPENAI_REQUEST_SERVICE_TIER] = tier
    return _request(resource, sc.OP_TEXT_COMPLETION, kwargs, attrs)


def parse_embeddings_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(resource, sc.OP_EMBEDDINGS, kwargs, embeddings_request_attributes(kwargs))


# --------------------------------------------------------------------------- request content


def _responses_item_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    parts = []
    for item in content:
        kind = field(item, "type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(text_part(field(item, "text") or ""))
        elif kind == "input_image":
            url = field(item, "image_url")
            if url:
                parts.append(data_url_part(url, "image"))
            elif field(item, "file_id"):
                parts.append({"type": "file", "modality": "image", "file_id": field(item, "file_id")})
        elif kind == "input_file":
            if field(item, "file_id"):
                parts.append({"type": "file", "modality": "document", "file_id": field(item, "file_id")})
            elif field(item, "file_url"):
                parts.append({"type": "uri", "modality": "document", "uri": field(item, "file_url")})
            else:
                parts.append({"type": "blob", "modality": "document", "content": field(item, "file_data")})
        elif kind == "input_audio":
            parts.append({"type": "blob", "modality": "audio", "content": field(field(item, "input_audio"), "data")})
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": field(item, "refusal")})
        else:
            parts.append({"type": str(kind)})
    return parts


def responses_input_messages(input_value: Any) -> list[dict[str, Any]]:
    if input_value is None:
        return []
    if isinstance(input_value, str):
        return [{"role": "user", "parts": [text_part(input_value)]}]
    messages = []
    for item in input_value:
        kind = field(item, "type")
        role = field(item, "role")
        if kind == "function_call":
            messages.append({"role": "assistant", "parts": [{
                "type": "tool_call", "id": field(item, "call_id"), "name": field(item, "name"),
                "arguments": maybe_json(field(item, "arguments")),
            }]})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "parts": [{
                "type": "tool_call_response", "id": field(item, "call_id"), "response": field(item, "output"),
            }]})
        elif kind == "reasoning":
            summary = " ".join(str(field(s, "text") or "") for s in field(item, "summary") or ())
            messages.append({"role": "assistant", "parts": [{"type": "reasoning", "content": summary}]})
        elif role is not None:
            messages.append({"role": role, "parts": _responses_item_parts(field(item, "content"))})
        else:
            messages.append({"role": "user", "parts": [{"type": str(kind)}]})
    return messages


def parse_responses_content(kwargs: dict[str, Any]) -> RequestContent:
    instructions = _arg(kwargs, "instructions")
    system = None
    if isinstance(instructions, str):
        system = [text_part(instructions)]
    elif instructions is not None:  # a list of input items
        system = [p for m in responses_input_messages(instructions) for p in m["parts"] if p.get("type") == "text"]
    return RequestContent(
        system_instructions=system,
        input_messages=responses_input_messages(_arg(kwargs, "input")),
        tool_definitions=tool_definitions(_arg(kwargs, "tools")),
    )


def parse_completion_content(kwargs: dict[str, Any]) -> RequestContent:
    prompt = _arg(kwargs, "prompt")
    prompts = [prompt] if isinstance(prompt, str) else list(prompt or ())
    return RequestContent(input_messages=[
        {"role": "user", "parts": [text_part(p) if isinstance(p, str) else {"type": "tokens"}]} for p in prompts
    ])


# --------------------------------------------------------------------------- responses

def _openai_response_attributes(response: Any, info: ResponseInfo) -> None:
    tier = getattr(response, "service_tier", None)
    if tier is not None:
        info.metric_attributes = {sc.OPENAI_RESPONSE_SERVICE_TIER: tier}
    fingerprint = getattr(response, "system_fingerprint", None)
    if fingerprint is not None:
        info.attributes = {sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: fingerprint}


def parse_chat_response(response: Any, capture: bool) -> ResponseInfo:
    info = chat_response_info(response, capture)
    _openai_response_attributes(response, info)
    return info


class OpenAIChatStreamAccumulator(ChatStreamAccumulator):
    __slots__ = ()
    _vendor_attributes = staticmethod(_openai_response_attributes)


def parse_completion_response(response: Any, capture: bool) -> ResponseInfo:
    choices = response.choices or ()
    info = ResponseInfo(
        response_id=response.id,
        response_model=response.model,
        finish_reasons=[c.finish_reason for c in choices if c.finish_reason is not None],
        usage=chat_usage(response.usage),
    )
    _openai_response_attributes(response, info)
    if capture:
        info.output_messages = [
            {"role": "assistant", "parts": [text_part(c.text or "")], "finish_reason": c.finish_reason or "error"}
            for c in choices
        ]
    return info


_RESPONSES_USAGE = usage_keys("input", "output")


def responses_usage(usage: Any) -> Usage | None:
    return token_usage(usage, _RESPONSES_USAGE)


_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
_TOOL_CALL_ITEMS = frozenset({"function_call", "custom_tool_call", "mcp_call", "local_shell_call", "computer_call",
                              "shell_call", "apply_patch_call"})


def _responses_finish_reason(response: Any) -> str | None:
    status = getattr(response, "status", None)
    if status == "completed":
        for item in getattr(response, "output", None) or ():
            if getattr(item, "type", None) in _TOOL_CALL_ITEMS:
                return "tool_call"
        return "stop"
    if status == "incomplete":
        details = getattr(response, "incomplete_details", None)
        reason = str(getattr(details, "reason", None) or "incomplete")
        return _INCOMPLETE_REASONS.get(reason, reason)
    if status in ("failed", "cancelled"):
        return "error"
    return None


def _responses_output_message(response: Any, finish_reason: str | None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for item in getattr(response, "output", None) or ():
        kind = getattr(item, "type", None)
        if kind == "message":
            parts.extend(_responses_item_parts(getattr(item, "content", None)))
        elif kind == "function_call":
            arguments = maybe_json(getattr(item, "arguments", None))
            parts.append({"type": "tool_call", "id": getattr(item, "call_id", None),
                          "name": getattr(item, "name", None), "arguments": arguments})
        elif kind == "reasoning":
            summary = " ".join(str(getattr(s, "text", "") or "") for s in getattr(item, "summary", None) or ())
            if summary:
                parts.append({"type": "reasoning", "content": summary})
        elif kind is not None:
            parts.append({"type": "server_tool_call", "id": getattr(item, "id", None), "name": kind,
                          "server_tool_call": {"type": kind}})
    return {"role": "assistant", "parts": parts, "finish_reason": finish_reason or "error"}


def parse_responses_response(response: Any, capture: bool) -> ResponseInfo:
    finish = _responses_finish_reason(response)
    info = ResponseInfo(
        response_id=getattr(response, "id", None),
        response_model=getattr(response, "model", None),
        finish_reasons=[finish] if finish else None,
        usage=responses_usage(getattr(response, "usage", None)),
    )
    _openai_response_attributes(response, info)
    conversation = getattr(response, "conversation", None)
    if conversation is not None and getattr(conversation, "id", None):
        info.attributes = {**(info.attributes or {}), sc.GEN_AI_CONVERSATION_ID: conversation.id}
    if getattr(response, "status", None) == "failed":
        error = getattr(response, "error", None)
        info.error_type = str(getattr(error, "code", None) or "failed")
    if capture:
        info.output_messages = [_responses_output_message(response, finish)]
    return info


# --------------------------------------------------------------------------- stream accumulators


class CompletionStreamAccumulator:
    """Legacy completion chunks -> ResponseInfo."""

    __slots__ = ("_capture", "_finish", "_first", "_text", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._first: Any = None
        self._usage: Any = None
        self._finish: dict[int, str] = {}
        self._text: dict[int, list[str]] = {}

    def add(self, chunk: Any) -> bool:
        if self._first is None:
            self._first = chunk
        if chunk.usage is not None:
            self._usage = chunk.usage
        choices = chunk.choices
        if not choices:
            return False
        for choice in choices:
            if choice.finish_reason is not None:
                self._finish[choice.index] = choice.finish_reason
            if self._capture and choice.text:
                self._text.setdefault(choice.index, []).append(choice.text)
        return True

    def result(self) -> ResponseInfo:
        first = self._first
        if first is None:
            return ResponseInfo()
        info = ResponseInfo(
            response_id=first.id,
            response_model=first.model,
            finish_reasons=[self._finish[i] for i in sorted(self._finish)],
            usage=chat_usage(self._usage),
        )
        if self._capture:
            indexes = sorted(set(self._text) | set(self._finish))
            info.output_messages = [
                {"role": "assistant", "parts": [text_part("".join(self._text.get(i, ())))],
                 "finish_reason": self._finish.get(i, "error")}
                for i in indexes
            ]
        return info


_RESPONSES_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesStreamAccumulator:
    """Responses API stream events -> ResponseInfo (the terminal event carries the whole response)."""

    __slots__ = ("_capture", "_created", "_error", "_final")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._created: Any = None
        self._final: Any = None
        self._error: str | None = None

    def add(self, event: Any) -> bool:
        kind = event.type
        if kind.endswith(".delta"):
            return True
        if kind in _RESPONSES_TERMINAL:
            self._final = event.response
        elif kind == "response.created":
            self._created = event.response
        elif kind == "error":
            self._error = str(getattr(event, "code", None) or "error")
        return False

    def result(self) -> ResponseInfo:
        if self._final is not None:
            info = parse_responses_response(self._final, self._capture)
        elif self._created is not None:
            info = ResponseInfo(response_id=getattr(self._created, "id", None),
                                response_model=getattr(self._created, "model", None))
        else:
            info = ResponseInfo()
        if self._error is not None:
            info.error_type = self._error
        return info


# --------------------------------------------------------------------------- result kinds

classify = stainless_classifier(Stream, AsyncStream, APIResponse, AsyncAPIResponse, LegacyAPIResponse)


# --------------------------------------------------------------------------- wrap table

_CHAT = "openai.resources.chat.completions.completions"
_RESPONSES = "openai.resources.responses.responses"
_COMPLETIONS = "openai.resources.completions"
_EMBEDDINGS = "openai.resources.embeddings"


def _pair(module: str, cls: str, method: str, **parsers: Any) -> tuple[Endpoint, Endpoint]:
    return (
        Endpoint(module=module, target=f"{cls}.{method}", is_async=False, **parsers),
        Endpoint(module=module, target=f"Async{cls}.{method}", is_async=True, **parsers),
    )


def spec() -> ProviderSpec:
    chat = {"parse_request": parse_chat_request, "parse_response": parse_chat_response,
            "parse_content": parse_chat_content, "accumulator": OpenAIChatStreamAccumulator}
    responses = {"parse_request": parse_responses_request, "parse_response": parse_responses_response,
                 "parse_content": parse_responses_content, "accumulator": ResponsesStreamAccumulator}
    return ProviderSpec(
        sdk="openai",
        endpoints=(
            *_pair(_CHAT, "Completions", "create", **chat),
            *_pair(_CHAT, "Completions", "parse", **chat),
            *_pair(_RESPONSES, "Responses", "create", **responses),
            *_pair(_RESPONSES, "Responses", "parse", **responses),
            *_pair(_COMPLETIONS, "Completions", "create", parse_request=parse_completion_request,
                   parse_response=parse_completion_response, parse_content=parse_completion_content,
                   accumulator=CompletionStreamAccumulator),
            *_pair(_EMBEDDINGS, "Embeddings", "create", parse_request=parse_embeddings_request,
                   parse_response=parse_embeddings_response),
        ),
        classify=classify,
        close_hooks=(
            StreamCloseHook("openai.lib.streaming.chat._completions", "ChatCompletionStream.close", False),
            StreamCloseHook("openai.lib.streaming.chat._completions", "AsyncChatCompletionStream.close", True),
            StreamCloseHook("openai.lib.streaming.responses._responses", "ResponseStream.close", False),
            StreamCloseHook("openai.lib.streaming.responses._responses", "AsyncResponseStream.close", True),
        ),
    )
