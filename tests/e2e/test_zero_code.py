"""``opentelemetry-instrument python app.py``: zero code, every SDK, through a real collector.

The test environment also has ``opentelemetry-distro`` installed, as many users do, so the tests
select a distro and configurator explicitly (which is what the README tells users to do).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from opentelemetry_instrumentation_llm import semconv as sc
from tests.e2e.collector import OTLPSink, Rotel, wait_until
from tests.e2e.launcher import launch, ours as our_spans

APP = """
import os, anthropic, openai
base = os.environ["FAKE_LLM_URL"]
with openai.OpenAI(api_key="sk-zero-code-secret", base_url=base + "/v1", max_retries=0) as client:
    prompt = os.environ.get("APP_PROMPT", "zero code")
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}])
    print("openai:", reply.choices[0].message.content)
with anthropic.Anthropic(api_key="sk-ant-zero-code-secret", base_url=base, max_retries=0) as client:
    message = client.messages.create(model="claude-opus-4-6", max_tokens=16,
                                     messages=[{"role": "user", "content": "zero code"}])
    print("anthropic:", message.content[0].text)
"""


def run_app(tmp_path: Path, fake_server, **env: str) -> subprocess.CompletedProcess[str]:
    app = tmp_path / "app.py"
    app.write_text(APP)
    defaults = {
        "FAKE_LLM_URL": fake_server.url,
        "OTEL_SERVICE_NAME": "zero-code-app",
        "OTEL_METRIC_EXPORT_INTERVAL": "500",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    result = launch(app, {**defaults, **env})
    assert "openai: echo: " in result.stdout and "anthropic: echo: zero code" in result.stdout
    return result


def ours(sink: OTLPSink) -> list:
    return our_spans(sink.spans())


@pytest.mark.parametrize(("protocol", "endpoint_of"), [("grpc", "grpc_endpoint"), ("http/protobuf", "http_endpoint")])
def test_zero_code_exports_through_our_configurator(
    tmp_path, fake_server, fake, collector: Rotel, sink: OTLPSink, protocol, endpoint_of
):
    run_app(
        tmp_path,
        fake_server,
        OTEL_PYTHON_DISTRO="llm",
        OTEL_PYTHON_CONFIGURATOR="llm",
        OTEL_EXPORTER_OTLP_ENDPOINT=getattr(collector, endpoint_of),
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="SPAN_AND_EVENT",
    )
    wait_until(
        lambda: (
            len(ours(sink)) >= 2
            and sc.METRIC_TOKEN_USAGE in sink.metrics()
            and len([r for r in sink.logs() if r.event_name == sc.EVENT_INFERENCE_DETAILS]) >= 2
        ),
        30,
        "spans, metrics and events from the app",
    )
    spans = {s.name: s for s in ours(sink)}
    assert set(spans) == {"chat gpt-4o", "chat claude-opus-4-6"}
    assert spans["chat gpt-4o"].attributes["gen_ai.provider.name"] == "openai"
    assert spans["chat claude-opus-4-6"].attributes["gen_ai.provider.name"] == "anthropic"
    assert all(s.resource["service.name"] == "zero-code-app" for s in spans.values())
    # One inference span per call: the anthropic SDK's own span was replaced by ours.
    assert [s for s in sink.spans() if s.scope == "com.anthropic.sdk.python"] == []
    everything = repr(sink.trace_requests) + repr(sink.log_requests) + repr(sink.metric_requests)
    assert "zero-code-secret" not in everything


def test_console_exporter(tmp_path, fake_server, fake):
    result = run_app(
        tmp_path,
        fake_server,
        OTEL_PYTHON_DISTRO="llm",
        OTEL_PYTHON_CONFIGURATOR="llm",
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    decoder = json.JSONDecoder()
    text, names = result.stdout, []
    index = text.find("{")
    while index != -1:
        try:
            obj, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        if isinstance(obj, dict) and "name" in obj and "attributes" in obj:
            names.append((obj["name"], obj["attributes"].get("gen_ai.provider.name")))
        index = text.find("{", end)
    assert sorted(names) == [("chat claude-opus-4-6", "anthropic"), ("chat gpt-4o", "openai")]


def test_disabling_one_of_our_instrumentors_by_name(tmp_path, fake_server, fake, collector: Rotel, sink: OTLPSink):
    run_app(
        tmp_path,
        fake_server,
        OTEL_PYTHON_DISTRO="llm",
        OTEL_PYTHON_CONFIGURATOR="llm",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.grpc_endpoint,
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="llm_anthropic",
    )
    wait_until(
        lambda: len(ours(sink)) >= 1 and any(s.scope == "com.anthropic.sdk.python" for s in sink.spans()),
        30,
        "the openai span and the anthropic SDK's own span",
    )
    assert [s.name for s in ours(sink)] == ["chat gpt-4o"]


def test_works_under_the_official_distro_and_configurator(
    tmp_path, fake_server, fake, collector: Rotel, sink: OTLPSink
):
    run_app(
        tmp_path,
        fake_server,
        OTEL_PYTHON_DISTRO="distro",
        OTEL_PYTHON_CONFIGURATOR="configurator",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.grpc_endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
    )
    wait_until(lambda: len(ours(sink)) >= 2, 30, "our spans through the official pipeline")
    assert {s.name for s in ours(sink)} == {"chat gpt-4o", "chat claude-opus-4-6"}


@pytest.mark.parametrize(("distro", "configurator"), [("llm", "llm"), ("distro", "configurator")])
def test_redaction_from_the_environment_under_either_configurator(
    tmp_path, fake_server, fake, collector: Rotel, sink: OTLPSink, distro, configurator
):
    """OTEL_INSTRUMENTATION_LLM_REDACT=all with content capture on is enough, with our configurator
    or with opentelemetry-distro's (our post-instrument hook then wraps the processors it built)."""
    run_app(
        tmp_path,
        fake_server,
        OTEL_PYTHON_DISTRO=distro,
        OTEL_PYTHON_CONFIGURATOR=configurator,
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.grpc_endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="SPAN_AND_EVENT",
        OTEL_INSTRUMENTATION_LLM_REDACT="all",
        APP_PROMPT="mail me at jane.doe@example.com",
    )
    wait_until(lambda: len(ours(sink)) >= 2 and len(sink.logs()) >= 2, 30, "spans and events")
    everything = repr(sink.trace_requests) + repr(sink.log_requests)
    assert "jane.doe@example.com" not in everything
    assert "[REDACTED:email]" in everything


MORE_SDKS_APP = """
import os
import boto3, cohere, groq, ollama
from botocore.config import Config
from google import genai
from google.genai import types
from mistralai.client import Mistral

base = os.environ["FAKE_LLM_URL"]
messages = [{"role": "user", "content": "zero code"}]
ollama.Client(host=base).chat(model="llama3.2", messages=messages)
groq.Groq(api_key="gsk-zero-code-secret", base_url=base, max_retries=0).chat.completions.create(
    model="llama-3.3-70b-versatile", messages=messages)
gemini = genai.Client(api_key="zero-code-secret", http_options=types.HttpOptions(base_url=base))  # closes on GC
gemini.models.generate_content(model="gemini-test-flash", contents="zero code")
boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=base, aws_access_key_id="AKIAZEROCODE",
             aws_secret_access_key="zero-code-secret", config=Config(retries={"total_max_attempts": 1})).converse(
    modelId="anthropic.claude-test-v1:0", messages=[{"role": "user", "content": [{"text": "zero code"}]}])
Mistral(api_key="zero-code-secret", server_url=base + "/mistral").chat.complete(
    model="mistral-small-latest", messages=messages)
cohere.ClientV2(api_key="zero-code-secret", base_url=base).chat(model="command-a", messages=messages)
print("all calls answered")
"""


def test_zero_code_instruments_every_sdk_the_app_imports(tmp_path, fake_server, fake):
    """The other SDKs' entry points under the real launcher: each SDK is imported by the app after
    instrumentation, so this also proves the on-import patching."""
    app = tmp_path / "app.py"
    app.write_text(MORE_SDKS_APP)
    env = {
        "FAKE_LLM_URL": fake_server.url,
        "OTEL_SERVICE_NAME": "zero-code-app",
        "OTEL_PYTHON_DISTRO": "llm",
        "OTEL_PYTHON_CONFIGURATOR": "llm",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    result = launch(app, env, timeout=180)
    assert "all calls answered" in result.stdout
    decoder = json.JSONDecoder()
    text, found = result.stdout, set()
    index = text.find("{")
    while index != -1:
        try:
            obj, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        if isinstance(obj, dict) and obj.get("attributes", {}).get("gen_ai.provider.name"):
            found.add((obj["name"], obj["attributes"]["gen_ai.provider.name"]))
        index = text.find("{", end)
    assert found == {
        ("chat llama3.2", "ollama"),
        ("chat llama-3.3-70b-versatile", "groq"),
        ("generate_content gemini-test-flash", "gcp.gemini"),
        ("chat anthropic.claude-test-v1:0", "aws.bedrock"),
        ("chat mistral-small-latest", "mistral_ai"),
        ("chat command-a", "cohere"),
    }
    assert "zero-code-secret" not in result.stdout
