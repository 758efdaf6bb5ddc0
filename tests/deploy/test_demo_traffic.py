"""The compose demo's traffic generator (deploy/demo/traffic.py), run with the llm-demo service's
own environment against an OTLP sink: it exports what the dashboards and alerts read."""

from __future__ import annotations

from collections import Counter
from typing import Any

from opentelemetry_instrumentation_llm import semconv as sc
from tests.deploy.conftest import DemoRun

TENANTS = {"acme", "globex", "initech"}


def points(run: DemoRun, name: str) -> list[Any]:
    found = []
    for _, metric in run.metrics.get(name, []):
        found += list(getattr(metric, metric.WhichOneof("data")).data_points)
    return found


def attributes(point: Any) -> dict[str, Any]:
    return {kv.key: kv.value.string_value or kv.value.int_value for kv in point.attributes}


def llm_spans(run: DemoRun) -> list[Any]:
    return [s for s in run.spans if s.scope.startswith("opentelemetry_instrumentation_llm.")]


def test_every_call_kind_is_traced_once(demo_run: DemoRun):
    # --every-call-once: 8 kinds, then 1 round of 3 tenants x 2 calls
    rounds = [line for line in demo_run.stdout.splitlines() if line.startswith("round ")]
    assert rounds == ["round 1: 14 calls so far"]
    spans = llm_spans(demo_run)
    assert len(spans) == 14
    providers = Counter(s.attributes[sc.GEN_AI_PROVIDER_NAME] for s in spans)
    assert set(providers) == {sc.PROVIDER_OPENAI, sc.PROVIDER_ANTHROPIC}
    operations = {s.attributes[sc.GEN_AI_OPERATION_NAME] for s in spans}
    assert operations == {sc.OP_CHAT, sc.OP_EMBEDDINGS}
    errors = sorted(str(s.attributes[sc.ERROR_TYPE]) for s in spans if sc.ERROR_TYPE in s.attributes)
    assert len(errors) >= 2 and all(s.status_code == 2 for s in spans if sc.ERROR_TYPE in s.attributes)


def test_the_resource_is_the_one_compose_configures(demo_run: DemoRun):
    env = demo_run.env
    for span in llm_spans(demo_run):
        assert span.resource["service.name"] == env["OTEL_SERVICE_NAME"]
        key, value = env["OTEL_RESOURCE_ATTRIBUTES"].split("=")
        assert span.resource[key] == value
        assert span.resource["service.instance.id"]  # becomes the `instance` label


def test_metrics_carry_tenant_and_feature_but_never_the_user(demo_run: DemoRun):
    for name in (sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE, sc.METRIC_OPERATION_COST):
        found = [attributes(p) for p in points(demo_run, name)]
        assert found, name
        assert {a["llm.tenant.id"] for a in found} == TENANTS, name
        assert all("llm.feature.name" in a and "user.id" not in a for a in found), name
    spans = llm_spans(demo_run)
    assert all(s.attributes["user.id"].startswith(s.attributes["llm.tenant.id"]) for s in spans)  # spans keep it


def test_streams_fill_the_streaming_histograms(demo_run: DemoRun):
    assert sum(p.count for p in points(demo_run, sc.METRIC_TIME_TO_FIRST_CHUNK)) >= 2  # openai + anthropic streams
    assert sum(p.count for p in points(demo_run, sc.METRIC_TIME_PER_OUTPUT_CHUNK)) > 2


def test_failed_calls_are_in_the_duration_histogram_with_their_error_type(demo_run: DemoRun):
    failed = Counter(
        str(attributes(p)[sc.ERROR_TYPE])
        for p in points(demo_run, sc.METRIC_OPERATION_DURATION)
        if sc.ERROR_TYPE in attributes(p)
        for _ in range(p.count)
    )
    traced = Counter(str(s.attributes[sc.ERROR_TYPE]) for s in llm_spans(demo_run) if sc.ERROR_TYPE in s.attributes)
    assert failed == traced


def test_the_prices_file_prices_the_fake_provider(demo_run: DemoRun):
    spans = [s for s in llm_spans(demo_run) if sc.GEN_AI_USAGE_COST_AMOUNT in s.attributes]
    assert {s.attributes[sc.GEN_AI_USAGE_COST_SOURCE] for s in spans} == {"override"}
    spent = sum(s.attributes[sc.GEN_AI_USAGE_COST_AMOUNT] for s in spans)
    counted = sum(p.as_double for p in points(demo_run, sc.METRIC_OPERATION_COST))
    assert spent > 0 and abs(spent - counted) < 1e-9


def test_events_with_content_reach_the_logs_pipeline(demo_run: DemoRun):
    """Capture is on in compose: Loki gets the inference details of every call, and an exception
    event for each failed one."""
    names = Counter(record.event_name for record in demo_run.logs)
    spans = llm_spans(demo_run)
    assert names[sc.EVENT_INFERENCE_DETAILS] == len(spans)
    assert names[sc.EVENT_OPERATION_EXCEPTION] == len([s for s in spans if sc.ERROR_TYPE in s.attributes])
    details = [r for r in demo_run.logs if r.event_name == sc.EVENT_INFERENCE_DETAILS]
    assert all(r.trace_id and r.span_id for r in details)  # Grafana links each event to its trace
    assert any(sc.GEN_AI_INPUT_MESSAGES in r.attributes for r in details)
    assert not any("sk-demo" in str(r.attributes) or "sk-ant-demo" in str(r.attributes) for r in details)
