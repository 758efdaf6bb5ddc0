"""deploy/kubernetes/: every manifest valid against the Kubernetes and CRD schemas, the Helm values
against the chart's schema, generated files in step with their sources, the pieces wired to each
other, and deliberately broken copies rejected."""

from __future__ import annotations

import copy
import json
import re
import runpy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import k8s_schema, otelcol_schema
from tests.deploy.conftest import DEPLOY, load_yaml

KUBERNETES = DEPLOY / "kubernetes"
MANIFESTS = sorted(p for p in KUBERNETES.glob("*.yaml") if not p.name.endswith("-values.yaml"))
VALUES = {
    "agent": ("values-agent.yaml", "agent-load-balancing.yaml"),
    "gateway": ("values-gateway.yaml", "gateway.yaml"),
}


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def find(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for p in MANIFESTS for d in documents(p) if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


def values(tier: str) -> dict[str, Any]:
    return load_yaml(KUBERNETES / "collector" / VALUES[tier][0])  # type: ignore[no-any-return]


def test_generated_files_are_in_step_with_their_sources():
    """Regenerate with: python deploy/kubernetes/generate.py"""
    generate = runpy.run_path(str(KUBERNETES / "generate.py"))
    for path, text in generate["generated"]().items():
        assert path.read_text() == text, f"{path.name} is stale: run python deploy/kubernetes/generate.py"


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_manifest_is_valid(path: Path):
    docs = documents(path)
    assert docs
    for document in docs:
        k8s_schema.validate_manifest(document)


@pytest.mark.parametrize("tier", sorted(VALUES))
def test_collector_values_are_valid_for_the_chart_and_carry_the_deploy_collector_config(tier: str):
    chart_values = values(tier)
    k8s_schema.validate_collector_values(chart_values)
    source = load_yaml(DEPLOY / "collector" / VALUES[tier][1])
    assert chart_values["alternateConfig"] == source  # the same pipelines, one source of truth
    environment = {e["name"]: e["value"] for e in chart_values["extraEnvs"]}
    resolved = json.loads(otelcol_schema.resolve_env(json.dumps(source), environment))
    assert otelcol_schema.validate(resolved) == []
    assert not re.search(r"\$\{env:(?!\w+:-)", json.dumps(source)), "every variable needs a default or a value"
    for name in re.findall(r"\$\{env:(\w+)", json.dumps(source)):
        assert name in environment, f"{tier}: {name} is not set by the values"


def test_kube_prometheus_stack_values_carry_the_shipped_alertmanager_configuration(tmp_path):
    chart_values = load_yaml(KUBERNETES / "kube-prometheus-stack-values.yaml")
    alertmanager = chart_values["alertmanager"]
    assert alertmanager["config"] == load_yaml(DEPLOY / "alertmanager" / "alertmanager.yaml")
    assert alertmanager["templateFiles"] == {"slack.tmpl": (DEPLOY / "alertmanager" / "slack.tmpl").read_text()}
    # the chart mounts templateFiles in /etc/alertmanager/config/ and each secret in /etc/alertmanager/secrets/<name>/
    assert alertmanager["config"]["templates"] == ["/etc/alertmanager/config/*.tmpl"]
    (secret,) = alertmanager["alertmanagerSpec"]["secrets"]
    assert alertmanager["config"]["global"]["slack_api_url_file"].startswith(f"/etc/alertmanager/secrets/{secret}/")
    sidecar = chart_values["grafana"]["sidecar"]["dashboards"]
    config_map = find("ConfigMap", "grafana-dashboard-gpu")
    assert config_map["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"]
    assert sidecar["folderAnnotation"] in config_map["metadata"]["annotations"]


def test_the_agents_find_every_gateway():
    gateway, agent = values("gateway"), values("agent")
    assert gateway["mode"] == "deployment" and agent["mode"] == "daemonset"
    assert gateway["service"]["clusterIP"] == "None"  # headless: DNS returns every gateway pod
    environment = {e["name"]: e["value"] for e in agent["extraEnvs"]}
    assert environment["GATEWAY_HOSTNAME"].split(".")[0] == gateway["fullnameOverride"]
    assert "tail_sampling" in gateway["alternateConfig"]["processors"]
    assert agent["alternateConfig"]["exporters"]["load_balancing"]["routing_key"] == "traceID"


def test_prometheus_rules_are_the_shipped_rule_files(promtool, tmp_path):
    for name, source in (
        ("llm-alerts", "alerts.yaml"),
        ("llm-spend", "alerts-spend.yaml"),
        ("llm-gpu-from-dcgm", "gpu-dcgm.yaml"),
    ):
        rule = find("PrometheusRule", name)
        assert rule["spec"]["groups"] == load_yaml(DEPLOY / "prometheus" / source)["groups"]
        (tmp_path / source).write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        done = subprocess.run(
            [str(promtool), "check", "rules", str(tmp_path / source)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"  # the chart's ruleSelector


def sidecar_problems(config_map: dict[str, Any]) -> list[str]:
    """What keeps kube-prometheus-stack's Grafana sidecar from loading a dashboard ConfigMap."""
    problems = []
    if config_map["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
        problems.append('missing label grafana_dashboard: "1" (grafana.sidecar.dashboards.label)')
    for key, text in config_map.get("data", {}).items():
        if not key.endswith(".json"):
            problems.append(f"{key}: the sidecar writes keys as files; Grafana loads *.json")
        try:
            if "uid" not in json.loads(text):
                problems.append(f"{key}: a dashboard without a uid is duplicated on every reload")
        except json.JSONDecodeError as exc:
            problems.append(f"{key}: not JSON ({exc})")
    return problems


def test_dashboards_are_configmaps_the_grafana_sidecar_loads():
    dashboards = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
    for path in dashboards:
        config_map = find("ConfigMap", f"grafana-dashboard-{path.stem}")
        assert sidecar_problems(config_map) == []
        assert json.loads(config_map["data"][path.name]) == json.loads(path.read_text())
        # the datasource variable defaults to the uid kube-prometheus-stack gives Prometheus
        variables = json.loads(path.read_text())["templating"]["list"]
        datasource = next(v for v in variables if v["name"] == "datasource")
        assert datasource["current"]["value"] == "prometheus"


def test_monitors_select_the_example_app_and_rename_like_the_app_scrape_config():
    scrape = load_yaml(DEPLOY / "prometheus" / "prometheus-app-scrape.yaml")["scrape_configs"][0]
    expected = [
        {
            "sourceLabels": r["source_labels"],
            "regex": r["regex"],
            "targetLabel": r["target_label"],
            "replacement": r["replacement"],
            "action": "replace",
        }
        for r in scrape["metric_relabel_configs"]
    ]
    deployment, service = find("Deployment", "chat-api"), find("Service", "chat-api")
    pod = deployment["spec"]["template"]
    for monitor, endpoints, labels, ports in (
        (find("ServiceMonitor"), "endpoints", service["metadata"]["labels"], service["spec"]["ports"]),
        (find("PodMonitor"), "podMetricsEndpoints", pod["metadata"]["labels"], pod["spec"]["containers"][0]["ports"]),
    ):
        assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
        (endpoint,) = monitor["spec"][endpoints]
        assert endpoint["metricRelabelings"] == expected
        assert endpoint["port"] in {p["name"] for p in ports}
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_the_instrumentation_serves_metrics_where_the_monitors_look_and_exports_to_the_agent():
    instrumentation = find("Instrumentation")
    env = {e["name"]: e["value"] for e in instrumentation["spec"]["python"]["env"]}
    assert env["OTEL_PYTHON_DISTRO"] == env["OTEL_PYTHON_CONFIGURATOR"] == "llm"
    assert env["OTEL_METRICS_EXPORTER"] == "prometheus" and env["OTEL_EXPORTER_PROMETHEUS_HOST"] == "0.0.0.0"
    container = find("Deployment", "chat-api")["spec"]["template"]["spec"]["containers"][0]
    metrics_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "metrics")
    assert int(env["OTEL_EXPORTER_PROMETHEUS_PORT"]) == metrics_port
    assert env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] == "NO_CONTENT"  # privacy by default
    agent = values("agent")["fullnameOverride"]
    assert instrumentation["spec"]["exporter"]["endpoint"].startswith(f"http://{agent}.")
    annotation = find("Deployment", "chat-api")["spec"]["template"]["metadata"]["annotations"]
    meta = instrumentation["metadata"]
    assert annotation["instrumentation.opentelemetry.io/inject-python"] == f"{meta['namespace']}/{meta['name']}"


def test_the_autoinstrumentation_image_is_the_one_the_instrumentation_names():
    dockerfile = (KUBERNETES / "autoinstrumentation" / "Dockerfile").read_text()
    image = find("Instrumentation")["spec"]["python"]["image"]
    assert f"-t {image} ." in dockerfile
    # the layout the operator copies from, and this package with its Prometheus extra
    assert "COPY --from=build /autoinstrumentation /autoinstrumentation" in dockerfile
    assert "pip install --target /autoinstrumentation '.[prometheus]'" in dockerfile
    ignored = (KUBERNETES / "autoinstrumentation" / "Dockerfile.dockerignore").read_text()
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for path in copied.split():
            assert f"!{path}" in ignored or f"!{path}/" in ignored, path


# ------------------------------------------------------------------------------ broken copies must fail
def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


BROKEN_MANIFESTS = {
    "ServiceMonitor: misspelt field": ("ServiceMonitor", _set(["spec", "endpoints", 0, "intervall"], "30s")),
    "ServiceMonitor: interval not a duration": ("ServiceMonitor", _set(["spec", "endpoints", 0, "interval"], "often")),
    "PodMonitor: endpoints not a list": ("PodMonitor", _set(["spec", "podMetricsEndpoints"], {"port": "metrics"})),
    "PrometheusRule: for as a number": ("PrometheusRule", _set(["spec", "groups", 0, "rules", 0, "for"], 600)),
    "PrometheusRule: rule without expr": ("PrometheusRule", _delete(["spec", "groups", 0, "rules", 0, "expr"])),
    "Instrumentation: unknown language": ("Instrumentation", _set(["spec", "pyton"], {"image": "x"})),
    "Instrumentation: env as a map": ("Instrumentation", _set(["spec", "python", "env"], {"A": "b"})),
    "Deployment: replicas as text": ("Deployment", _set(["spec", "replicas"], "two")),
    "Deployment: misspelt container field": (
        "Deployment",
        _set(["spec", "template", "spec", "containers", 0, "imagee"], "x"),
    ),
    "Service: port as text": ("Service", _set(["spec", "ports", 0, "port"], "metrics")),
    "ConfigMap: label value not a string": ("ConfigMap", _set(["metadata", "labels", "grafana_dashboard"], 1)),
    "ConfigMap: bad name": ("ConfigMap", _set(["metadata", "name"], "Grafana Dashboard")),
}


@pytest.mark.parametrize("case", sorted(BROKEN_MANIFESTS))
def test_a_broken_manifest_is_rejected(case: str):
    kind, mutate = BROKEN_MANIFESTS[case]
    document = copy.deepcopy(next(d for p in MANIFESTS for d in documents(p) if d["kind"] == kind))
    k8s_schema.validate_manifest(copy.deepcopy(document))  # the original passes
    mutate(document)
    with pytest.raises(k8s_schema.Invalid):
        k8s_schema.validate_manifest(document)


def test_a_dashboard_configmap_without_the_sidecar_label_is_rejected():
    config_map = copy.deepcopy(find("ConfigMap", "grafana-dashboard-gpu"))
    del config_map["metadata"]["labels"]["grafana_dashboard"]
    k8s_schema.validate_manifest(config_map)  # still a valid ConfigMap: only the sidecar check sees it
    assert sidecar_problems(config_map) == ['missing label grafana_dashboard: "1" (grafana.sidecar.dashboards.label)']


BROKEN_VALUES = {
    "replicaCount as text": _set(["replicaCount"], "two"),
    "unknown mode": _set(["mode"], "sidecar"),
    "misspelt top-level key": _set(["alternateConfg"], {}),
    "service type unknown": _set(["service", "type"], "Headless"),
    "image pullPolicy unknown": _set(["image", "pullPolicy"], "Sometimes"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_VALUES))
def test_broken_collector_values_are_rejected(case: str):
    broken = copy.deepcopy(values("gateway"))
    BROKEN_VALUES[case](broken)
    with pytest.raises(k8s_schema.Invalid):
        k8s_schema.validate_collector_values(broken)


def test_an_unpinned_custom_resource_is_not_waved_through():
    with pytest.raises(k8s_schema.Invalid, match="no pinned CRD schema"):
        k8s_schema.validate_manifest({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}})
