"""The parts of the ``openai`` SDK the adapter relies on beyond its public exports.

Each reach-in into SDK internals lives behind one named function in the adapter; these tests fail
loudly when an SDK release moves or stops using what that function returns.
"""

from __future__ import annotations

import openai

from opentelemetry_instrumentation_llm.providers import openai as adapter

MESSAGES = [{"role": "user", "content": "hello"}]


def test_with_raw_response_returns_the_legacy_response_class_the_adapter_names(client, telemetry, instrumented):
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert isinstance(raw, adapter.legacy_raw_response_class())
    assert raw.parse().choices[0].message.content == "echo: hello"
    assert telemetry.span().attributes["gen_ai.response.id"] == raw.parse().id  # classified, so traced


def test_with_streaming_response_returns_the_root_exported_response_class(client, telemetry, instrumented):
    with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES) as raw:
        assert isinstance(raw, openai.APIResponse)
        raw.parse()
    assert len(telemetry.spans()) == 1
