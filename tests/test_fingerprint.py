"""Prompt fingerprints: stable for a template, new for a changed one, the same from every SDK and
process, keyed when asked, never the content."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from opentelemetry_instrumentation_llm._core.fingerprint import PromptFingerprints

SYSTEM = "You are a support agent for ACME. Answer from the knowledge base; cite sources. " * 25
SCHEMA = {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
                                           "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}
TOOLS = [("get_weather", "Current weather in a city", SCHEMA),
         ("search_kb", "Search the knowledge base", {"type": "object", "properties": {"q": {"type": "string"}}})]


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
    gemini_tools = [types.Tool(function_declarations=[
        types.FunctionDeclaration(name=n, description=d, parameters_json_schema=p) for n, d, p in TOOLS])]
    shapes = {
        "openai chat, one system message": ((SYSTEM,), openai_chat_tools()),
        "openai chat, text parts": ([{"type": "text", "text": SYSTEM}], openai_chat_tools()),
        "openai responses": (SYSTEM, responses_tools()),
        "anthropic, cache_control block": ([{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
                                           anthropic_tools()),
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
from opentelemetry_instrumentation_llm._core.fingerprint import PromptFingerprints
system, tools, key = json.loads(sys.stdin.read())
print(PromptFingerprints(key.encode() if key else None).of(system, tools))
"""


@pytest.mark.parametrize("key", [None, "shared"])
def test_other_processes_compute_the_same_fingerprint(key):
    here = PromptFingerprints(key.encode() if key else None).of(SYSTEM, anthropic_tools())
    for seed in ("1", "2"):  # str hashing differs between these processes
        done = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps([SYSTEM, openai_chat_tools(), key]),
                              capture_output=True, text=True, timeout=60, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed})
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
