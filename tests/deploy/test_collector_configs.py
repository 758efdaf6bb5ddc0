"""The Collector configurations in deploy/collector: valid, and wired as their routes say."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from opentelemetry_instrumentation_llm import semconv as sc
from tests.deploy import otelcol_schema, tools
from tests.deploy.conftest import DEPLOY, load_yaml
from tests.deploy.otelcol_schema import listening_ports, resolve_env, validate

CONFIGS = sorted((DEPLOY / "collector").glob("*.yaml"))
ROUTES = {p.stem for p in CONFIGS}


def config(name: str) -> dict[str, Any]:
    return load_yaml(DEPLOY / "collector" / f"{name}.yaml")  # type: ignore[no-any-return]


def test_every_route_of_the_docs_has_a_configuration():
    expected = {
        "local",
        "traces-jaeger",
        "traces-tempo",
        "metrics-prometheus-remote-write",
        "metrics-prometheus-scrape",
        "logs-loki",
        "gateway",
        "agent-load-balancing",
    }
    assert expected == ROUTES


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_configuration_is_structurally_valid(path: Path):
    assert validate(load_yaml(path)) == []


@pytest.fixture(scope="session")
def otelcol() -> Path:
    try:
        return tools.otelcol_contrib()
    except tools.Unavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_real_collector_validates(otelcol: Path, path: Path):
    done = subprocess.run(
        [str(otelcol), "validate", f"--config={path}"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------ the validator catches mistakes
def _mutate(base: dict[str, Any], change: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(base)
    change(mutated)
    return mutated


MISTAKES = [
    (
        "tail_sampling in a metrics pipeline",
        lambda c: c["service"]["pipelines"]["metrics"]["processors"].insert(1, "tail_sampling"),
        "'tail_sampling' does not support metrics",
    ),
    (
        "an exporter that is not defined",
        lambda c: c["service"]["pipelines"]["traces"]["exporters"].append("otlp_grpc/nowhere"),
        "'otlp_grpc/nowhere' is not defined under exporters",
    ),
    ("an unknown key", lambda c: c["processors"]["batch"].update(send_batch_sise=10), "unknown key 'send_batch_sise'"),
    (
        "a deprecated exporter alias",
        lambda c: c["exporters"].update({"otlp/x": c["exporters"].pop("otlp_grpc/traces")}),
        "'otlp' is a deprecated alias",
    ),
    ("a component that contrib lacks", lambda c: c["processors"].update(genai_magic={}), "no processor of type"),
    (
        "an exporter without its endpoint",
        lambda c: c["exporters"]["otlp_grpc/traces"].pop("endpoint"),
        "endpoint is required",
    ),
    (
        "a policy without its settings",
        lambda c: c["processors"]["tail_sampling"]["policies"][0].pop("status_code"),
        "needs its settings under status_code",
    ),
    (
        "an impossible status code",
        lambda c: c["processors"]["tail_sampling"]["policies"][0]["status_code"].update(status_codes=["FAILED"]),
        "status_codes must be",
    ),
    (
        "a sampling percentage above 100",
        lambda c: c["processors"]["tail_sampling"]["policies"][-1]["probabilistic"].update(sampling_percentage=150),
        "sampling_percentage must be in (0, 100]",
    ),
    (
        "an OTTL condition on an unknown path",
        lambda c: c["processors"]["tail_sampling"]["policies"][2]["ottl_condition"].update(span=["durration > 5"]),
        "unknown span path 'durration'",
    ),
    (
        "an unbalanced OTTL condition",
        lambda c: c["processors"]["tail_sampling"]["policies"][1]["ottl_condition"].update(
            span=['attributes["x" != nil']
        ),
        "unbalanced",
    ),
    (
        "memory_limiter not first",
        lambda c: c["service"]["pipelines"]["traces"].update(processors=["tail_sampling", "memory_limiter", "batch"]),
        "memory_limiter must be the first processor",
    ),
    (
        "batch before tail_sampling",
        lambda c: c["service"]["pipelines"]["traces"].update(processors=["memory_limiter", "batch", "tail_sampling"]),
        "put batch after it",
    ),
    (
        "two memory limits",
        lambda c: c["processors"]["memory_limiter"].update(limit_mib=512),
        "exactly one of limit_mib and limit_percentage",
    ),
    (
        "a pipeline without exporters",
        lambda c: c["service"]["pipelines"]["logs"].update(exporters=[]),
        "needs at least one of exporters",
    ),
    (
        "an unknown signal",
        lambda c: c["service"]["pipelines"].update(profile={"receivers": ["otlp"]}),
        "unknown signal 'profile'",
    ),
    (
        "a shell-style variable",
        lambda c: c["exporters"]["otlp_grpc/traces"].update(endpoint="${TEMPO}:4317"),
        "use ${env:NAME}",
    ),
    (
        "a defined but unused exporter",
        lambda c: c["exporters"].update({"debug": {"verbosity": "basic"}}),
        "exporters.debug: defined but not used",
    ),
    (
        "two components on one port",
        lambda c: c["extensions"]["health_check"].update(endpoint="0.0.0.0:4317"),
        "port 4317 is already used",
    ),
    ("an undefined extension", lambda c: c["service"]["extensions"].append("pprof"), "'pprof' is not defined"),
]


@pytest.mark.parametrize(("change", "expected"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_the_structural_validator_catches(change, expected):
    problems = validate(_mutate(config("gateway"), change))
    assert any(expected in p for p in problems), problems


def test_load_balancing_mistakes_are_caught():
    base = config("agent-load-balancing")
    two = _mutate(base, lambda c: c["exporters"]["load_balancing"]["resolver"].update(static={"hostnames": ["a"]}))
    assert any("exactly one of static, dns" in p for p in validate(two))
    endpoint = _mutate(base, lambda c: c["exporters"]["load_balancing"]["protocol"]["otlp"].update(endpoint="x:1"))
    assert any("takes no endpoint" in p for p in validate(endpoint))


# ------------------------------------------------------------------ routes
def exporter_targets(cfg: dict[str, Any], signal: str) -> list[tuple[str, str]]:
    """(exporter type, endpoint with env defaults) for the exporters of a signal's pipelines."""
    found = []
    for pid, pipeline in cfg["service"]["pipelines"].items():
        if pid.split("/", 1)[0] == signal:
            for xid in pipeline["exporters"]:
                settings = cfg["exporters"][xid] or {}
                found.append((xid.split("/", 1)[0], resolve_env(str(settings.get("endpoint", "")))))
    return found


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_apps_reach_every_configuration_on_the_sdk_default_ports(path: Path):
    """OTEL_EXPORTER_OTLP_ENDPOINT defaults: 4317 (gRPC) and 4318 (HTTP)."""
    ports = listening_ports(load_yaml(path))
    assert ports["receivers.otlp.grpc"] == 4317
    assert ports["receivers.otlp.http"] == 4318


@pytest.mark.parametrize(
    ("route", "signal", "expected"),
    [
        ("traces-jaeger", "traces", [("otlp_grpc", "jaeger:4317")]),
        ("traces-tempo", "traces", [("otlp_grpc", "tempo:4317")]),
        (
            "metrics-prometheus-remote-write",
            "metrics",
            [("prometheus_remote_write", "http://prometheus:9090/api/v1/write")],
        ),
        ("metrics-prometheus-scrape", "metrics", [("prometheus", "0.0.0.0:8889")]),
        ("logs-loki", "logs", [("otlp_http", "http://loki:3100/otlp")]),
        ("gateway", "traces", [("otlp_grpc", "tempo:4317")]),
        ("gateway", "metrics", [("prometheus_remote_write", "http://prometheus:9090/api/v1/write")]),
        ("gateway", "logs", [("otlp_http", "http://loki:3100/otlp")]),
        ("local", "traces", [("otlp_grpc", "tempo:4317")]),
        ("local", "metrics", [("prometheus_remote_write", "http://prometheus:9090/api/v1/write")]),
        ("local", "logs", [("otlp_http", "http://loki:3100/otlp")]),
        ("agent-load-balancing", "metrics", [("otlp_grpc", "otel-gateway:4317")]),
        ("agent-load-balancing", "logs", [("otlp_grpc", "otel-gateway:4317")]),
    ],
)
def test_each_route_sends_its_signal_to_its_backend(route, signal, expected):
    assert exporter_targets(config(route), signal) == expected


def test_single_signal_routes_carry_only_their_signal():
    for route in ROUTES:
        signals = {pid.split("/", 1)[0] for pid in config(route)["service"]["pipelines"]}
        prefix = route.split("-", 1)[0]
        if prefix in ("traces", "metrics", "logs"):
            assert signals == {prefix}, route


def test_loki_is_reached_on_its_native_otlp_endpoint():
    """otlp_http appends /v1/logs to `endpoint`: /otlp, so that Loki gets /otlp/v1/logs."""
    for route in ROUTES:
        for kind, endpoint in exporter_targets(config(route), "logs"):
            if "loki" in endpoint:
                assert kind == "otlp_http" and urlsplit(endpoint).path == "/otlp", (route, endpoint)


def test_gateway_tail_sampling_keeps_errors_and_slow_llm_calls_and_samples_the_rest():
    gateway = config("gateway")
    pipelines = gateway["service"]["pipelines"]
    assert pipelines["traces"]["processors"] == ["memory_limiter", "tail_sampling", "batch"]
    assert pipelines["metrics"]["processors"] == ["memory_limiter", "batch"]  # metrics count every call
    assert pipelines["logs"]["processors"] == ["memory_limiter", "batch"]
    policies = {p["name"]: p for p in gateway["processors"]["tail_sampling"]["policies"]}
    assert policies["errors"]["status_code"]["status_codes"] == ["ERROR"]
    error_type = policies["genai-error-type"]["ottl_condition"]["span"]
    assert error_type == [f'attributes["{sc.GEN_AI_OPERATION_NAME}"] != nil and attributes["{sc.ERROR_TYPE}"] != nil']
    (slow,) = policies["slow-llm-calls"]["ottl_condition"]["span"]
    assert f'attributes["{sc.GEN_AI_OPERATION_NAME}"] != nil' in slow
    assert slow.endswith("end_time_unix_nano - start_time_unix_nano >= 5000000000")  # 5 s, in nanoseconds
    assert 0 < policies["sample-the-rest"]["probabilistic"]["sampling_percentage"] < 100
    # the decision waits longer than the slow threshold plus the SDK's default export delay (5 s)
    assert int(gateway["processors"]["tail_sampling"]["decision_wait"].removesuffix("s")) > 5 + 5


def test_agent_tier_routes_spans_by_trace_id_to_the_gateways():
    agent = config("agent-load-balancing")
    balancing = agent["exporters"]["load_balancing"]
    assert balancing["routing_key"] == "traceID"
    assert balancing["resolver"]["dns"]["port"] == listening_ports(config("gateway"))["receivers.otlp.grpc"]
    assert agent["service"]["pipelines"]["traces"]["exporters"] == ["load_balancing"]


def test_every_configuration_limits_memory_first_and_batches():
    for route in ROUTES:
        for pid, pipeline in config(route)["service"]["pipelines"].items():
            assert pipeline["processors"][0] == "memory_limiter", (route, pid)
            assert pipeline["processors"][-1] == "batch", (route, pid)


def test_the_catalogue_is_pinned_to_the_compose_image(compose):
    image = compose["services"]["otel-collector"]["image"]
    assert image == f"otel/opentelemetry-collector-contrib:{otelcol_schema.CONTRIB_VERSION}"
