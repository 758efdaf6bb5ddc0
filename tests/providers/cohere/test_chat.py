"""Cohere v2 ``chat`` and ``embed``, sync and async: attributes, usage, finish reasons, content,
errors, uninstrumentation. The real ``cohere`` SDK talks HTTP to the fake server."""

from __future__ import annotations

from typing import Any

import cohere
import pytest
from cohere.v2.raw_client import AsyncRawV2Client, RawV2Client
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, everything_exported, fingerprint_attribute
from tests.providers.cohere.conftest import API_KEY, MODEL, base_attributes

# The prompt fingerprint these calls' system instructions give (llm.prompt.fingerprint).
TEMPLATE = fingerprint_attribute("Be brief.")

# The SDK itself (not this package) uses a pydantic API deprecated in pydantic 2.
pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated:DeprecationWarning")

PROMPT = "Name three primary colours please"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}]


def words(text: str) -> int:
    return len(text.split())


PROMPT_WORDS = words("Be brief.") + words(PROMPT)


def test_sync_chat_span_attributes_and_metrics(client, fake, fake_server, telemetry, instrumented):
    response = client.chat(
        model=MODEL,
        messages=MESSAGES,
        temperature=0.3,
        p=0.9,
        k=40,
        max_tokens=64,
        stop_sequences=["\n\n"],
        seed=7,
        frequency_penalty=0.2,
        presence_penalty=0.1,
        response_format={"type": "json_object"},
    )
    span = telemetry.span()
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    output_words = words(response.message.content[0].text)
    assert dict(span.attributes) == {
        **(base_attributes(fake_server) | TEMPLATE),
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.stop_sequences": ("\n\n",),
        "gen_ai.request.seed": 7,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.output.type": "json",
        "gen_ai.response.id": response.id,
        "gen_ai.response.finish_reasons": ("stop",),  # COMPLETE; Cohere names no response model
        "gen_ai.usage.input_tokens": PROMPT_WORDS,
        "gen_ai.usage.output_tokens": output_words,
    }
    assert isinstance(span.attributes["gen_ai.usage.input_tokens"], int)  # the API's floats, as ints
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": PROMPT_WORDS, "output": output_words}
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == (base_attributes(fake_server) | TEMPLATE)


async def test_async_chat(aclient, fake, fake_server, telemetry, instrumented):
    response = await aclient.chat(model=MODEL, messages=MESSAGES, max_tokens=32)
    assert dict(telemetry.span().attributes) == {
        **(base_attributes(fake_server) | TEMPLATE),
        "gen_ai.request.max_tokens": 32,
        "gen_ai.response.id": response.id,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": PROMPT_WORDS,
        "gen_ai.usage.output_tokens": words(response.message.content[0].text),
    }


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
        ("TOOL_CALL", "tool_call"),
    ],
)
def test_finish_reasons_are_mapped(client, fake, telemetry, instrumented, native, expected):
    fake.push(Reply(finish_reason=native))
    assert client.chat(model=MODEL, messages=MESSAGES).finish_reason == native
    span = telemetry.span()
    assert span.attributes["gen_ai.response.finish_reasons"] == (expected,)
    assert span.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("native", ["ERROR", "TIMEOUT"])
def test_a_failed_generation_returned_normally_is_an_error(client, fake, fake_server, telemetry, instrumented, native):
    fake.push(Reply(finish_reason=native))
    assert client.chat(model=MODEL, messages=MESSAGES).finish_reason == native  # the SDK does not raise
    span = telemetry.span()
    assert span.attributes["gen_ai.response.finish_reasons"] == (native.lower(),)
    assert span.attributes["error.type"] == native.lower()
    assert span.status.status_code is StatusCode.ERROR
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {**(base_attributes(fake_server) | TEMPLATE), "error.type": native.lower()}


def test_tokens_are_preferred_over_billed_units(client, fake, telemetry, instrumented):
    fake.push(
        Reply(
            usage={
                "billed_units": {"input_tokens": 5, "output_tokens": 7},
                "tokens": {"input_tokens": 71, "output_tokens": 9},
                "cached_tokens": 64,
            }
        )
    )
    client.chat(model=MODEL, messages=MESSAGES)
    attrs = telemetry.span().attributes
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (71, 9)
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 64


async def test_embed_sync_and_async(client, aclient, fake, fake_server, telemetry, instrumented):
    texts = ["the quick brown fox", "jumps"]
    response = client.embed(
        model="embed-v4.0",
        texts=texts,
        input_type="search_document",
        embedding_types=["float", "int8"],
        output_dimension=16,
    )
    assert len(response.embeddings.float_[0]) == 16
    response_async = await aclient.embed(model="embed-v4.0", texts=["one two three"], input_type="search_query")
    first, second = telemetry.spans()
    assert first.name == "embeddings embed-v4.0"
    assert dict(first.attributes) == {
        **base_attributes(fake_server, "embed-v4.0", "embeddings"),
        "gen_ai.request.encoding_formats": ("float", "int8"),
        "gen_ai.embeddings.dimension.count": 16,
        "gen_ai.response.id": response.id,
        "gen_ai.usage.input_tokens": sum(words(t) for t in texts),  # from billed_units: embed sends no tokens
    }
    assert dict(second.attributes) == {
        **base_attributes(fake_server, "embed-v4.0", "embeddings"),
        "gen_ai.embeddings.dimension.count": len(response_async.embeddings.float_[0]),
        "gen_ai.response.id": response_async.id,
        "gen_ai.usage.input_tokens": 3,
    }


def test_tool_calls_and_content_capture(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"id": "get_weather_p1", "name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    messages = [
        cohere.SystemChatMessageV2(content="You are a weather bot."),
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Lyon?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/lyon.png"}},
            ],
        },
        cohere.AssistantChatMessageV2(
            tool_plan="I will look up Lyon.",
            tool_calls=[
                cohere.ToolCallV2(
                    id="get_weather_l1",
                    type="function",
                    function=cohere.ToolCallV2Function(name="get_weather", arguments='{"city": "Lyon"}'),
                )
            ],
        ),
        {
            "role": "tool",
            "tool_call_id": "get_weather_l1",
            "content": [{"type": "document", "document": {"data": {"temperature": "18C"}}}],
        },
        {"role": "user", "content": "And in Paris?"},
    ]
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Current weather", "parameters": {"type": "object"}},
        }
    ]
    response = client.chat(model=MODEL, messages=messages, tools=tools)
    attrs = telemetry.span().attributes
    assert decoded(attrs["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are a weather bot."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Weather in Lyon?"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/lyon.png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "I will look up Lyon."},
                {"type": "tool_call", "id": "get_weather_l1", "name": "get_weather", "arguments": {"city": "Lyon"}},
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "get_weather_l1", "response": [{"temperature": "18C"}]}],
        },
        {"role": "user", "parts": [{"type": "text", "content": "And in Paris?"}]},
    ]
    assert decoded(attrs["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "get_weather", "description": "Current weather", "parameters": {"type": "object"}}
    ]
    call = response.message.tool_calls[0]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [
                {"type": "reasoning", "content": response.message.tool_plan},
                {"type": "tool_call", "id": call.id, "name": call.function.name, "arguments": {"city": "Paris"}},
            ],
        }
    ]


def test_no_content_and_no_api_key_by_default(client, fake, telemetry, instrumented):
    fake.push(Reply(text="Red, yellow and blue."))
    client.chat(
        model=MODEL,
        messages=MESSAGES,
        tools=[{"type": "function", "function": {"name": "secret_tool", "parameters": {}}}],
    )
    assert fake.exchanges[0].headers["authorization"] == f"Bearer {API_KEY}"  # the key was used...
    exported = everything_exported(telemetry)
    for secret in (PROMPT, "Be brief", "Red, yellow", "secret_tool", API_KEY):  # ...and never recorded
        assert secret not in exported
    assert telemetry.logs() == []


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (429, cohere.TooManyRequestsError, "TooManyRequestsError"),
        (500, cohere.InternalServerError, "InternalServerError"),
        (418, cohere.core.ApiError, "418"),  # no dedicated class: the status code
    ],
)
def test_http_errors(client, fake, fake_server, telemetry, instrument, status, exception, error_type):
    def call() -> BaseException:
        fake.push(Reply(status=status))
        with pytest.raises(exception) as raised:
            client.chat(model=MODEL, messages=MESSAGES)
        return raised.value

    plain = call()
    instrument()
    observed = call()
    assert type(observed) is type(plain)  # the user's exception, unchanged
    assert (
        (observed.status_code, observed.body)
        == (plain.status_code, plain.body)
        == (status, {"message": f"fake error {status}"})
    )
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_type
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {**(base_attributes(fake_server) | TEMPLATE), "error.type": error_type}


def test_clients_built_before_instrument_and_uninstrument_both_behave(client, fake_server, fake, telemetry, instrument):
    """ClientV2 binds its chat methods into each instance when built: only the raw client is wrapped."""
    names = ("chat", "chat_stream", "embed")
    originals = {(cls, name): cls.__dict__[name] for cls in (RawV2Client, AsyncRawV2Client) for name in names}
    instrumentor = instrument()  # `client` was built before this
    assert all(cls.__dict__[name] is not original for (cls, name), original in originals.items())
    client.chat(model=MODEL, messages=MESSAGES)
    assert len(telemetry.spans()) == 1
    with cohere.ClientV2(api_key=API_KEY, base_url=fake_server.url, max_retries=0) as built_while_instrumented:
        instrumentor.uninstrument()
        assert all(cls.__dict__[name] is original for (cls, name), original in originals.items())
        built_while_instrumented.chat(model=MODEL, messages=MESSAGES)
        list(built_while_instrumented.chat_stream(model=MODEL, messages=MESSAGES))
        built_while_instrumented.embed(model="embed-v4.0", texts=["x"], input_type="search_query")
    client.chat(model=MODEL, messages=MESSAGES)
    assert len(telemetry.spans()) == 1


def test_with_raw_response_is_traced(client, fake, telemetry, instrumented):
    raw = client.with_raw_response.chat(model=MODEL, messages=MESSAGES)
    assert raw.status_code == 200
    assert telemetry.span().attributes["gen_ai.response.id"] == raw.data.id


def test_cost_from_the_price_catalogue(client, fake, telemetry, instrument, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_COST", "true")
    instrument()
    client.chat(model=MODEL, messages=MESSAGES)  # priced by the request model: responses name none
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.usage.cost.currency"] == "USD" and attrs["gen_ai.usage.cost.amount"] > 0


def test_provider_and_server_of_other_clients():
    from opentelemetry_instrumentation_llm.providers import cohere as adapter

    def facts(client: Any) -> tuple[Any, ...]:
        request = adapter.parse_chat_request(client._raw_client._v2, {"model": MODEL})  # what the raw client sees
        return request.provider, request.server_address, request.server_port

    with cohere.ClientV2(api_key=API_KEY) as default:
        assert facts(default) == ("cohere", "api.cohere.com", 443)
    bedrock = cohere.BedrockClientV2(aws_region="eu-west-3", aws_access_key="AKIAFAKE", aws_secret_key="fake")
    assert facts(bedrock) == ("aws.bedrock", "bedrock-runtime.eu-west-3.amazonaws.com", 443)
    sagemaker = cohere.SagemakerClientV2(aws_region="us-east-1", aws_access_key="AKIAFAKE", aws_secret_key="fake")
    assert facts(sagemaker) == ("cohere", "runtime.sagemaker.us-east-1.amazonaws.com", 443)


def test_aws_hook_settings_still_readable():
    """The one reach-in into the SDK: an AWS client's service and region live only in the closure of its
    request hook. If this fails, the SDK changed how it builds that hook: update ``aws_hook_settings``."""
    from opentelemetry_instrumentation_llm.providers import cohere as adapter

    client = cohere.BedrockClientV2(aws_region="ap-south-1", aws_access_key="AKIAFAKE", aws_secret_key="fake")
    wrapper = client._raw_client._v2._client_wrapper
    hooks = wrapper.httpx_client.httpx_client.event_hooks["request"]
    aws_hooks = [hook for hook in hooks if getattr(hook, "__module__", "") == "cohere.aws_client"]
    assert aws_hooks, "cohere's Bedrock client no longer re-addresses requests in a cohere.aws_client request hook"
    settings = adapter.aws_hook_settings(aws_hooks[0])
    assert settings.get("service") == "bedrock" and settings.get("aws_region") == "ap-south-1", (
        f"cohere's AWS request hook no longer keeps service and aws_region in its closure: {sorted(settings)}"
    )
