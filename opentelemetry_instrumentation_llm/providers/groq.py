"""Groq adapter (``groq`` SDK): chat completions (sync, async, streaming) and embeddings.

Groq speaks the Chat Completions format, so requests, responses and chunks map through
:mod:`._openai_compat`; what is Groq's own is handled here: provider ``groq``, the ``x_groq``
envelope that carries a stream's usage in its final chunk (unless ``stream_options.include_usage``
asks for the standard usage chunk) and the reason a stream stopped early. Groq's
``service_tier`` values (``on_demand``, ``flex``, ...) are not OpenAI's and are not reported as
``openai.*`` attributes.

This module imports the SDK, so it is imported only when the Groq instrumentor is enabled.
"""

from __future__ import annotations

from typing import Any

from groq import AsyncStream, Stream
from groq._response import APIResponse, AsyncAPIResponse
from groq._types import NotGiven, Omit

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.records import RequestInfo, ResponseInfo
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec
from opentelemetry_instrumentation_llm.providers._common import (
    ClientFactsCache,
    client_server,
    sdk_client,
    stainless_classifier,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import (
    ChatStreamAccumulator,
    _arg,
    chat_request_attributes,
    chat_response_info,
    chat_usage,
    embeddings_request_attributes,
    parse_chat_content,
    parse_embeddings_response,
    register_sentinels,
)

register_sentinels(Omit, NotGiven)

GROQ_STREAM_ERROR = "groq_stream_error"  # error.type when x_groq reports that a stream stopped early

_SERVERS = ClientFactsCache()


def _request(resource: Any, operation: str, kwargs: dict[str, Any], attrs: Any) -> RequestInfo:
    client = sdk_client(resource)
    address, port = _SERVERS(client, client_server) if client is not None else (None, None)
    model = _arg(kwargs, "model")
    return RequestInfo(
        operation=operation,
        provider=sc.PROVIDER_GROQ,
        model=str(model) if model is not None else None,
        server_address=address,
        server_port=port,
        stream=bool(_arg(kwargs, "stream")),
        attributes=attrs,
    )


def parse_chat_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(resource, sc.OP_CHAT, kwargs, chat_request_attributes(kwargs))


def parse_embeddings_request(resource: Any, kwargs: dict[str, Any]) -> RequestInfo:
    return _request(resource, sc.OP_EMBEDDINGS, kwargs, embeddings_request_attributes(kwargs))


class GroqChatStreamAccumulator(ChatStreamAccumulator):
    """Chat chunks plus Groq's ``x_groq`` envelope (request id, final usage, early-stop error)."""

    __slots__ = ("_groq_error", "_groq_usage")

    def __init__(self, capture: bool) -> None:
        super().__init__(capture)
        self._groq_usage: Any = None
        self._groq_error: str | None = None

    def add(self, chunk: Any) -> bool:
        x_groq = getattr(chunk, "x_groq", None)
        if x_groq is not None:
            if x_groq.usage is not None:
                self._groq_usage = x_groq.usage
            if x_groq.error:
                self._groq_error = x_groq.error
        return super().add(chunk)

    def result(self) -> ResponseInfo:
        info = super().result()
        if info.usage is None and self._groq_usage is not None:
            info.usage = chat_usage(self._groq_usage)
        if self._groq_error:
            info.error_type = GROQ_STREAM_ERROR
        return info


classify = stainless_classifier(Stream, AsyncStream, APIResponse, AsyncAPIResponse)


_CHAT = "groq.resources.chat.completions"
_EMBEDDINGS = "groq.resources.embeddings"


def spec() -> ProviderSpec:
    chat: dict[str, Any] = {"parse_request": parse_chat_request, "parse_response": chat_response_info,
                            "parse_content": parse_chat_content, "accumulator": GroqChatStreamAccumulator}
    embeddings: dict[str, Any] = {"parse_request": parse_embeddings_request,
                                  "parse_response": parse_embeddings_response}
    return ProviderSpec(
        sdk="groq",
        endpoints=(
            Endpoint(_CHAT, "Completions.create", False, **chat),
            Endpoint(_CHAT, "AsyncCompletions.create", True, **chat),
            Endpoint(_EMBEDDINGS, "Embeddings.create", False, **embeddings),
            Endpoint(_EMBEDDINGS, "AsyncEmbeddings.create", True, **embeddings),
        ),
        classify=classify,
    )
