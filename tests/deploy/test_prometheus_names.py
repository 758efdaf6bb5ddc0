"""The OTLP -> Prometheus name translation, and the documented table of the package's metrics."""

from __future__ import annotations

import re

import pytest

from opentelemetry_instrumentation_llm import semconv as sc
from tests.deploy import prom_names
from tests.deploy.conftest import REPO, Catalog


@pytest.mark.parametrize(
    ("name", "unit", "kind", "expected"),
    [
        # the translator's own documented examples
        ("http.server.request.duration", "s", "histogram", "http_server_request_duration_seconds"),
        ("requests.count", "1", "counter", "requests_count_total"),
        ("memory.usage", "By", "gauge", "memory_usage_bytes"),
        # units in curly braces add nothing; unknown units are kept as written
        ("gen_ai.client.token.usage", "{token}", "histogram", "gen_ai_client_token_usage"),
        ("hw.errors", "{error}", "counter", "hw_errors_total"),
        ("gen_ai.client.operation.cost", "USD", "counter", "gen_ai_client_operation_cost_USD_total"),
        # unit 1: _ratio for gauges only
        ("hw.gpu.utilization", "1", "gauge", "hw_gpu_utilization_ratio"),
        ("queue.fill", "1", "updown", "queue_fill"),
        ("hits", "1", "counter", "hits_total"),
        # a unit already in the name is not repeated; per-units
        ("process.cpu.time.seconds", "s", "counter", "process_cpu_time_seconds_total"),
        ("nvml.gpu.pcie.throughput", "By/s", "gauge", "nvml_gpu_pcie_throughput_bytes_per_second"),
        ("hw.temperature", "Cel", "gauge", "hw_temperature_celsius"),
        ("hw.energy", "J", "counter", "hw_energy_joules_total"),
        ("requests.total", "1", "counter", "requests_total"),
        ("my--odd..name", "ms", "gauge", "my_odd_name_milliseconds"),
    ],
)
def test_translation_rules(name, unit, kind, expected):
    assert prom_names.metric_name(name, unit, kind) == expected


def test_histograms_become_bucket_sum_and_count():
    assert prom_names.series_names(sc.METRIC_OPERATION_DURATION, "s", "histogram") == [
        "gen_ai_client_operation_duration_seconds_bucket",
        "gen_ai_client_operation_duration_seconds_sum",
        "gen_ai_client_operation_duration_seconds_count",
    ]


@pytest.mark.parametrize(
    ("attribute", "label"),
    [
        (sc.GEN_AI_REQUEST_MODEL, "gen_ai_request_model"),
        (sc.ERROR_TYPE, "error_type"),
        ("llm.tenant.id", "llm_tenant_id"),
        ("123invalid", "key_123invalid"),
        ("__reserved__", "__reserved__"),
    ],
)
def test_label_names(attribute, label):
    assert prom_names.label_name(attribute) == label


def test_the_package_metrics_arrive_under_the_names_dashboards_and_alerts_use(catalog: Catalog):
    series = catalog.series()
    # The brief's names, worked out by hand, against the derivation from what the package exports.
    for name in (
        "gen_ai_client_operation_duration_seconds_bucket",
        "gen_ai_client_token_usage_sum",
        "gen_ai_client_operation_time_to_first_chunk_seconds_bucket",
        "gen_ai_client_operation_time_per_output_chunk_seconds_bucket",
        "gen_ai_client_operation_cost_USD_total",
        "hw_gpu_utilization_ratio",
        "hw_gpu_memory_usage_bytes",
        "hw_gpu_memory_limit_bytes",
        "hw_power_watts",
        "hw_temperature_celsius",
        "hw_energy_joules_total",
    ):
        assert name in series, sorted(series)
    duration = series["gen_ai_client_operation_duration_seconds_bucket"]
    assert {
        "le",
        "job",
        "instance",
        "gen_ai_operation_name",
        "gen_ai_provider_name",
        "gen_ai_request_model",
        "error_type",
        "llm_tenant_id",
        "llm_feature_name",
    } <= duration
    assert "gen_ai_token_type" in series["gen_ai_client_token_usage_sum"]
    assert not any("user_id" in labels or "session_id" in labels for labels in series.values())


def render_table(catalog: Catalog) -> list[str]:
    rows = ["| OpenTelemetry metric | Unit | Instrument | Prometheus series |", "|---|---|---|---|"]
    kinds = {"histogram": "histogram", "counter": "counter", "updown": "up-down counter (gauge)", "gauge": "gauge"}
    for metric in sorted(catalog.metrics.values(), key=lambda m: m.name):
        names = prom_names.series_names(metric.name, metric.unit, metric.kind)
        shown = f"`{names[0]}`" if len(names) == 1 else f"`{names[0]}`, `_sum`, `_count`"
        rows.append(f"| `{metric.name}` | `{metric.unit}` | {kinds[metric.kind]} | {shown} |")
    return rows


def test_the_documented_table_is_the_derived_one(catalog: Catalog):
    text = (REPO / "docs" / "operations.md").read_text()
    block = re.search(r"<!-- metric-names:start -->\n(.*?)<!-- metric-names:end -->", text, re.S)
    assert block is not None, "docs/operations.md lacks the metric-names block"
    documented = [line for line in block.group(1).splitlines() if line.strip()]
    assert documented == render_table(catalog), "\n".join(render_table(catalog))
