"""``OTEL_METRICS_EXPORTER=prometheus``: metrics served on /metrics, scraped over HTTP as Prometheus would.

Covers setup() and the zero-code configurator, ``prometheus`` alone and ``otlp,prometheus``, bad
settings, and the labels of one metric fed by several SDKs (the exporter used to mix them up).
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from opentelemetry_instrumentation_llm import ConfigurationError, semconv as sc, setup
from opentelemetry_instrumentation_llm.testing import FakeLLMServer, Reply
from tests.e2e.collector import OTLPSink, Rotel, free_port, port_open, wait_until

LAUNCHER = Path(sys.executable).parent / "opentelemetry-instrument"
OVERLOADED = Reply(status=529, error={"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})


def scrape(port: int) -> dict[str, list[Any]]:
    """Prometheus family name -> its samples, from the live endpoint."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def mixed_calls(server: FakeLLMServer) -> None:
    """OpenAI calls that succeed and an Anthropic call that fails: one metric, two SDKs, different keys."""
    with (
        openai.OpenAI(api_key="sk-prom", base_url=server.openai_base_url, max_retries=0) as oai,
        anthropic.Anthropic(api_key="sk-ant-prom", base_url=server.anthropic_base_url, max_retries=0) as ant,
    ):
        oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "one two"}])
        server.fake.push(OVERLOADED)
        with pytest.raises(anthropic.APIStatusError):
            ant.messages.create(model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "x"}])
        ant.messages.create(model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "three"}])


def counts(families: dict[str, list[Any]]) -> list[dict[str, str]]:
    samples = families["gen_ai_client_operation_duration_seconds"]
    return [s.labels for s in samples if s.name == "gen_ai_client_operation_duration_seconds_count"]


def assert_labelled_correctly(families: dict[str, list[Any]], server: FakeLLMServer) -> None:
    port = str(server.port)
    by_provider: dict[str, list[dict[str, str]]] = {}
    for labels in counts(families):
        by_provider.setdefault(labels["gen_ai_provider_name"], []).append(labels)
        assert labels["gen_ai_operation_name"] == "chat", labels
        assert labels["server_address"] == "127.0.0.1", labels
        assert labels["server_port"] == port, labels
    assert sorted(by_provider) == ["anthropic", "openai"]
    assert {lb["gen_ai_request_model"] for lb in by_provider["openai"]} == {"gpt-4o"}
    assert {lb["gen_ai_request_model"] for lb in by_provider["anthropic"]} == {"claude-x"}
    assert sorted(lb.get("error_type", "") for lb in by_provider["anthropic"]) == ["", "overloaded_error"]
    assert {lb.get("error_type", "") for lb in by_provider["openai"]} == {""}
    # One meter scope for every SDK's metrics: what keeps the exporter from mixing label sets up.
    assert {lb.get("otel_scope_name") for lb in counts(families)} == {"opentelemetry_instrumentation_llm"}


@pytest.fixture
def prometheus_port(monkeypatch: pytest.MonkeyPatch) -> int:
    port = free_port()
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_LOGS_EXPORTER"):
        monkeypatch.setenv(name, "none")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "prometheus")
    monkeypatch.setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
    monkeypatch.setenv("OTEL_EXPORTER_PROMETHEUS_PORT", str(port))
    return port


def test_setup_serves_correctly_labelled_metrics_and_stops_serving_on_shutdown(prometheus_port, fake_server, fake):
    handle = setup("prom-pull", set_global=False, gpu=False)
    assert handle.exporters["metrics"] == ["prometheus"]
    mixed_calls(fake_server)
    families = scrape(prometheus_port)
    assert_labelled_correctly(families, fake_server)
    tokens = [s for s in families["gen_ai_client_token_usage"] if s.name == "gen_ai_client_token_usage_sum"]
    assert {s.labels["gen_ai_token_type"] for s in tokens} == {"input", "output"}
    assert any(s.labels.get("service_name") == "prom-pull" for s in families["target_info"])
    handle.shutdown()
    assert not port_open(prometheus_port)
    again = setup("prom-pull", set_global=False, gpu=False)  # the port is free again
    try:
        mixed_calls(fake_server)
        assert_labelled_correctly(scrape(prometheus_port), fake_server)
    finally:
        again.shutdown()


def test_otlp_and_prometheus_together(
    prometheus_port, collector: Rotel, sink: OTLPSink, fake_server, fake, monkeypatch
):
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp,prometheus")
    handle = setup("prom-and-otlp", endpoint=collector.grpc_endpoint, set_global=False, gpu=False)
    assert handle.exporters["metrics"] == ["otlp_proto_grpc", "prometheus"]
    mixed_calls(fake_server)
    assert_labelled_correctly(scrape(prometheus_port), fake_server)
    handle.shutdown()
    wait_until(lambda: sc.METRIC_OPERATION_DURATION in sink.metrics(), 20, "the OTLP metrics")


@pytest.mark.parametrize("port", ["http", "70000", "-1"])
def test_a_bad_port_names_the_variable_and_what_it_accepts(prometheus_port, monkeypatch, port):
    monkeypatch.setenv("OTEL_EXPORTER_PROMETHEUS_PORT", port)
    with pytest.raises(ConfigurationError, match=r"OTEL_EXPORTER_PROMETHEUS_PORT .*0 to 65535"):
        setup(set_global=False, instrument=False, gpu=False)


def test_a_port_in_use_names_both_variables(prometheus_port):
    first = setup(set_global=False, instrument=False, gpu=False)
    try:
        first._shut_down = True
        with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT"):
            setup(set_global=False, instrument=False, gpu=False)
    finally:
        first._shut_down = False
        first.shutdown()


def test_an_unknown_metrics_exporter_lists_prometheus(monkeypatch):
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "prometheus-typo")
    with pytest.raises(ConfigurationError, match=r"OTEL_METRICS_EXPORTER: accepted values are otlp, prometheus, none"):
        setup(set_global=False, instrument=False, gpu=False)


APP = """
import os, sys, anthropic, openai
base = os.environ["FAKE_LLM_URL"]
with openai.OpenAI(api_key="sk-zero", base_url=base + "/v1", max_retries=0) as client:
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "one two"}])
with anthropic.Anthropic(api_key="sk-ant-zero", base_url=base, max_retries=0) as client:
    try:
        client.messages.create(model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    except anthropic.APIStatusError:
        pass
    client.messages.create(model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "three"}])
print("ready", flush=True)
sys.stdin.read()  # serve /metrics until the test closes stdin
"""


@pytest.mark.parametrize("exporters", ["prometheus", "otlp,prometheus"])
def test_zero_code(tmp_path, fake_server, fake, exporters):
    """Under opentelemetry-instrument the configurator used to fail on the prometheus reader and
    leave the app uninstrumented while the endpoint looked healthy."""
    (tmp_path / "app.py").write_text(APP)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_", "OPENAI_"))}
    env.update(
        {
            "FAKE_LLM_URL": fake_server.url,
            "OTEL_SERVICE_NAME": "zero-code-prom",
            "OTEL_PYTHON_DISTRO": "llm",
            "OTEL_PYTHON_CONFIGURATOR": "llm",
            "OTEL_METRICS_EXPORTER": exporters,
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
            "OTEL_EXPORTER_PROMETHEUS_PORT": str(port),
            # the otlp reader has nowhere to send: keep it from trying during the test
            "OTEL_METRIC_EXPORT_INTERVAL": "600000",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        }
    )
    fake_server.fake.push(Reply(), OVERLOADED)
    app = subprocess.Popen(
        [str(LAUNCHER), sys.executable, str(tmp_path / "app.py")],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "ready", app.stderr and app.stderr.read()
        assert_labelled_correctly(scrape(port), fake_server)
    finally:
        _, stderr = app.communicate(input="", timeout=60)
    assert app.returncode == 0, stderr
    assert "Failed to auto initialize" not in stderr
