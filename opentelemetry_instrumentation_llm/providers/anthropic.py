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

from anthropic import APIResponse, AsyncAPIResponse, AsyncStream, NotGiven, Omit, Stream

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.records import Attributes, RequestContent, RequestInfo, ResponseInfo
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec, SdkSpanHook, class_name_error_type
from opentelemetry_instrumentation_llm.providers._anthropic_messages import (
    AnthropicMessageStreamAccumulator,
    request_content,
    response_info,
)
from opentelemetry_instrumentation_llm.providers._common import (
    Arguments,
    ProviderByClass,
    client_server,
    field,
    request_info,
    sdk_client,
    stainless_classifier,
    stop_sequences,
)
from opentelemetry_instrumentation_llm.providers._templates import keyed_template

_arg = Arguments(Omit, NotGiven).param  # keyword arguments the user gave (a plain function: hot path)

ANTHROPIC_REQUEST_SERVICE_TIER = "anthropic.request.service_tier"  # the SDK's own tracing uses this name
ANTHROPIC_RESPONSE_SERVICE_TIER = "anthropic.response.service_tier"

_provider_of = ProviderByClass(
    {
        "BaseBedrockClient": sc.PROVIDER_AWS_BEDROCK,
        "BaseMantleClient": sc.PROVIDER_AWS_BEDROCK,
        "AnthropicBedrock": sc.PROVIDER_AWS_BEDROCK,
        "AsyncAnthropicBedrock": sc.PROVIDER_AWS_BEDROCK,
        "BaseVertexClient": sc.PROVIDER_GCP_VERTEX_AI,
        "AnthropicVertex": sc.PROVIDER_GCP_VERTEX_AI,
        "AsyncAnthropicVertex": sc.PROVIDER_GCP_VERTEX_AI,
        "BaseGoogleCloudClient": sc.PROVIDER_GCP_VERTEX_AI,
    },
    sc.PROVIDER_ANTHROPIC,
)


# --------------------------------------------------------------------------- requests


def _sampling_param(kwargs: dict[str, Any], extra_body: Any, key: str) -> Any:
    """Current models take no temperature/top_p/top_k in the SDK's signature; users pass them in
    ``extra_body`` where a model still accepts them."""
    value = _arg(kwargs, key)
    if value is None and isinstance(extra_body, dict):
        value = extra_body.get(key)
    return value


def _sampling_attributes(kwargs: dict[str, Any], attrs: Attributes) -> None:
    max_tokens = _arg(kwargs, "max_tokens")
    if max_tokens is not None:
        attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    stop = stop_sequences(_arg(kwargs, "stop_sequences"))
    if stop is not None:
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = stop
    extra_body = kwargs.get("extra_body")
    for key, attribute in (("temperature", sc.GEN_AI_REQUEST_TEMPERATURE), ("top_p", sc.GEN_AI_REQUEST_TOP_P)):
        value = _sampling_param(kwargs, extra_body, key)
        if value is not None:
            attrs[attribute] = value
    top_k = _sampling_param(kwargs, extra_body, "top_k")
    if top_k is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_K] = int(top_k)


def _output_attributes(kwargs: dict[str, Any], attrs: Attributes) -> None:
    output_config = _arg(kwargs, "output_config")
    if output_config is not None:
        effort = field(output_config, "effort")
        if effort is not None:
            attrs[sc.GEN_AI_REQUEST_REASONING_LEVEL] = effort
        if field(output_config, "format") is not None:
            attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"
    if _arg(kwargs, "output_format") is not None:  # parse() / stream() with a structured output type
        attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"
    tier = _arg(kwargs, "service_tier")
    if tier is not None:
        attrs[ANTHROPIC_REQUEST_SERVICE_TIER] = tier


def parse_messages_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    client = sdk_client(resource)
    address, port = client_server(client)
    attrs: Attributes = {}
    _sampling_attributes(kwargs, attrs)
    _output_attributes(kwargs, attrs)
    options = getattr(client, "_open_telemetry", None)
    conversation = options.get("conversation_id") if isinstance(options, dict) else None
    if conversation:
        attrs[sc.GEN_AI_CONVERSATION_ID] = conversation
    provider = _provider_of(client) if client is not None else sc.PROVIDER_ANTHROPIC
    return request_info(
        sc.OP_CHAT, provider, _arg(kwargs, "model"), (address, port), bool(_arg(kwargs, "stream")), attrs
    )


# --------------------------------------------------------------------------- content and responses


def parse_messages_content(kwargs: dict[str, Any]) -> RequestContent:
    return request_content(_arg(kwargs, "system"), _arg(kwargs, "messages"), _arg(kwargs, "tools"))


def parse_messages_response(message: Any, capture: bool) -> ResponseInfo:
    info = response_info(message, capture)
    usage = getattr(message, "usage", None)
    tier = field(usage, "service_tier") if usage is not None else None
    if tier:
        info.attributes = {ANTHROPIC_RESPONSE_SERVICE_TIER: tier}
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
    parsers: dict[str, Any] = {
        "parse_request": parse_messages_request,
        "parse_response": parse_messages_response,
        "parse_content": parse_messages_content,
        "accumulator": AnthropicMessageStreamAccumulator,
        "parse_template": keyed_template(_arg, "system"),
    }
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
