"""Prompt fingerprints: stable for a template, new for a changed one, the same from every SDK and
process, keyed when asked, never the content."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from hypothesis import given, settings, strategies as st

from opentelemetry_instrumentation_llm import (
    AnthropicInstrumentor,
    OpenAIInstrumentor,
    llm_context,
    request_context,
    semconv as sc,
)
from opentelemetry_instrumentation_llm._core import fingerprint as fingerprint_module
from opentelemetry_instrumentation_llm._core.fingerprint import PromptFingerprints
from opentelemetry_instrumentation_llm.providers import PROVIDERS
from opentelemetry_instrumentation_llm.providers._templates import chat_template, plain_param
from tests.conftest import everything_exported, instrument_fixture

SYSTEM = "You are a support agent for ACME. Answer from the knowledge base; cite sources. " * 25
SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["c", "f"]},
    },
    "required": ["city"],
}
TOOLS = [
    ("get_weather", "Current weather in a city", SCHEMA),
    ("search_kb", "Search the knowledge base", {"type": "object", "properties": {"q": {"type": "string"}}}),
]


def openai_chat_tools(tools: list[tuple[str, str, Any]] = TOOLS) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": n, "description": d, "parameters": p}} for n, d, p in tools]


def responses_tools(tools: list[tuple[str, str, Any]] = TOOLS) -> list[dict[str, Any]]:
    return [{"type": "function", "name": n, "description": d, "parameters": p, "strict": False} for n, d, p in tools]


def anthropic_tools(tools: list[tuple[str, str, Any]] = TOOLS) -> list[dict[str, Any]]:
    return [{"name": n, "description": d, "input_schema": p} for n, d, p in tools]


def bedrock_tools(tools: list[tuple[str, str, Any]] = TOOLS) -> dict[str, Any]:
    return {"tools": [{"toolSpec": {"name": n, "description": d, "inputSchema": {"json": p}}} for n, d, p in tools]}


@pytest.fixture
def fingerprints() -> PromptFingerprints:
    return PromptFingerprints()


def test_the_same_template_in_every_sdks_shape_has_one_fingerprint(fingerprints):
    from google.genai import types

    expected = fingerprints.of(SYSTEM, openai_chat_tools())
    assert expected is not None and len(expected) == 16 and int(expected, 16) >= 0
    gemini_tools = [
        types.Tool(
            function_declarations=[
                types.FunctionDeclaration(name=n, description=d, parameters_json_schema=p) for n, d, p in TOOLS
            ]
        )
    ]
    shapes = {
        "openai chat, one system message": ((SYSTEM,), openai_chat_tools()),
        "openai chat, text parts": ([{"type": "text", "text": SYSTEM}], openai_chat_tools()),
        "openai responses": (SYSTEM, responses_tools()),
        "anthropic, cache_control block": (
            [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
            anthropic_tools(),
        ),
        "bedrock converse": ([{"text": SYSTEM}], bedrock_tools()),
        "google genai objects": (types.Content(parts=[types.Part(text=SYSTEM)]), gemini_tools),
    }
    for name, (system, tools) in shapes.items():
        assert fingerprints.of(system, tools) == expected, name
        assert PromptFingerprints().of(system, tools) == expected, name  # not an artefact of the cache


def test_schema_key_order_does_not_matter_but_every_change_to_the_template_does(fingerprints):
    base = fingerprints.of(SYSTEM, openai_chat_tools())
    reordered = [(n, d, dict(reversed(list(p.items())))) for n, d, p in TOOLS]
    assert fingerprints.of(SYSTEM, openai_chat_tools(reordered)) == base
    changed_schema = json.loads(json.dumps(SCHEMA))
    changed_schema["properties"]["unit"]["enum"].append("k")
    variants = {
        "system prompt": (SYSTEM + " Be brief.", openai_chat_tools()),
        "tool description": (SYSTEM, openai_chat_tools([(TOOLS[0][0], "Weather now", SCHEMA), TOOLS[1]])),
        "tool schema": (SYSTEM, openai_chat_tools([(TOOLS[0][0], TOOLS[0][1], changed_schema), TOOLS[1]])),
        "tool name": (SYSTEM, openai_chat_tools([("weather", TOOLS[0][1], SCHEMA), TOOLS[1]])),
        "a tool more": (SYSTEM, openai_chat_tools([*TOOLS, ("noop", "", {})])),
        "tool order": (SYSTEM, openai_chat_tools(TOOLS[::-1])),
        "no tools": (SYSTEM, None),
        "no system": (None, openai_chat_tools()),
    }
    found = {name: fingerprints.of(*template) for name, template in variants.items()}
    assert base not in found.values()
    assert len(set(found.values())) == len(found)


def test_no_template_no_fingerprint(fingerprints):
    assert fingerprints.of(None, None) is None
    assert fingerprints.of("", []) is None


def test_a_list_changed_between_calls_is_seen_despite_the_cache(fingerprints):
    tools = openai_chat_tools()
    before = fingerprints.of(SYSTEM, tools)
    tools.append(openai_chat_tools([("noop", "", {})])[0])
    after = fingerprints.of(SYSTEM, tools)
    assert after != before
    tools.pop()
    assert fingerprints.of(SYSTEM, tools) == before


def test_a_template_rebuilt_for_every_call_is_recognised_by_content(fingerprints):
    before = fingerprints.of(SYSTEM, openai_chat_tools())
    rebuilt = json.loads(json.dumps(openai_chat_tools()))
    assert fingerprints.of(SYSTEM, rebuilt) == before
    rebuilt[1]["function"]["parameters"]["properties"]["q"]["type"] = "integer"
    assert fingerprints.of(SYSTEM, json.loads(json.dumps(rebuilt))) != before
    assert (
        fingerprints.of([{"type": "text", "text": SYSTEM}], None)
        == fingerprints.of([{"type": "text", "text": SYSTEM}], None)
        == fingerprints.of(SYSTEM, None)
    )


def test_a_list_rebuilt_for_every_call_is_answered_without_serialising_it(fingerprints, monkeypatch):
    """The Agents SDK builds its tool list afresh for every model call: after the first, equal
    rebuilds are recognised without marshal; a changed one is still seen, and mutating a list the
    caller passed earlier changes nothing for later calls."""
    first = responses_tools()
    before = fingerprints.of(SYSTEM, first)
    serialised: list[Any] = []
    real_dumps = fingerprint_module.marshal.dumps
    monkeypatch.setattr(fingerprint_module.marshal, "dumps", lambda v: serialised.append(v) or real_dumps(v))
    for _ in range(3):
        assert fingerprints.of(SYSTEM, json.loads(json.dumps(responses_tools()))) == before
    assert serialised == []
    first[0]["parameters"] = {"type": "object"}  # the caller reuses and changes its own list
    assert fingerprints.of(SYSTEM, responses_tools()) == before
    changed = responses_tools()
    changed[1]["description"] = "Search the archive"
    assert fingerprints.of(SYSTEM, changed) != before
    assert len(serialised) == 1
    assert fingerprints.of(SYSTEM, responses_tools()) == before
    other = fingerprints.of(SYSTEM, json.loads(json.dumps(changed)))
    for _ in range(3):  # two agents' lists in turn: both answered without serialising again
        assert fingerprints.of(SYSTEM, responses_tools()) == before
        assert fingerprints.of(SYSTEM, json.loads(json.dumps(changed))) == other
    assert len(serialised) == 1


def test_the_caches_stay_bounded():
    fingerprints = PromptFingerprints(max_entries=8)
    for i in range(100):
        assert fingerprints.of(f"system {i}", openai_chat_tools()) is not None
    assert len(fingerprints._final) <= 8
    assert len(fingerprints._system._by_content) <= 8
    assert len(fingerprints._tools._by_identity) <= 8


def test_keyed_fingerprints_differ_from_plain_ones_and_by_key():
    plain = PromptFingerprints().of(SYSTEM, openai_chat_tools())
    keyed = PromptFingerprints(b"key-1").of(SYSTEM, openai_chat_tools())
    assert keyed != plain
    assert PromptFingerprints(b"key-1").of(SYSTEM, anthropic_tools()) == keyed
    assert PromptFingerprints(b"key-2").of(SYSTEM, openai_chat_tools()) != keyed
    assert PromptFingerprints(b"key-1").keyed and not PromptFingerprints().keyed


_CHILD = """
import json, sys
from opentelemetry_instrumentation_llm._core import fingerprint as fingerprint_module
from opentelemetry_instrumentation_llm._core.fingerprint import PromptFingerprints
from opentelemetry_instrumentation_llm.providers import PROVIDERS
from opentelemetry_instrumentation_llm.providers._templates import chat_template, plain_param
system, tools, key = json.loads(sys.stdin.read())
print(PromptFingerprints(key.encode() if key else None).of(system, tools))
"""


@pytest.mark.parametrize("key", [None, "shared"])
def test_other_processes_compute_the_same_fingerprint(key):
    here = PromptFingerprints(key.encode() if key else None).of(SYSTEM, anthropic_tools())
    for seed in ("1", "2"):  # str hashing differs between these processes
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=json.dumps([SYSTEM, openai_chat_tools(), key]),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert done.stdout.strip() == here


texts = st.text(min_size=1, max_size=200)


@settings(max_examples=100, deadline=None)
@given(a=texts, b=texts)
def test_fingerprints_are_equal_exactly_when_system_prompts_are(a, b):
    fingerprints = PromptFingerprints()
    assert (fingerprints.of(a, None) == fingerprints.of(b, None)) == (a == b)
    assert (fingerprints.of(a, openai_chat_tools()) == fingerprints.of(b, openai_chat_tools())) == (a == b)


@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_the_fingerprint_never_contains_the_content(text):
    fingerprint = PromptFingerprints().of(text, openai_chat_tools())
    assert fingerprint is not None and len(fingerprint) == 16
    assert set(fingerprint) <= set("0123456789abcdef")


# ------------------------------------------------------------------------------------ through the real SDKs

instrument_openai = instrument_fixture(OpenAIInstrumentor)
instrument_anthropic = instrument_fixture(AnthropicInstrumentor)
FINGERPRINT = "llm.prompt.fingerprint"


def openai_client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=server.openai_base_url, max_retries=0)


def chat(client: openai.OpenAI, question: str, system: str = SYSTEM, tools: Any = None) -> Any:
    return client.chat.completions.create(
        model="gpt-4o",
        tools=openai_chat_tools() if tools is None else tools,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
    )


def metric_fingerprints(telemetry: Any, name: str) -> list[Any]:
    return [p.attributes.get(FINGERPRINT) for p in telemetry.points(name)]


def test_requests_differing_only_in_user_content_share_a_fingerprint(fake_server, fake, telemetry, instrument_openai):
    instrument_openai()
    with openai_client(fake_server) as client:
        chat(client, "Where is my parcel?")
        chat(client, "How do I reset my password? My email is jane@example.com")
        chat(client, "Where is my parcel?", system=SYSTEM + " Always answer in French.")
        client.embeddings.create(model="text-embedding-3-small", input="no template here")
    first, second, changed, embedding = telemetry.spans()
    assert (
        first.attributes[FINGERPRINT]
        == second.attributes[FINGERPRINT]
        == PromptFingerprints().of(SYSTEM, openai_chat_tools())
    )
    assert changed.attributes[FINGERPRINT] != first.attributes[FINGERPRINT]
    assert FINGERPRINT not in embedding.attributes
    durations = {p.attributes.get(FINGERPRINT) for p in telemetry.points(sc.METRIC_OPERATION_DURATION)}
    assert durations == {first.attributes[FINGERPRINT], changed.attributes[FINGERPRINT], None}
    assert set(metric_fingerprints(telemetry, sc.METRIC_TOKEN_USAGE)) >= {first.attributes[FINGERPRINT]}


def test_no_content_is_exported_when_capture_is_off(fake_server, fake, telemetry, instrument_openai):
    instrument_openai()
    with openai_client(fake_server) as client, llm_context(user_id="u-1"):
        chat(client, "my secret question about invoice 4471")
    exported = everything_exported(telemetry)
    for content in ("ACME", "Current weather in a city", "City name", "get_weather", "invoice 4471"):
        assert content not in exported, content
    assert telemetry.span().attributes[FINGERPRINT] in exported


def test_the_same_template_from_three_apis_has_one_fingerprint(
    fake_server, fake, telemetry, instrument_openai, instrument_anthropic
):
    instrument_openai()
    instrument_anthropic()
    with openai_client(fake_server) as client:
        chat(client, "question one")
        client.responses.create(model="gpt-4o", instructions=SYSTEM, tools=responses_tools(), input="question two")
    with anthropic.Anthropic(api_key="sk-ant-test", base_url=fake_server.anthropic_base_url, max_retries=0) as c:
        c.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=64,
            tools=anthropic_tools(),
            system=[{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": "question three"}],
        )
    fingerprints = [span.attributes.get(FINGERPRINT) for span in telemetry.spans()]
    assert len(fingerprints) == 3 and len(set(fingerprints)) == 1, fingerprints
    assert fingerprints[0] == PromptFingerprints().of(SYSTEM, openai_chat_tools())


def test_a_named_prompt_takes_precedence_on_metrics_and_stands_beside_the_fingerprint(
    fake_server, fake, telemetry, instrument_openai
):
    instrument_openai()
    with openai_client(fake_server) as client, llm_context(prompt_name="support", prompt_version="7"):
        chat(client, "hello")
    span = telemetry.span()
    assert span.attributes["gen_ai.prompt.name"] == "support" and span.attributes["gen_ai.prompt.version"] == "7"
    assert len(span.attributes[FINGERPRINT]) == 16
    for name in (sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE):
        for point in telemetry.points(name):
            assert point.attributes["gen_ai.prompt.name"] == "support", name
            assert point.attributes["gen_ai.prompt.version"] == "7", name
            assert FINGERPRINT not in point.attributes, name


def test_fingerprints_on_metrics_are_capped_like_the_request_context(
    fake_server, fake, telemetry, instrument_openai, monkeypatch
):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_METRIC_CONTEXT_MAX_VALUES", "2")
    request_context.reset()
    try:
        instrument_openai()
        with openai_client(fake_server) as client:
            for i in range(5):
                chat(client, "same question", system=f"{SYSTEM} variant {i}")
    finally:
        request_context.reset()
    on_spans = [span.attributes[FINGERPRINT] for span in telemetry.spans()]
    assert len(set(on_spans)) == 5  # spans keep every value
    on_metrics = set(metric_fingerprints(telemetry, sc.METRIC_OPERATION_DURATION))
    assert on_metrics == {*on_spans[:2], "_OTHER"}


def test_fingerprints_are_keyed_when_redaction_is_on(fake_server, fake, telemetry, instrument_openai, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_REDACT", "all")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_REDACT_HASH_KEY", "shared-secret")
    instrument_openai()
    with openai_client(fake_server) as client:
        chat(client, "hello")
    found = telemetry.span().attributes[FINGERPRINT]
    assert found == PromptFingerprints(b"shared-secret").of(SYSTEM, openai_chat_tools())
    assert found != PromptFingerprints().of(SYSTEM, openai_chat_tools())


def test_fingerprints_can_be_switched_off(fake_server, fake, telemetry, instrument_openai, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_PROMPT_FINGERPRINT", "false")
    instrument_openai()
    with openai_client(fake_server) as client:
        chat(client, "hello")
    assert FINGERPRINT not in telemetry.span().attributes
    assert set(metric_fingerprints(telemetry, sc.METRIC_OPERATION_DURATION)) == {None}


def test_a_generator_of_messages_is_never_consumed():
    messages = iter([{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hi"}])
    assert chat_template(plain_param)({"messages": messages}) == (None, None)
    assert next(messages)["role"] == "system"


def _chat_params() -> dict[str, Any]:
    return {
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hi"}],
        "tools": openai_chat_tools(),
    }


def _cohere_params() -> dict[str, Any]:
    from cohere import SystemChatMessageV2, UserChatMessageV2

    return {
        "messages": [SystemChatMessageV2(content=SYSTEM), UserChatMessageV2(content="hi")],
        "tools": openai_chat_tools(),
    }


def _gemini_params() -> dict[str, Any]:
    from google.genai import types

    declarations = [types.FunctionDeclaration(name=n, description=d, parameters_json_schema=p) for n, d, p in TOOLS]
    return {
        "contents": "hi",
        "config": types.GenerateContentConfig(
            system_instruction=SYSTEM, tools=[types.Tool(function_declarations=declarations)]
        ),
    }


# (adapter, target of the wrapped method, the parameters it receives as a user would pass them)
ADAPTER_CALLS: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
    ("openai", "Completions.create", _chat_params),
    ("openai", "Responses.create", lambda: {"instructions": SYSTEM, "tools": responses_tools(), "input": "hi"}),
    ("anthropic", "Messages.create", lambda: {"system": SYSTEM, "tools": anthropic_tools(), "messages": []}),
    ("groq", "Completions.create", _chat_params),
    ("mistralai", "Chat.complete", _chat_params),
    ("litellm", "completion", _chat_params),
    ("ollama", "Client.chat", _chat_params),
    ("cohere", "RawV2Client.chat", _cohere_params),
    ("google_genai", "Models.generate_content", _gemini_params),
    (
        "bedrock",
        "BaseClient._make_api_call",
        lambda: {
            "__operation__": "Converse",
            "system": [{"text": SYSTEM}],
            "toolConfig": bedrock_tools(),
            "messages": [],
        },
    ),
]


@pytest.mark.parametrize(("adapter", "target", "params"), ADAPTER_CALLS, ids=lambda v: v if isinstance(v, str) else "")
def test_every_adapter_reads_the_same_template_to_the_same_fingerprint(adapter, target, params):
    spec = importlib.import_module(PROVIDERS[adapter].adapter).spec()
    endpoint = next(e for e in spec.endpoints if e.target == target and not e.is_async)
    assert endpoint.parse_template is not None
    expected = PromptFingerprints().of(SYSTEM, openai_chat_tools())
    assert PromptFingerprints().of(*endpoint.parse_template(params())) == expected


def test_sdk_sentinels_and_other_operations_are_no_template():
    from openai import NOT_GIVEN

    spec = importlib.import_module(PROVIDERS["openai"].adapter).spec()
    chat = next(e for e in spec.endpoints if e.target == "Completions.create")
    assert chat.parse_template({"messages": [{"role": "user", "content": "hi"}], "tools": NOT_GIVEN}) == (None, None)
    bedrock = importlib.import_module(PROVIDERS["bedrock"].adapter).spec().endpoints[0]
    assert bedrock.parse_template({"__operation__": "InvokeModel", "body": b"{}"}) == (None, None)


def test_python_functions_as_tools_hash_alike_in_every_process():
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return city

    one = PromptFingerprints().of(SYSTEM, [get_weather])
    assert one == PromptFingerprints().of(SYSTEM, [get_weather]) and one != PromptFingerprints().of(SYSTEM, None)
    assert "0x" not in json.dumps(fingerprint_module._plain(get_weather))
