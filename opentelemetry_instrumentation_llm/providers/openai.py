"""OpenAI adapter (``openai`` 3.x): maps requests, responses and stream chunks to neutral records.

Covers chat completions (``create``, ``parse``, the ``stream()`` helper through ``create``),
the Responses API (``create``, ``parse``, the ``stream()`` helper), legacy completions and
embeddings, sync and async. This module imports the SDK, so it is imported only when the
OpenAI instrumentor is enabled.
"""

from __future__ import annotations

from typing import Any

from openai import APIResponse, AsyncAPIResponse, AsyncStream, NotGiven, Omit, Stream

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.parts import (
    ChatMessage,
    MessagePart,
    OutputMessage,
    data_url_part,
    text_part,
)
from opentelemetry_instrumentation_llm._core.records import (
    Attributes,
    RequestContent,
    RequestInfo,
    ResponseInfo,
    Usage,
)
from opentelemetry_instrumentation_llm._core.spec import ProviderSpec, StreamCloseHook
from opentelemetry_instrumentation_llm.providers._common import (
    SAMPLING_PARAMS,
    Arguments,
    ClientFactsCache,
    ProviderByClass,
    client_server,
    endpoint_pair,
    field,
    request_info,
    set_if_not_none,
    stainless_classifier,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import (
    ChatCompletionsRequests,
    ChatCompletionsStreamAccumulator,
    chat_response_info,
    chat_usage,
    content_parts,
    output_type_of,
    parse_embeddings_response,
    token_usage,
    tool_call_part,
    tool_definitions,
    usage_keys,
)
from opentelemetry_instrumentation_llm.providers._templates import keyed_template

_given = Arguments(Omit, NotGiven)
_param = _given.param
_chat = ChatCompletionsRequests(_given)


def legacy_raw_response_class() -> type:
    """``LegacyAPIResponse``: what ``with_raw_response`` returns in openai 3.x.

    A reach-in: the class is not exported at the package root, yet the result classifier must
    recognise these raw responses to trace the value or stream behind ``parse()``.
    ``tests/providers/openai/test_sdk_surface.py`` fails loudly if the SDK moves or stops using it.
    """
    from openai._legacy_response import LegacyAPIResponse

    return LegacyAPIResponse


# --------------------------------------------------------------------------- client facts

_provider_of = ProviderByClass(
    {
        "BaseAzureClient": sc.PROVIDER_AZURE_OPENAI,
        "AzureOpenAI": sc.PROVIDER_AZURE_OPENAI,
        "AsyncAzureOpenAI": sc.PROVIDER_AZURE_OPENAI,
        "BedrockOpenAI": sc.PROVIDER_AWS_BEDROCK,
        "AsyncBedrockOpenAI": sc.PROVIDER_AWS_BEDROCK,
    },
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
_COMPLETION_PARAMS = (*SAMPLING_PARAMS, ("max_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS))
_RESPONSES_PARAMS = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("max_output_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("previous_response_id", sc.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID),
)


def _request(resource: Any, operation: str, kwargs: dict[str, Any], attrs: Attributes) -> RequestInfo:
    """The call's RequestInfo, with ``openai.request.service_tier`` when one other than ``auto`` is asked."""
    tier = _param(kwargs, "service_tier")
    if tier is not None and tier != "auto":
        attrs[sc.OPENAI_REQUEST_SERVICE_TIER] = tier
    provider, address, port = client_facts(resource)
    return request_info(
        operation, provider, _param(kwargs, "model"), (address, port), bool(_param(kwargs, "stream")), attrs
    )


def parse_chat_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    attrs = _chat.chat_attributes(kwargs)
    attrs[sc.OPENAI_API_TYPE] = "chat_completions"
    return _request(resource, sc.OP_CHAT, kwargs, attrs)


def _responses_output_type(kwargs: dict[str, Any]) -> str | None:
    if _param(kwargs, "text_format") is not None:  # responses.parse(text_format=PydanticModel)
        return "json"
    text = _param(kwargs, "text")
    return output_type_of(field(text, "format")) if text is not None else None


def parse_responses_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    attrs: Attributes = {sc.OPENAI_API_TYPE: "responses"}
    _given.copy_given(kwargs, _RESPONSES_PARAMS, attrs)
    reasoning = _param(kwargs, "reasoning")
    if reasoning is not None:
        set_if_not_none(attrs, sc.GEN_AI_REQUEST_REASONING_LEVEL, field(reasoning, "effort"))
    set_if_not_none(attrs, sc.GEN_AI_OUTPUT_TYPE, _responses_output_type(kwargs))
    conversation = _param(kwargs, "conversation")
    if conversation is not None:
        set_if_not_none(
            attrs,
            sc.GEN_AI_CONVERSATION_ID,
            conversation if isinstance(conversation, str) else field(conversation, "id"),
        )
    return _request(resource, sc.OP_CHAT, kwargs, attrs)


def parse_completion_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    attrs: Attributes = {}
    _given.copy_given(kwargs, _COMPLETION_PARAMS, attrs)
    _chat.put_stop_and_choice_count(kwargs, attrs)
    return _request(resource, sc.OP_TEXT_COMPLETION, kwargs, attrs)


def parse_embeddings_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(resource, sc.OP_EMBEDDINGS, kwargs, _chat.embeddings_attributes(kwargs))


# --------------------------------------------------------------------------- request content


def _responses_file_part(item: Any, modality: str) -> MessagePart:
    file_id = field(item, "file_id")
    if file_id:
        return {"type": "file", "modality": modality, "file_id": file_id}
    file_url = field(item, "file_url")
    if file_url:
        return {"type": "uri", "modality": modality, "uri": file_url}
    return {"type": "blob", "modality": modality, "content": field(item, "file_data")}


def _responses_item_part(item: Any) -> MessagePart | None:
    kind = field(item, "type")
    if kind in ("input_text", "output_text", "text"):
        return text_part(field(item, "text") or "")
    if kind == "input_image":
        url = field(item, "image_url")
        if url:
            return data_url_part(url, "image")
        return _responses_file_part(item, "image") if field(item, "file_id") else None
    if kind == "input_file":
        return _responses_file_part(item, "document")
    if kind == "input_audio":
        return {"type": "blob", "modality": "audio", "content": field(field(item, "input_audio"), "data")}
    if kind == "refusal":
        return {"type": "refusal", "content": field(item, "refusal")}
    return {"type": str(kind)}


def _responses_item_parts(content: Any) -> list[MessagePart]:
    return content_parts(content, _responses_item_part)


def _reasoning_summary(item: Any) -> str:
    return " ".join(str(field(s, "text") or "") for s in field(item, "summary") or ())


def _responses_input_message(item: Any) -> ChatMessage:
    kind = field(item, "type")
    if kind == "function_call":
        return {
            "role": "assistant",
            "parts": [tool_call_part(field(item, "call_id"), field(item, "name"), field(item, "arguments"))],
        }
    if kind == "function_call_output":
        return {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": field(item, "call_id"), "response": field(item, "output")}],
        }
    if kind == "reasoning":
        return {"role": "assistant", "parts": [{"type": "reasoning", "content": _reasoning_summary(item)}]}
    role = field(item, "role")
    if role is not None:
        return {"role": role, "parts": _responses_item_parts(field(item, "content"))}
    return {"role": "user", "parts": [{"type": str(kind)}]}


def responses_input_messages(input_value: Any) -> list[ChatMessage]:
    if input_value is None:
        return []
    if isinstance(input_value, str):
        return [{"role": "user", "parts": [text_part(input_value)]}]
    return [_responses_input_message(item) for item in input_value]


def parse_responses_content(kwargs: dict[str, Any]) -> RequestContent:
    instructions = _param(kwargs, "instructions")
    system: list[MessagePart] | None = None
    if isinstance(instructions, str):
        system = [text_part(instructions)]
    elif instructions is not None:  # a list of input items
        system = [p for m in responses_input_messages(instructions) for p in m["parts"] if p["type"] == "text"]
    return RequestContent(
        system_instructions=system,
        input_messages=responses_input_messages(_param(kwargs, "input")),
        tool_definitions=tool_definitions(_param(kwargs, "tools")),
    )


def parse_completion_content(kwargs: dict[str, Any]) -> RequestContent:
    prompt = _param(kwargs, "prompt")
    prompts = [prompt] if isinstance(prompt, str) else list(prompt or ())
    return RequestContent(
        input_messages=[
            {"role": "user", "parts": [text_part(p) if isinstance(p, str) else {"type": "tokens"}]} for p in prompts
        ]
    )


# --------------------------------------------------------------------------- responses


def _openai_response_attributes(response: Any, info: ResponseInfo) -> None:
    _service_tier(response, info)
    fingerprint = getattr(response, "system_fingerprint", None)
    if fingerprint is not None:
        info.attributes = {sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: fingerprint}


def _service_tier(response: Any, info: ResponseInfo) -> None:
    """The service tier; all a Responses API response has of the above (no ``system_fingerprint``:
    asking a pydantic model for a field it lacks goes through its raising ``__getattr__``, ~2 µs)."""
    tier = getattr(response, "service_tier", None)
    if tier is not None:
        info.metric_attributes = {sc.OPENAI_RESPONSE_SERVICE_TIER: tier}


def parse_chat_response(response: Any, capture: bool) -> ResponseInfo:
    info = chat_response_info(response, capture)
    _openai_response_attributes(response, info)
    return info


class OpenAIChatStreamAccumulator(ChatCompletionsStreamAccumulator):
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
        info.output_messages = [_completion_output_message(c.text, c.finish_reason) for c in choices]
    return info


def _completion_output_message(text: str | None, finish_reason: str | None) -> OutputMessage:
    return {"role": "assistant", "parts": [text_part(text or "")], "finish_reason": finish_reason or "error"}


_RESPONSES_USAGE = usage_keys("input", "output")


def responses_usage(usage: Any) -> Usage | None:
    return token_usage(usage, _RESPONSES_USAGE)


_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
_TOOL_CALL_ITEMS = frozenset(
    {
        "function_call",
        "custom_tool_call",
        "mcp_call",
        "local_shell_call",
        "computer_call",
        "shell_call",
        "apply_patch_call",
    }
)


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


def _responses_output_part(item: Any) -> list[MessagePart]:
    kind = getattr(item, "type", None)
    if kind == "message":
        return _responses_item_parts(getattr(item, "content", None))
    if kind == "function_call":
        return [
            tool_call_part(
                getattr(item, "call_id", None), getattr(item, "name", None), getattr(item, "arguments", None)
            )
        ]
    if kind == "reasoning":
        summary = _reasoning_summary(item)
        return [{"type": "reasoning", "content": summary}] if summary else []
    if kind is not None:
        return [
            {
                "type": "server_tool_call",
                "id": getattr(item, "id", None),
                "name": kind,
                "server_tool_call": {"type": kind},
            }
        ]
    return []


def _responses_output_message(response: Any, finish_reason: str | None) -> OutputMessage:
    parts = [part for item in getattr(response, "output", None) or () for part in _responses_output_part(item)]
    return {"role": "assistant", "parts": parts, "finish_reason": finish_reason or "error"}


def parse_responses_response(response: Any, capture: bool) -> ResponseInfo:
    finish = _responses_finish_reason(response)
    info = ResponseInfo(
        response_id=getattr(response, "id", None),
        response_model=getattr(response, "model", None),
        finish_reasons=[finish] if finish else None,
        usage=responses_usage(getattr(response, "usage", None)),
    )
    _service_tier(response, info)
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


class CompletionStreamAccumulator(ChatCompletionsStreamAccumulator):
    """Legacy completion chunks -> ResponseInfo: chat chunks whose choices carry ``text``."""

    __slots__ = ()

    def _capture_delta(self, choice: Any) -> None:
        if choice.text:
            self._messages.setdefault(choice.index, {"text": []})["text"].append(choice.text)

    def _output_message(self, index: int) -> OutputMessage:
        message = self._messages.get(index)
        return _completion_output_message("".join(message["text"]) if message else "", self._finish.get(index))


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
            info = ResponseInfo(
                response_id=getattr(self._created, "id", None), response_model=getattr(self._created, "model", None)
            )
        else:
            info = ResponseInfo()
        if self._error is not None:
            info.error_type = self._error
        return info


# --------------------------------------------------------------------------- result kinds

classify = stainless_classifier(Stream, AsyncStream, APIResponse, AsyncAPIResponse, legacy_raw_response_class())


# --------------------------------------------------------------------------- wrap table

_CHAT = "openai.resources.chat.completions.completions"
_RESPONSES = "openai.resources.responses.responses"
_COMPLETIONS = "openai.resources.completions"
_EMBEDDINGS = "openai.resources.embeddings"


def spec() -> ProviderSpec:
    chat = _chat.chat_parsers(parse_chat_request, OpenAIChatStreamAccumulator, parse_chat_response)
    responses = {
        "parse_request": parse_responses_request,
        "parse_response": parse_responses_response,
        "parse_content": parse_responses_content,
        "accumulator": ResponsesStreamAccumulator,
        "parse_template": keyed_template(_given.param, "instructions"),
    }
    completions = {
        "parse_request": parse_completion_request,
        "parse_response": parse_completion_response,
        "parse_content": parse_completion_content,
        "accumulator": CompletionStreamAccumulator,
    }
    embeddings = {"parse_request": parse_embeddings_request, "parse_response": parse_embeddings_response}
    return ProviderSpec(
        sdk="openai",
        endpoints=(
            *endpoint_pair(_CHAT, "Completions.create", "AsyncCompletions.create", **chat),
            *endpoint_pair(_CHAT, "Completions.parse", "AsyncCompletions.parse", **chat),
            *endpoint_pair(_RESPONSES, "Responses.create", "AsyncResponses.create", **responses),
            *endpoint_pair(_RESPONSES, "Responses.parse", "AsyncResponses.parse", **responses),
            *endpoint_pair(_COMPLETIONS, "Completions.create", "AsyncCompletions.create", **completions),
            *endpoint_pair(_EMBEDDINGS, "Embeddings.create", "AsyncEmbeddings.create", **embeddings),
        ),
        classify=classify,
        close_hooks=(
            StreamCloseHook("openai.lib.streaming.chat._completions", "ChatCompletionStream.close", False),
            StreamCloseHook("openai.lib.streaming.chat._completions", "AsyncChatCompletionStream.close", True),
            StreamCloseHook("openai.lib.streaming.responses._responses", "ResponseStream.close", False),
            StreamCloseHook("openai.lib.streaming.responses._responses", "AsyncResponseStream.close", True),
        ),
    )
