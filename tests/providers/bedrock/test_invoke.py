"""Bedrock InvokeModel: model-native bodies (Anthropic Messages, Meta Llama, Amazon Titan text and
embeddings, Cohere embed), and the response body the user still reads, byte for byte."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import IncompleteReadError
from botocore.response import StreamingBody

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.providers import bedrock as adapter
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded
from tests.providers.bedrock.conftest import (
    LLAMA,
    MODEL,
    TITAN,
    anthropic_body,
    base_attributes,
    body,
    words,
)

PROMPT = "Write one line about tracing."


def invoke(client: Any, model: str, payload: bytes | str) -> Any:
    return client.invoke_model(modelId=model, body=payload, contentType="application/json", accept="application/json")


def test_anthropic_body(client, fake, fake_server, telemetry, instrumented):
    usage = {"input_tokens": 10, "output_tokens": 7, "cache_read_input_tokens": 200, "cache_creation_input_tokens": 5}
    fake.push(Reply(text="Spans connect the dots.", usage=usage))
    result = invoke(client, MODEL, anthropic_body(PROMPT, temperature=0.2, top_p=0.8, top_k=30, stop_sequences=["END"]))
    message = json.loads(result["body"].read())
    assert message["content"] == [{"type": "text", "text": "Spans connect the dots."}]
    span = telemetry.span()
    assert span.name == f"chat {MODEL}"
    assert dict(span.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.8,
        "gen_ai.request.top_k": 30,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.response.id": message["id"],
        "gen_ai.response.model": message["model"],
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 10 + 200 + 5,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 200,
        "gen_ai.usage.cache_write.input_tokens": 5,
    }
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": 215, "output": 7}


def test_the_body_reads_exactly_as_without_instrumentation(client, fake, telemetry, instrument):
    payload = anthropic_body(PROMPT)

    def reads() -> list[Any]:
        result = invoke(client, MODEL, payload)
        stream = result["body"]
        return [type(stream), stream.read(5), stream.read(), stream.read(), stream.tell()]

    def lines() -> list[bytes]:
        return list(invoke(client, MODEL, payload)["body"].iter_lines())

    plain, plain_lines = reads(), lines()
    assert telemetry.spans() == []
    instrument()
    assert reads() == plain
    assert lines() == plain_lines
    assert plain[0] is StreamingBody and plain[2] != b"" and plain[3] == b""
    assert len(telemetry.spans()) == 2


def test_llama_prompt_is_a_text_completion(client, fake, fake_server, telemetry, instrumented):
    result = invoke(client, LLAMA, body({"prompt": PROMPT, "max_gen_len": 128, "temperature": 0.5, "top_p": 0.9}))
    generation = json.loads(result["body"].read())
    assert generation["generation"] == f"echo: {PROMPT}"
    span = telemetry.span()
    assert span.name == f"text_completion {LLAMA}"
    assert dict(span.attributes) == {
        **base_attributes(fake_server, LLAMA, "text_completion"),
        "gen_ai.request.max_tokens": 128,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": words(PROMPT),
        "gen_ai.usage.output_tokens": words(f"echo: {PROMPT}"),
    }


@pytest.mark.parametrize(
    ("reason", "expected"), [("FINISH", "stop"), ("LENGTH", "length"), ("CONTENT_FILTERED", "content_filter")]
)
def test_titan_text(client, fake, fake_server, telemetry, instrumented, reason, expected):
    fake.push(Reply(finish_reason=reason))
    config = {"maxTokenCount": 64, "temperature": 0.0, "topP": 1, "stopSequences": ["User:"]}
    result = invoke(client, TITAN, json.dumps({"inputText": PROMPT, "textGenerationConfig": config}))
    answer = json.loads(result["body"].read())["results"][0]
    assert answer["completionReason"] == reason
    assert dict(telemetry.span().attributes) == {
        **base_attributes(fake_server, TITAN, "text_completion"),
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.temperature": 0.0,
        "gen_ai.request.top_p": 1.0,
        "gen_ai.request.stop_sequences": ("User:",),
        "gen_ai.response.finish_reasons": (expected,),
        "gen_ai.usage.input_tokens": words(PROMPT),
        "gen_ai.usage.output_tokens": answer["tokenCount"],
    }


def test_titan_embeddings(client, fake, fake_server, telemetry, instrumented):
    model = "amazon.titan-embed-text-v2:0"
    result = invoke(client, model, body({"inputText": PROMPT, "dimensions": 8, "normalize": True}))
    assert len(json.loads(result["body"].read())["embedding"]) == 8
    assert dict(telemetry.span().attributes) == {
        **base_attributes(fake_server, model, "embeddings"),
        "gen_ai.embeddings.dimension.count": 8,
        "gen_ai.usage.input_tokens": words(PROMPT),
    }
    assert [p.attributes["gen_ai.token.type"] for p in telemetry.points(sc.METRIC_TOKEN_USAGE)] == ["input"]


def test_cohere_embeddings_usage_from_the_bedrock_headers(client, fake, fake_server, telemetry, instrumented):
    # Cohere's body has no usage; Bedrock reports the counts in response headers on every InvokeModel.
    fake.push(Reply(headers={"X-Amzn-Bedrock-Input-Token-Count": "6", "X-Amzn-Bedrock-Output-Token-Count": "0"}))
    model = "cohere.embed-english-v3"
    result = invoke(
        client,
        model,
        body({"texts": ["first text", "second one"], "input_type": "search_document", "embedding_types": ["float"]}),
    )
    answer = json.loads(result["body"].read())
    assert dict(telemetry.span().attributes) == {
        **base_attributes(fake_server, model, "embeddings"),
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.response.id": answer["id"],
        "gen_ai.embeddings.dimension.count": len(answer["embeddings"][0]),
        "gen_ai.usage.input_tokens": 6,
        "gen_ai.usage.output_tokens": 0,
    }


def test_content_capture_of_an_anthropic_body(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"id": "toolu_1", "name": "lookup", "arguments": '{"q": "otel"}'}]))
    invoke(
        client,
        MODEL,
        anthropic_body(
            PROMPT,
            system="You are terse.",
            tools=[{"name": "lookup", "description": "Search", "input_schema": {"type": "object"}}],
        ),
    )
    attrs = telemetry.span().attributes
    assert decoded(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "You are terse."}]
    assert decoded(attrs["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert decoded(attrs["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "lookup", "description": "Search", "parameters": {"type": "object"}}
    ]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": "toolu_1", "name": "lookup", "arguments": {"q": "otel"}}],
        }
    ]


def test_content_capture_of_a_prompt_body(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    invoke(client, LLAMA, body({"prompt": PROMPT}))
    attrs = telemetry.span().attributes
    assert decoded(attrs["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": f"echo: {PROMPT}"}]}
    ]


def test_a_body_whose_read_fails_fails_the_same_way_for_the_user():
    # A body shorter than its Content-Length: botocore raises IncompleteReadError on read().
    result = {"body": StreamingBody(io.BytesIO(b'{"generation": "par'), 100)}
    info = adapter.parse_response(result, False)
    assert info.error_type == "IncompleteReadError"
    with pytest.raises(IncompleteReadError):
        result["body"].read()


def test_other_model_families_are_read_by_their_body_shape(client):
    """Bodies the fake does not speak (Amazon Nova, Mistral, Cohere Command), mapped from plain dicts."""
    nova = adapter.parse_request(
        client,
        {
            adapter.OPERATION_KEY: "InvokeModel",
            "modelId": "amazon.nova-lite-v1:0",
            "body": body(
                {
                    "messages": [{"role": "user", "content": [{"text": "hi"}]}],
                    "inferenceConfig": {"max_new_tokens": 50, "topK": 20},
                }
            ),
        },
    )
    assert nova is not None and nova.operation == "chat"
    assert nova.attributes == {"gen_ai.request.max_tokens": 50, "gen_ai.request.top_k": 20}
    mistral = adapter.parse_request(
        client,
        {
            adapter.OPERATION_KEY: "InvokeModelWithResponseStream",
            "modelId": "mistral.mistral-7b-instruct-v0:2",
            "body": body({"prompt": "<s>[INST] hi [/INST]", "max_tokens": 9, "top_k": 5, "stop": ["</s>"]}),
        },
    )
    assert mistral is not None and mistral.operation == "text_completion" and mistral.stream is True
    assert mistral.attributes == {
        "gen_ai.request.max_tokens": 9,
        "gen_ai.request.top_k": 5,
        "gen_ai.request.stop_sequences": ["</s>"],
    }

    nova_out = adapter.parse_invoke_body(
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "Hi!"}]}},
            "stopReason": "max_tokens",
            "usage": {"inputTokens": 3, "outputTokens": 2, "cacheReadInputTokens": 4},
        },
        True,
    )
    assert nova_out is not None and nova_out.finish_reasons == ["length"]
    assert (nova_out.usage.input_tokens, nova_out.usage.cache_read_tokens) == (7, 4)  # type: ignore[union-attr]
    assert nova_out.output_messages == [
        {"role": "assistant", "finish_reason": "length", "parts": [{"type": "text", "content": "Hi!"}]}
    ]
    mistral_out = adapter.parse_invoke_body({"outputs": [{"text": "Hi", "stop_reason": "length"}]}, False)
    assert mistral_out is not None and mistral_out.finish_reasons == ["length"]
    cohere_out = adapter.parse_invoke_body(
        {"id": "c-1", "generations": [{"text": "Hi", "finish_reason": "COMPLETE"}]}, False
    )
    assert cohere_out is not None and (cohere_out.response_id, cohere_out.finish_reasons) == ("c-1", ["stop"])
    command_r = adapter.parse_invoke_body(
        {"text": "Hi", "finish_reason": "MAX_TOKENS", "response_id": "r-1", "generation_id": "g-1"}, False
    )
    assert command_r is not None and (command_r.response_id, command_r.finish_reasons) == ("r-1", ["length"])
    openai_style = adapter.parse_invoke_body(
        {
            "id": "chatcmpl-1",
            "model": "openai.gpt-oss-20b-1:0",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1},
        },
        True,
    )
    assert openai_style is not None and openai_style.response_id == "chatcmpl-1"
    assert (openai_style.usage.input_tokens, openai_style.usage.output_tokens) == (5, 1)  # type: ignore[union-attr]
    assert openai_style.output_messages == [
        {"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "Hi"}]}
    ]


def test_calls_without_a_readable_body_are_still_traced(client, fake, fake_server, telemetry, instrumented):
    # A file object is the user's to read: the adapter never consumes it, and the operation comes from the model id.
    result = client.invoke_model(modelId=LLAMA, body=io.BytesIO(body({"prompt": PROMPT})))
    assert json.loads(result["body"].read())["generation"] == f"echo: {PROMPT}"
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.usage.output_tokens"] == words(f"echo: {PROMPT}")


def test_chat_completions_bodies_map_as_chat_completions(client):
    """Mistral Large / gpt-oss bodies are OpenAI Chat Completions: read by the shared Chat Completions mapping."""
    params = {
        adapter.OPERATION_KEY: "InvokeModel",
        "modelId": "openai.gpt-oss-20b-1:0",
        "body": body(
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "hi"},
                    {"role": "tool", "tool_call_id": "call_1", "content": "42"},
                ],
                "max_completion_tokens": 20,
                "temperature": 0.5,
                "stop": "END",
                "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
            }
        ),
    }
    request = adapter.parse_request(client, params)
    assert request is not None and request.operation == "chat"
    assert request.attributes == {
        "gen_ai.request.max_tokens": 20,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.stop_sequences": ["END"],
    }
    content = adapter.parse_content(params)
    assert content.input_messages == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "42"}]},
    ]
    assert content.tool_definitions == [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]
