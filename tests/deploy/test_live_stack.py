"""The shipped monitoring assets against a live stack: no Docker, every process on loopback.

    demo traffic (real SDKs, fake provider, fake NVML) --/metrics--> Prometheus (shipped app-scrape
    config and rules) --> Alertmanager (shipped routes and Slack template) --> a Slack stand-in
    demo traffic --OTLP traces--> rotel (the real collector) --> sink

Prometheus and Alertmanager come from Debian's packages (tests/deploy/tools.py). Assertions go
through Prometheus's HTTP API: the target is up, every rule evaluates, every dashboard query runs
and the core panels have data, and two alerts arrive in the right Slack channels.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import live, tools
from tests.deploy.conftest import DEPLOY, REPO, load_yaml
from tests.e2e.collector import OTLPSink, Rotel, free_port, wait_until

DASHBOARDS = DEPLOY / "grafana" / "dashboards"
ALERTMANAGER = DEPLOY / "alertmanager"
# Grafana's variables, as a user with "All" selected and a short range would have them.
GRAFANA_VARIABLES = {
    "$__rate_interval": "30s",
    "$__range": "5m",
    "$job": ".*",
    "$provider": ".*",
    "$model": ".*",
    "$tenant": ".*",
    "$gpu": ".*",
}
# The shipped rules; gpu-dcgm.yaml finds no DCGM series here but must load and evaluate cleanly.
RULE_FILES = ("alerts.yaml", "gpu-dcgm.yaml")
CORE_PANELS = {
    "llm-overview": [
        "Calls / s",
        "Error ratio",
        "p95 latency",
        "Tokens / s",
        "Cost / hour",
        "Operation duration p50 / p95 / p99",
        "Time to first chunk (streams)",
        "Errors / s by error type",
        "Tokens / s by type and model",
    ],
    "gpu": [
        "GPUs",
        "Mean utilization",
        "Memory used",
        "Hottest GPU",
        "Utilization per GPU",
        "Temperature per GPU",
        "Memory used vs limit",
    ],
}


def tool(getter: Any) -> Path:
    try:
        return Path(getter())
    except tools.Unavailable as exc:
        pytest.skip(str(exc))


@dataclass
class Stack:
    prometheus: live.Server
    alertmanager: live.Server
    slack: live.WebhookSink
    sink: OTLPSink
    app: subprocess.Popen[bytes]

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = self.prometheus.get_json("/api/v1/query", query=expr)
        assert answer["status"] == "success", (expr, answer)
        return list(answer["data"]["result"])


def _start_app(prometheus_port: int, collector: Rotel, workdir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        {
            "OTEL_SERVICE_NAME": "llm-live",
            "OTEL_METRICS_EXPORTER": "prometheus",
            "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
            "OTEL_EXPORTER_PROMETHEUS_PORT": str(prometheus_port),
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.grpc_endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_INSTRUMENTATION_LLM_PRICES_FILE": str(DEPLOY / "demo" / "prices.json"),
            "OTEL_INSTRUMENTATION_LLM_METRIC_CONTEXT": "tenant_id,feature",
        }
    )
    with (workdir / "app.log").open("wb") as log:
        return subprocess.Popen(
            [
                sys.executable,
                str(REPO / "tests" / "deploy" / "live_app.py"),
                "--interval",
                "0.2",
                "--calls-per-tenant",
                "2",
                "--slow",
                "0.05",
                "--seed",
                "16",
                "--every-call-once",
                "--error-weight",
                "3",
            ],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus_bin, alertmanager_bin = tool(tools.prometheus), tool(tools.alertmanager)
    workdir = tmp_path_factory.mktemp("live-stack")
    started = time.monotonic()
    stoppers: list[Any] = []
    try:
        sink = OTLPSink().start()
        stoppers.append(sink.stop)
        collector = Rotel(sink).start()
        stoppers.append(collector.stop)
        slack = live.WebhookSink()
        stoppers.append(slack.stop)
        (workdir / "slack-url").write_text(f"{slack.url}/slack\n")
        am_config = live.alertmanager_config(
            load_yaml(ALERTMANAGER / "alertmanager.yaml"), workdir / "slack-url", ALERTMANAGER / "slack.tmpl"
        )
        alertmanager = live.start_alertmanager(
            alertmanager_bin, live.write_yaml(workdir / "am.yaml", am_config), workdir
        )
        stoppers.append(alertmanager.stop)
        app_port = free_port()
        app = _start_app(app_port, collector, workdir)
        stoppers.append(lambda: live.stop_process(app, grace=20))  # traffic.py flushes on SIGTERM
        rules = [
            live.write_yaml(workdir / name, live.fast_rules(load_yaml(DEPLOY / "prometheus" / name)))
            for name in RULE_FILES
        ]
        config = live.prometheus_config(
            load_yaml(DEPLOY / "prometheus" / "prometheus-app-scrape.yaml"),
            app_port,
            alertmanager.port,
            [str(r) for r in rules],
        )
        prometheus = live.start_prometheus(
            prometheus_bin, live.write_yaml(workdir / "prometheus.yaml", config), workdir
        )
        stoppers.append(prometheus.stop)
        result = Stack(prometheus, alertmanager, slack, sink, app)
        # Enough scrapes for rate() over the traffic: two samples of the request counter, both > 0.
        wait_until(
            lambda: len(result.query("count_over_time(gen_ai_client_operation_duration_seconds_count[1m]) >= 3")) > 0,
            60,
            "three scrapes of the demo traffic",
        )
        yield result
    finally:
        for stop in reversed(stoppers):
            stop()
        assert time.monotonic() - started < 120


def test_the_app_target_is_up(stack: Stack):
    targets = stack.prometheus.get_json("/api/v1/targets")["data"]["activeTargets"]
    assert [(t["labels"]["job"], t["health"]) for t in targets] == [("llm-app", "up")], targets
    assert stack.query('target_info{job="llm-app", service_name="llm-live"}')


def test_every_rule_group_loads_and_evaluates(stack: Stack):
    shipped = [g for name in RULE_FILES for g in load_yaml(DEPLOY / "prometheus" / name)["groups"]]

    def evaluated() -> list[dict[str, Any]] | None:
        groups = stack.prometheus.get_json("/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return (
            rules
            if all(r.get("lastEvaluation", "").startswith("2") and r["health"] != "unknown" for r in rules)
            else None
        )

    wait_until(lambda: evaluated() is not None, 30, "every rule to be evaluated")
    groups = stack.prometheus.get_json("/api/v1/rules")["data"]["groups"]
    assert sorted(g["name"] for g in groups) == sorted(g["name"] for g in shipped)
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] == "ok" and not rule.get("lastError"), (group["name"], rule["name"], rule)
    assert sum(len(g["rules"]) for g in groups) == sum(len(g["rules"]) for g in shipped)


def _dashboard_queries(name: str) -> list[tuple[str, str]]:
    dashboard = json.loads((DASHBOARDS / f"{name}.json").read_text())
    found = []
    for panel in dashboard["panels"]:
        if panel.get("datasource", {}).get("type") == "loki":
            continue
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"{name}: {panel['title']}: unsubstituted variable in {expr}"
            found.append((panel["title"], expr))
    return found


def _has_data(result: list[dict[str, Any]]) -> bool:
    return any(not math.isnan(float(series["value"][1])) for series in result)


@pytest.mark.parametrize("name", sorted(CORE_PANELS))
def test_every_dashboard_query_runs_and_the_core_panels_have_data(stack: Stack, name: str):
    queries = _dashboard_queries(name)
    assert {title for title, _ in queries} >= set(CORE_PANELS[name])
    wait_until(
        lambda: all(_has_data(stack.query(expr)) for title, expr in queries if title in CORE_PANELS[name]),
        30,
        f"data in every core panel of {name}",
    )
    for _, expr in queries:
        stack.query(expr)  # every query parses and runs (query() asserts success)


def test_template_variables_list_the_app(stack: Stack):
    for name in CORE_PANELS:
        dashboard = json.loads((DASHBOARDS / f"{name}.json").read_text())
        job = next(v for v in dashboard["templating"]["list"] if v["name"] == "job")
        metric = re.fullmatch(r"label_values\((\w+), job\)", job["definition"])
        assert metric, job["definition"]
        assert stack.query(f"count by (job) ({metric.group(1)})")[0]["metric"]["job"] == "llm-app"


def _slack_messages(stack: Stack, alertname: str) -> list[dict[str, Any]]:
    return [
        r.body
        for r in stack.slack.received
        if r.path == "/slack" and alertname in r.body.get("text", "") + json.dumps(r.body.get("attachments", []))
    ]


@pytest.mark.parametrize(
    ("alertname", "channel", "severity", "summary"),
    [
        (
            "GPUTemperatureHigh",
            "#llm-oncall",
            "critical",
            r"GPU 1 temperature \(GPU-live-[0-9-]+1\) in llm-app is at 90 °C",
        ),
        ("GenAIErrorRateHigh", "#llm-alerts", "warning", r"\d+(\.\d+)?% of (openai|anthropic) calls from llm-app fail"),
    ],
)
def test_alerts_reach_slack_through_alertmanager(stack: Stack, alertname, channel, severity, summary):
    wait_until(lambda: bool(_slack_messages(stack, alertname)), 60, f"{alertname} in Slack")
    message = _slack_messages(stack, alertname)[0]
    assert message["channel"] == channel
    (attachment,) = message["attachments"]
    assert attachment["title"].startswith("[FIRING:") and f"{alertname} ({severity}) in llm-app" in attachment["title"]
    assert re.search(summary, attachment["text"]), attachment["text"]
    assert f"docs/operations.md#{alertname.lower()}" in attachment["text"]
    assert attachment["color"] == ("danger" if severity == "critical" else "warning")
    firing = stack.alertmanager.get_json("/api/v2/alerts")
    assert any(a["labels"]["alertname"] == alertname and a["labels"]["severity"] == severity for a in firing)


def test_traces_reach_the_collector(stack: Stack):
    wait_until(
        lambda: any(s.scope.startswith("opentelemetry_instrumentation_llm.") for s in stack.sink.spans()),
        30,
        "spans at the collector's sink",
    )
    names = {s.name for s in stack.sink.spans() if s.scope.startswith("opentelemetry_instrumentation_llm.")}
    assert "chat gpt-4o" in names
