"""deploy/compose.yaml, checked without Docker: files mounted exist, ports agree with the
services' own configurations, and every hop of the pipeline points at a service that listens
there (app -> collector -> Tempo / Prometheus / Loki -> Grafana)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.conftest import DEPLOY, REPO, load_yaml
from tests.deploy.otelcol_schema import listening_ports, resolve_env, validate

SERVICES = {"otel-collector", "tempo", "loki", "prometheus", "grafana", "llm-demo"}


def mounts(compose: dict[str, Any], service: str) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts."""
    found = {}
    for volume in compose["services"][service].get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            found[target] = (DEPLOY / source).resolve()
    return found


def mounted(compose: dict[str, Any], service: str, container_path: str) -> Path:
    """The host file behind a container path (a file mount, or a file in a mounted directory)."""
    for target, source in mounts(compose, service).items():
        if container_path == target:
            return source
        if container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target.rstrip("/")) + 1 :]
    raise AssertionError(f"{service}: nothing mounted at {container_path}")


def published(compose: dict[str, Any], service: str) -> dict[int, int]:
    """Container port -> host port."""
    found = {}
    for entry in compose["services"][service].get("ports", []):
        host, container = str(entry).split(":")[-2:]
        found[int(container.split("/")[0])] = int(host)
    return found


def flag(compose: dict[str, Any], service: str, name: str) -> str:
    """The value of ``name=value`` (``--config=``, ``-config.file=``) in a service's command."""
    for arg in compose["services"][service]["command"]:
        if arg.startswith(name + "="):
            return str(arg.split("=", 1)[1])
    raise AssertionError(f"{service}: no {name}= in its command")


@pytest.fixture(scope="module")
def collector(compose) -> dict[str, Any]:
    return load_yaml(mounted(compose, "otel-collector", flag(compose, "otel-collector", "--config")))  # type: ignore


def test_the_whole_stack_is_there(compose):
    assert set(compose["services"]) == SERVICES
    for name, service in compose["services"].items():
        for dependency in service.get("depends_on", []):
            assert dependency in SERVICES, (name, dependency)


def test_images_are_pinned(compose):
    for name, service in compose["services"].items():
        if "image" in service:
            repository, _, tag = service["image"].rpartition(":")
            assert repository and re.fullmatch(r"v?\d+\.\d+\.\d+", tag), (name, service["image"])


def test_every_mounted_file_exists(compose):
    for name in SERVICES:
        for target, source in mounts(compose, name).items():
            assert source.exists(), f"{name}: {source} (mounted at {target}) does not exist"
            assert source.is_relative_to(DEPLOY), source


def test_host_ports_are_unique(compose):
    host_ports = [port for name in SERVICES for port in published(compose, name).values()]
    assert len(host_ports) == len(set(host_ports))


def test_each_service_reads_the_configuration_compose_mounts(compose):
    expected = {
        ("otel-collector", "--config"): DEPLOY / "collector" / "local.yaml",
        ("tempo", "-config.file"): DEPLOY / "tempo" / "tempo.yaml",
        ("loki", "-config.file"): DEPLOY / "loki" / "loki.yaml",
        ("prometheus", "--config.file"): DEPLOY / "prometheus" / "prometheus.yaml",
    }
    for (service, name), path in expected.items():
        assert mounted(compose, service, flag(compose, service, name)) == path


def test_the_collector_configuration_is_valid_and_its_ports_are_published(compose, collector):
    assert validate(collector) == []
    ports = listening_ports(collector)
    assert set(published(compose, "otel-collector")) == {
        ports["receivers.otlp.grpc"],
        ports["receivers.otlp.http"],
        ports["extensions.health_check"],
    }


def test_the_app_sends_to_the_collector_where_it_listens(compose, collector):
    env = compose["services"]["llm-demo"]["environment"]
    endpoint = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint.hostname == "otel-collector"
    receivers = {"grpc": "receivers.otlp.grpc", "http/protobuf": "receivers.otlp.http"}
    receiver = receivers[env["OTEL_EXPORTER_OTLP_PROTOCOL"]]
    assert endpoint.port == listening_ports(collector)[receiver]
    assert "otel-collector" in compose["services"]["llm-demo"]["depends_on"]


def _exporter(collector: dict[str, Any], signal: str) -> tuple[str, str]:
    (xid,) = collector["service"]["pipelines"][signal]["exporters"]
    return xid.split("/", 1)[0], resolve_env(str(collector["exporters"][xid]["endpoint"]))


def test_traces_go_to_tempo_where_it_listens(compose, collector):
    kind, endpoint = _exporter(collector, "traces")
    host, port = endpoint.rsplit(":", 1)
    tempo = load_yaml(DEPLOY / "tempo" / "tempo.yaml")
    receiver = tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert kind == "otlp_grpc" and host == "tempo" and receiver == f"0.0.0.0:{port}"
    assert "tempo" in compose["services"]["otel-collector"]["depends_on"]


def test_metrics_go_to_prometheus_by_remote_write(compose, collector):
    kind, endpoint = _exporter(collector, "metrics")
    url = urlsplit(endpoint)
    assert kind == "prometheus_remote_write"
    assert (url.hostname, url.port, url.path) == ("prometheus", 9090, "/api/v1/write")
    assert "--web.enable-remote-write-receiver" in compose["services"]["prometheus"]["command"]
    assert 9090 in published(compose, "prometheus")  # Prometheus' default listen port


def test_logs_and_events_go_to_lokis_otlp_endpoint(compose, collector):
    kind, endpoint = _exporter(collector, "logs")
    url = urlsplit(endpoint)
    loki = load_yaml(DEPLOY / "loki" / "loki.yaml")
    assert kind == "otlp_http" and url.hostname == "loki" and url.path == "/otlp"
    assert url.port == loki["server"]["http_listen_port"]
    assert loki["limits_config"]["allow_structured_metadata"] is True  # OTLP attributes need it


def test_prometheus_loads_the_alert_rules_and_scrapes_the_collector(compose, collector):
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yaml")
    for rule_file in config["rule_files"]:
        assert mounted(compose, "prometheus", rule_file) == DEPLOY / "prometheus" / "alerts.yaml"
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    telemetry = listening_ports(collector)["service.telemetry.metrics.readers[0]"]
    assert f"otel-collector:{telemetry}" in targets


def test_the_scrape_route_prometheus_matches_its_collector():
    config = load_yaml(DEPLOY / "prometheus" / "prometheus-scrape.yaml")
    collector = load_yaml(DEPLOY / "collector" / "metrics-prometheus-scrape.yaml")
    (job,) = config["scrape_configs"]
    assert job["honor_labels"] is True  # keep job/instance from service.name / service.instance.id
    (target,) = job["static_configs"][0]["targets"]
    assert int(target.rsplit(":", 1)[1]) == listening_ports(collector)["exporters.prometheus"]


def test_grafana_datasources_point_at_the_services(compose):
    datasources = {
        d["uid"]: d
        for d in load_yaml(mounted(compose, "grafana", "/etc/grafana/provisioning/datasources/datasources.yaml"))[
            "datasources"
        ]
    }
    tempo = load_yaml(DEPLOY / "tempo" / "tempo.yaml")
    loki = load_yaml(DEPLOY / "loki" / "loki.yaml")
    expected = {
        "prometheus": ("prometheus", "prometheus", 9090),
        "tempo": ("tempo", "tempo", tempo["server"]["http_listen_port"]),
        "loki": ("loki", "loki", loki["server"]["http_listen_port"]),
    }
    for uid, (kind, host, port) in expected.items():
        url = urlsplit(datasources[uid]["url"])
        assert (datasources[uid]["type"], url.hostname, url.port) == (kind, host, port)
        assert host in compose["services"]["grafana"]["depends_on"]
    assert datasources["tempo"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert datasources["loki"]["jsonData"]["derivedFields"][0]["datasourceUid"] == "tempo"
    assert datasources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"][0]["datasourceUid"] == "tempo"
    assert "--enable-feature=exemplar-storage" in compose["services"]["prometheus"]["command"]


def test_the_demo_image_is_built_from_this_repository(compose):
    build = compose["services"]["llm-demo"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO
    dockerfile = context / build["dockerfile"]
    text = dockerfile.read_text()
    copied: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("COPY "):
            *sources, destination = line.split()[1:]
            copied[destination] = sources
            for source in sources:
                assert (context / source).exists(), f"{dockerfile.name}: COPY {source} does not exist"
    cmd = re.search(r'^CMD \["python", "([^"]+)"\]', text, re.M)
    assert cmd is not None
    assert Path(cmd.group(1)).name in {Path(s).name for s in copied["./"]}
    # every /app/ path the compose environment names is a file the image copies there
    for value in compose["services"]["llm-demo"]["environment"].values():
        if str(value).startswith("/app/"):
            assert any(Path(s).name == Path(value).name for s in copied["./"]), value
    assert re.search(r"pip install '\.\[demo\]'", text)
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r"^demo = \[", pyproject, re.M), "the demo extra the image installs"


def test_the_demo_build_ignores_everything_it_does_not_copy(compose):
    """BuildKit reads <Dockerfile>.dockerignore: the context is the whole checkout (.venv, .git...)."""
    build = compose["services"]["llm-demo"]["build"]
    dockerfile = (DEPLOY / build["context"]).resolve() / build["dockerfile"]
    rules = [
        line
        for line in Path(f"{dockerfile}.dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert rules[0] == "*"
    allowed = {rule.removeprefix("!").rstrip("/") for rule in rules if rule.startswith("!")}
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert source.rstrip("/") in allowed, source
