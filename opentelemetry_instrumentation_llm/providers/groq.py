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

from groq import APIResponse, AsyncAPIResponse, AsyncStream, NotGiven, Omit, Stream

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.records import ResponseInfo
from opentelemetry_instrumentation_llm._core.spec import ProviderSpec
from opentelemetry_instrumentation_llm.providers._common import (
    Arguments,
    ClientFactsCache,
    Server,
    client_server,
    endpoint_pair,
    request_parser,
    sdk_client,
    stainless_classifier,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import (
    ChatCompletionsRequests,
    ChatCompletionsStreamAccumulator,
    chat_usage,
    parse_embeddings_response,
)

GROQ_STREAM_ERROR = "groq_stream_error"  # error.type when x_groq reports that a stream stopped early

_given = Arguments(Omit, NotGiven)
_param = _given.param
_chat = ChatCompletionsRequests(_given)
_SERVERS = ClientFactsCache()


def _server(resource: Any, params: dict[str, Any]) -> Server:
    client = sdk_client(resource)
    server: Server = _SERVERS(client, client_server) if client is not None else (None, None)
    return server


parse_chat_request = request_parser(sc.OP_CHAT, sc.PROVIDER_GROQ, _server, _chat.chat_attributes, _param)
parse_embeddings_request = request_parser(
    sc.OP_EMBEDDINGS, sc.PROVIDER_GROQ, _server, _chat.embeddings_attributes, _param
)


class GroqChatStreamAccumulator(ChatCompletionsStreamAccumulator):
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
    chat = _chat.chat_parsers(parse_chat_request, GroqChatStreamAccumulator)
    embeddings = {"parse_request": parse_embeddings_request, "parse_response": parse_embeddings_response}
    return ProviderSpec(
        sdk="groq",
        endpoints=(
            *endpoint_pair(_CHAT, "Completions.create", "AsyncCompletions.create", **chat),
            *endpoint_pair(_EMBEDDINGS, "Embeddings.create", "AsyncEmbeddings.create", **embeddings),
        ),
        classify=classify,
    )
