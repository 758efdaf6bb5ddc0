"""LiteLLM adapter: ``litellm.completion`` / ``acompletion`` (streaming too) and ``embedding`` /
``aembedding``.

The span reports the provider LiteLLM routes the call to (``anthropic/claude-...`` ->
``anthropic``, ``bedrock/...`` -> ``aws.bedrock``, ...), resolved with LiteLLM's own
``get_llm_provider`` and cached per (model, provider, api_base), and the model name without
LiteLLM's routing prefix. LiteLLM answers in the Chat Completions shape whatever the upstream, so
responses and chunks map through :mod:`._openai_compat`.

No double spans: while our LiteLLM span is current, an SDK that LiteLLM calls underneath and that
we also instrument (``openai``, ``anthropic``, ...) opens no second inference span (our wrappers
see the active GenAI span in the context and step aside).

The public functions are wrapped as attributes of the ``litellm`` package, so code that does
``from litellm import completion`` must run after instrumentation (as it does under
``opentelemetry-instrument``). This module imports LiteLLM, so it is imported only when the
LiteLLM instrumentor is enabled.
"""

from __future__ import annotations

from typing import Any

import litellm

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.guard import report
from opentelemetry_instrumentation_llm._core.records import Attributes, RequestInfo
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec, ResultKind
from opentelemetry_instrumentation_llm.providers._common import (
    Arguments,
    positional_binder,
    request_info,
    server_of,
    type_classifier,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import (
    ChatCompletionsRequests,
    ChatCompletionsStreamAccumulator,
    parse_embeddings_response,
)

_chat = ChatCompletionsRequests(Arguments())  # LiteLLM's functions take plain keyword defaults: no sentinels

# LiteLLM's provider names -> gen_ai.provider.name; others are reported as LiteLLM names them.
PROVIDER_NAMES = {
    "openai": sc.PROVIDER_OPENAI,
    "text-completion-openai": sc.PROVIDER_OPENAI,
    "azure": sc.PROVIDER_AZURE_OPENAI,
    "azure_text": sc.PROVIDER_AZURE_OPENAI,
    "azure_ai": "azure.ai.inference",
    "anthropic": sc.PROVIDER_ANTHROPIC,
    "bedrock": sc.PROVIDER_AWS_BEDROCK,
    "bedrock_converse": sc.PROVIDER_AWS_BEDROCK,
    "sagemaker": "aws.sagemaker",
    "vertex_ai": sc.PROVIDER_GCP_VERTEX_AI,
    "vertex_ai_beta": sc.PROVIDER_GCP_VERTEX_AI,
    "gemini": sc.PROVIDER_GCP_GEMINI,
    "cohere": sc.PROVIDER_COHERE,
    "cohere_chat": sc.PROVIDER_COHERE,
    "mistral": sc.PROVIDER_MISTRAL_AI,
    "groq": sc.PROVIDER_GROQ,
    "ollama": sc.PROVIDER_OLLAMA,
    "ollama_chat": sc.PROVIDER_OLLAMA,
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "xai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
    "watsonx_text": "ibm.watsonx.ai",
    "moonshot": "moonshot_ai",
}

_ROUTES: dict[tuple[Any, Any, Any], tuple[str, str, str | None, int | None]] = {}
_ROUTES_MAX = 256


def _route(model: Any, custom_provider: Any, api_base: Any) -> tuple[str, str, str | None, int | None]:
    """(provider, model, server.address, server.port) for a call, as LiteLLM will route it."""
    key = (model, custom_provider, api_base)
    hit = _ROUTES.get(key)
    if hit is not None:
        return hit
    name, provider, base = str(model), "litellm", api_base
    try:
        name, provider, _key, dynamic_base = litellm.get_llm_provider(
            model=str(model), custom_llm_provider=custom_provider, api_base=api_base
        )
        base = api_base or dynamic_base
    except Exception as exc:  # noqa: BLE001 - LiteLLM raises for models it cannot route; the call reports it
        if not isinstance(exc, getattr(litellm, "BadRequestError", ())):
            report("resolving a LiteLLM route", exc)
    address, port = server_of(base) if base else (None, None)
    route = (PROVIDER_NAMES.get(provider, provider), name, address, port)
    if len(_ROUTES) >= _ROUTES_MAX:
        _ROUTES.clear()
    _ROUTES[key] = route
    return route


def _request(operation: str, params: dict[str, Any], attrs: Attributes) -> RequestInfo | None:
    model = params.get("model")
    if model is None:
        return None
    provider, name, address, port = _route(
        model, params.get("custom_llm_provider"), params.get("api_base") or params.get("base_url")
    )
    return request_info(operation, provider, name, (address, port), bool(params.get("stream")), attrs)


def parse_completion_request(_function: Any, params: dict[str, Any]) -> RequestInfo | None:
    if params.get("acompletion"):  # completion(acompletion=True) hands back a coroutine: not followed
        return None
    attrs = _chat.chat_attributes(params)
    top_k = params.get("top_k")
    if isinstance(top_k, int):
        attrs[sc.GEN_AI_REQUEST_TOP_K] = top_k
    return _request(sc.OP_CHAT, params, attrs)


def parse_embedding_request(_function: Any, params: dict[str, Any]) -> RequestInfo | None:
    return _request(sc.OP_EMBEDDINGS, params, _chat.embeddings_attributes(params))


# LiteLLM's stream wrapper is both a sync and an async iterator: which one depends on the call.
_sync_kind = type_classifier((litellm.CustomStreamWrapper, ResultKind.STREAM))
_async_kind = type_classifier((litellm.CustomStreamWrapper, ResultKind.ASYNC_STREAM))


_COMPLETION_ARGS = (
    "model",
    "messages",
    "timeout",
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_completion_tokens",
    "max_tokens",
)
_EMBEDDING_ARGS = ("model", "input", "dimensions", "encoding_format", "timeout", "api_base")


def spec() -> ProviderSpec:
    chat = _chat.chat_parsers(parse_completion_request, ChatCompletionsStreamAccumulator)
    chat["params"] = positional_binder(*_COMPLETION_ARGS)
    embedding: dict[str, Any] = {
        "parse_request": parse_embedding_request,
        "parse_response": parse_embeddings_response,
        "params": positional_binder(*_EMBEDDING_ARGS),
    }
    return ProviderSpec(
        sdk="litellm",
        endpoints=(
            Endpoint("litellm", "completion", False, classify=_sync_kind, **chat),
            Endpoint("litellm", "acompletion", True, classify=_async_kind, **chat),
            Endpoint("litellm", "embedding", False, **embedding),
            Endpoint("litellm", "aembedding", True, **embedding),
        ),
        classify=_sync_kind,
    )
