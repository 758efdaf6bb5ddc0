"""google-genai, non-streaming: generate_content and embed_content, sync and async, Gemini API and
Vertex AI, request parameters, usage arithmetic, finish reasons, errors and content capture. The real
SDK talks HTTP to the fake server (Gemini REST wire format)."""

from __future__ import annotations

import copy
from typing import Any

import google.genai.models
import pytest
from google.genai import errors, types
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.providers import google_genai as adapter
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, everything_exported, fingerprint_attribute
from tests.providers.google_genai.conftest import (
    API_KEY,
    MODEL,
    VERTEX_TOKEN,
    base_attributes,
    gemini_client,
    vertex_client,
    words,
)

# The prompt fingerprint these calls' system instructions give (llm.prompt.fingerprint).
TEMPLATE = fingerprint_attribute("Answer briefly.")

PROMPT = "Name three primary colours."


def tokens_by_type(telemetry: Any) -> dict[str, int]:
    return {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}


def test_span_attributes_usage_and_metrics(client, fake, fake_server, telemetry, instrumented):
    fake.push(
        Reply(
            text="Red, yellow, blue.",
            usage={
                "promptTokenCount": 1200,
                "cachedContentTokenCount": 1000,
                "candidatesTokenCount": 20,
                "thoughtsTokenCount": 30,
                "totalTokenCount": 1250,
            },
        )
    )
    config = types.GenerateContentConfig(
        temperature=0.3,
        top_p=0.9,
        top_k=40,
        max_output_tokens=256,
        stop_sequences=["END"],
        seed=7,
        candidate_count=1,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        response_mime_type="application/json",
        thinking_config=types.ThinkingConfig(thinking_level=types.ThinkingLevel.LOW),
    )
    response = client.models.generate_content(model=MODEL, contents=PROMPT, config=config)
    span = telemetry.span()
    assert span.name == f"generate_content {MODEL}" and span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.seed": 7,
        # candidate_count=1 is the default: the conventions record the choice count only when != 1.
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.output.type": "json",
        "gen_ai.request.reasoning.level": "low",
        "gen_ai.response.id": response.response_id,
        "gen_ai.response.model": response.model_version,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 1200,  # Gemini's prompt count already includes cached content
        "gen_ai.usage.cache_read.input_tokens": 1000,
        # Thoughts are counted apart from candidates by Gemini; the conventions make them part of output.
        "gen_ai.usage.output_tokens": 20 + 30,
        "gen_ai.usage.reasoning.output_tokens": 30,
    }
    assert tokens_by_type(telemetry) == {"input": 1200, "output": 50}
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.response.model": response.model_version,
    }
    assert telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK) == []


def test_dict_config_in_camel_case_and_choice_count(client, fake, telemetry, instrumented):
    client.models.generate_content(
        model=MODEL,
        contents=PROMPT,
        config={
            "candidateCount": 2,
            "topK": 3.0,
            "maxOutputTokens": 64,
            "responseSchema": {"type": "OBJECT"},
            "thinkingConfig": {"thinkingBudget": 1024},
        },
    )
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.request.choice.count"] == 2
    assert attrs["gen_ai.request.top_k"] == 3 and isinstance(attrs["gen_ai.request.top_k"], int)
    assert attrs["gen_ai.request.max_tokens"] == 64
    assert attrs["gen_ai.output.type"] == "json"
    assert "gen_ai.request.reasoning.level" not in attrs  # a token budget is not a level


async def test_async_generate_content(aclient, fake, fake_server, telemetry, instrumented):
    response = await aclient.models.generate_content(
        model=MODEL, contents=PROMPT, config={"system_instruction": "Answer briefly."}
    )
    span = telemetry.span()
    assert dict(span.attributes) == {
        **(base_attributes(fake_server) | TEMPLATE),
        "gen_ai.response.id": response.response_id,
        "gen_ai.response.model": response.model_version,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": words(PROMPT) + words("Answer briefly."),
        "gen_ai.usage.output_tokens": words(response.text),
    }
    assert tokens_by_type(telemetry) == {"input": 6, "output": words(response.text)}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "malformed_function_call"),
    ],
)
def test_finish_reasons_are_mapped(client, fake, telemetry, instrumented, reason, expected):
    fake.push(Reply(finish_reason=reason))
    response = client.models.generate_content(model=MODEL, contents=PROMPT)
    assert response.candidates[0].finish_reason == reason
    assert telemetry.span().attributes["gen_ai.response.finish_reasons"] == (expected,)


@pytest.mark.parametrize(
    ("status", "body", "exception", "error_type"),
    [
        (429, None, errors.ClientError, "RESOURCE_EXHAUSTED"),
        (400, None, errors.ClientError, "INVALID_ARGUMENT"),
        (503, None, errors.ServerError, "UNAVAILABLE"),
        (500, {"error": {"code": 500, "message": "no status here"}}, errors.ServerError, "ServerError"),
    ],
)
def test_http_errors(client, fake, fake_server, telemetry, instrumented, status, body, exception, error_type):
    fake.push(Reply(status=status, error=body))
    with pytest.raises(exception) as raised:
        client.models.generate_content(model=MODEL, contents=PROMPT)
    assert type(raised.value) is exception and raised.value.code == status  # the SDK's own error, unchanged
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_type
    assert [e.attributes["exception.type"] for e in span.events if e.name == "exception"] == [
        f"{exception.__module__}.{exception.__qualname__}"
    ]
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {**base_attributes(fake_server), "error.type": error_type}
    assert telemetry.points(sc.METRIC_TOKEN_USAGE) == []


async def test_async_http_error(aclient, fake, telemetry, instrumented):
    fake.push(Reply(status=429))
    with pytest.raises(errors.ClientError) as raised:
        await aclient.models.generate_content(model=MODEL, contents=PROMPT)
    assert raised.value.status == "RESOURCE_EXHAUSTED"
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RESOURCE_EXHAUSTED"


TOOLS = [
    types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="get_weather",
                description="Weather for a city",
                parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}}},
            )
        ]
    ),
    types.Tool(google_search=types.GoogleSearch()),
]


def test_tool_call_and_content_capture(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"id": "call-2", "name": "get_weather", "arguments": '{"city": "Oslo"}'}]))
    contents = [
        types.Content(
            role="user",
            parts=[
                types.Part(text="Weather in Paris, then Oslo?"),
                types.Part.from_bytes(data=b"\x89PNG", mime_type="image/png"),
                types.Part.from_uri(file_uri="gs://bucket/map.pdf", mime_type="application/pdf"),
            ],
        ),
        types.Content(
            role="model",
            parts=[
                types.Part(text="Paris first.", thought=True),
                types.Part(function_call=types.FunctionCall(id="call-1", name="get_weather", args={"city": "Paris"})),
            ],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(id="call-1", name="get_weather", response={"temp_c": 21})
                )
            ],
        ),
    ]
    response = client.models.generate_content(
        model=MODEL,
        contents=contents,
        config=types.GenerateContentConfig(system_instruction="You are a weather bot.", tools=TOOLS),
    )
    assert response.function_calls[0].args == {"city": "Oslo"}
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_call",)  # Gemini says STOP for a function call
    assert decoded(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "You are a weather bot."}]
    assert decoded(attrs["gen_ai.input.messages"]) == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Weather in Paris, then Oslo?"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw=="},
                {"type": "uri", "modality": "document", "mime_type": "application/pdf", "uri": "gs://bucket/map.pdf"},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Paris first."},
                {"type": "tool_call", "id": "call-1", "name": "get_weather", "arguments": {"city": "Paris"}},
            ],
        },
        {"role": "user", "parts": [{"type": "tool_call_response", "id": "call-1", "response": {"temp_c": 21}}]},
    ]
    assert decoded(attrs["gen_ai.tool.definitions"]) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
        {"type": "google_search", "name": "google_search"},
    ]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": "call-2", "name": "get_weather", "arguments": {"city": "Oslo"}}],
        }
    ]
    assert API_KEY not in everything_exported(telemetry)


def test_plain_string_list_contents(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    client.models.generate_content(model=MODEL, contents=["first part", "second part"])
    # The SDK groups consecutive strings into one user turn; the captured messages show what was sent.
    assert decoded(telemetry.span().attributes["gen_ai.input.messages"]) == [
        {
            "role": "user",
            "parts": [{"type": "text", "content": "first part"}, {"type": "text", "content": "second part"}],
        }
    ]
    assert fake.exchanges[-1].body["contents"] == [
        {"role": "user", "parts": [{"text": "first part"}, {"text": "second part"}]}
    ]


def test_request_and_user_objects_are_not_altered(fake_server, fake, telemetry, instrument):
    contents = [
        {"role": "user", "parts": [{"text": "hello"}]},
        {"role": "model", "parts": [{"text": "hi"}]},
        "and a plain string",
    ]
    config = {"system_instruction": "sys", "temperature": 0.5, "tools": [{"google_search": {}}]}
    before = copy.deepcopy((contents, config))
    with gemini_client(fake_server) as c:
        c.models.generate_content(model=MODEL, contents=contents, config=config)
        instrument(capture_content="SPAN_AND_EVENT")
        c.models.generate_content(model=MODEL, contents=contents, config=config)
    plain, traced = fake.exchanges
    assert traced.body == plain.body and traced.path == plain.path
    assert (contents, config) == before
    assert len(telemetry.spans()) == 1


def test_no_content_and_no_key_by_default(client, fake, telemetry, instrumented):
    fake.push(Reply(text="Red, yellow, blue."))
    client.models.generate_content(
        model=MODEL, contents=PROMPT, config={"system_instruction": "Secret system prompt", "tools": TOOLS}
    )
    exported = everything_exported(telemetry)
    for secret in (PROMPT, "Red, yellow", "Secret system prompt", "get_weather", API_KEY):
        assert secret not in exported
    assert not any(
        key.startswith(("gen_ai.input", "gen_ai.output.messages", "gen_ai.system", "gen_ai.tool"))
        for key in telemetry.span().attributes
    )


def test_embeddings(client, fake, fake_server, telemetry, instrumented):
    texts = ["What is your name?", "What is your favourite colour?"]
    response = client.models.embed_content(
        model="text-embedding-test", contents=texts, config={"output_dimensionality": 16}
    )
    assert len(response.embeddings) == 2 and len(response.embeddings[0].values) == 16
    assert fake.exchanges[-1].path.endswith(":batchEmbedContents")
    span = telemetry.span()
    assert span.name == "embeddings text-embedding-test"
    assert dict(span.attributes) == {
        **base_attributes(fake_server, "text-embedding-test", "embeddings"),
        "gen_ai.embeddings.dimension.count": 16,
        "gen_ai.usage.input_tokens": sum(words(t) for t in texts),
    }
    assert tokens_by_type(telemetry) == {"input": sum(words(t) for t in texts)}


async def test_async_embeddings_and_error(aclient, fake, telemetry, instrumented):
    response = await aclient.models.embed_content(model="gemini-embedding-test", contents="one two three")
    assert telemetry.span().attributes["gen_ai.embeddings.dimension.count"] == len(response.embeddings[0].values)
    assert telemetry.span().attributes["gen_ai.usage.input_tokens"] == 3
    fake.push(Reply(status=400))
    with pytest.raises(errors.ClientError):
        await aclient.models.embed_content(model="gemini-embedding-test", contents="x")
    assert telemetry.spans()[-1].attributes["error.type"] == "INVALID_ARGUMENT"


def test_vertex_ai_client_end_to_end(fake_server, fake, telemetry, instrumented):
    with vertex_client(fake_server) as vertex:
        response = vertex.models.generate_content(model=MODEL, contents=PROMPT)
        embedded = vertex.models.embed_content(
            model="gemini-embedding-test", contents="one two", config={"output_dimensionality": 4}
        )
    assert "/projects/test-project/locations/us-central1/publishers/google/models/" in fake.exchanges[0].path
    generate, embed = telemetry.spans()
    assert dict(generate.attributes) == {
        **base_attributes(fake_server, provider="gcp.vertex_ai"),
        "gen_ai.response.id": response.response_id,
        "gen_ai.response.model": response.model_version,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": words(PROMPT),
        "gen_ai.usage.output_tokens": words(response.text),
    }
    assert embed.attributes["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert embed.attributes["gen_ai.usage.input_tokens"] == 2
    assert embed.attributes["gen_ai.embeddings.dimension.count"] == len(embedded.embeddings[0].values) == 4
    assert VERTEX_TOKEN not in everything_exported(telemetry)


def test_provider_detection_on_real_clients(fake_server):
    request = {"model": MODEL, "contents": "x"}
    with gemini_client(fake_server) as gemini, vertex_client(fake_server) as vertex:
        assert adapter.parse_generate_request(gemini.models, request).provider == "gcp.gemini"
        assert adapter.parse_generate_request(gemini.aio.models, request).provider == "gcp.gemini"
        assert adapter.parse_generate_request(vertex.aio.models, request).provider == "gcp.vertex_ai"
        override = {**request, "config": {"http_options": {"base_url": "https://proxy.example:8443/"}}}
        info = adapter.parse_generate_request(vertex.models, override)
        assert (info.provider, info.server_address, info.server_port) == ("gcp.vertex_ai", "proxy.example", 8443)
    assert adapter.parse_generate_request(object(), request).provider == "gcp.gen_ai"


def test_chat_sessions_are_traced_through_models(client, fake, telemetry, instrumented):
    chat = client.chats.create(model=MODEL)
    chat.send_message("first question")
    chat.send_message("second question")
    spans = telemetry.spans()
    assert [s.name for s in spans] == [f"generate_content {MODEL}"] * 2
    # The second turn sends the whole history: 2 user turns and 1 model turn.
    assert spans[1].attributes["gen_ai.usage.input_tokens"] == words(
        "first question echo: first question second question"
    )


def test_uninstrument_restores_the_sdk(client, fake, telemetry, instrument):
    instrumentor = instrument()
    models = google.genai.models
    assert hasattr(models.Models.__dict__["generate_content"], "__wrapped__")
    instrumentor.uninstrument()
    for cls in (models.Models, models.AsyncModels):
        for name in ("generate_content", "generate_content_stream", "embed_content"):
            assert not hasattr(cls.__dict__[name], "__wrapped__"), (cls, name)
    client.models.generate_content(model=MODEL, contents=PROMPT)
    list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))
    assert telemetry.spans() == []


def test_the_sdk_still_groups_contents():
    """The one reach-in into the SDK: the adapter records contents as the SDK's private
    ``_transformers.t_contents`` groups them into turns. If this fails, the SDK moved or changed it."""
    from google.genai import _transformers, types

    from opentelemetry_instrumentation_llm.providers import google_genai as adapter

    assert callable(getattr(_transformers, "t_contents", None)), "google.genai._transformers.t_contents is gone"
    grouped = adapter._contents(["first", types.Part(text="second")])
    assert [(c.role, [p.text for p in c.parts]) for c in grouped] == [("user", ["first", "second"])], (
        f"google.genai groups contents differently now: {grouped!r}"
    )
