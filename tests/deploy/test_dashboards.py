"""deploy/grafana: the dashboards' PromQL parses (promtool) and names only what the package
exports, the panels the issue asks for exist, and provisioning finds them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import promql
from tests.deploy.conftest import DEPLOY, Catalog, load_yaml
from tests.deploy.test_alerts import check_references

DASHBOARDS = DEPLOY / "grafana" / "dashboards"
FILES = {
    "llm-overview": DASHBOARDS / "llm-overview.json",
    "gpu": DASHBOARDS / "gpu.json",
    "agents-and-tools": DASHBOARDS / "agents-and-tools.json",
}
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "datasources.yaml"


def dashboard(name: str) -> dict[str, Any]:
    return json.loads(FILES[name].read_text())  # type: ignore[no-any-return]


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows


def prometheus_queries(board: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, panel, target) for every PromQL target."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            kind = (target.get("datasource") or panel.get("datasource") or {}).get("type")
            if kind == "prometheus":
                yield f"{board['uid']} panel {panel['id']} {panel['title']!r} {target['refId']}", panel, target


def variable_names(board: dict[str, Any]) -> set[str]:
    return {v["name"] for v in board["templating"]["list"]}


_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<selector>.+),\s*)?(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\)$")


def variable_queries(board: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(variable, series selector, label) of each label_values() variable."""
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = _LABEL_VALUES.match(query.strip())
            assert match and match.group("selector"), f"{variable['name']}: expected label_values(selector, label)"
            yield variable["name"], match.group("selector"), match.group("label")


@pytest.mark.parametrize("name", sorted(FILES))
def test_dashboard_structure(name):
    board = dashboard(name)
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    occupied: set[tuple[int, int]] = set()
    for panel in panels(board):
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] != "row":
            assert panel.get("description"), f"{panel['title']}: say what it shows"
            assert panel["targets"], panel["title"]


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_datasource_is_a_variable_defaulting_to_a_provisioned_one(name):
    board = dashboard(name)
    provisioned = {d["uid"]: d["type"] for d in load_yaml(DATASOURCES)["datasources"]}
    variables = {v["name"]: v for v in board["templating"]["list"] if v["type"] == "datasource"}
    for variable in variables.values():
        assert provisioned.get(variable["current"]["value"]) == variable["query"], variable
    for panel in panels(board):
        for ref in [panel.get("datasource"), *(t.get("datasource") for t in panel.get("targets", []))]:
            if ref is None or panel["type"] == "row":
                continue
            uid = ref["uid"].removeprefix("${").removesuffix("}")
            assert uid in variables and variables[uid]["query"] == ref["type"], (panel["title"], ref)


@pytest.mark.parametrize("name", sorted(FILES))
def test_grafana_variables_in_queries_are_defined(name):
    board = dashboard(name)
    known = variable_names(board) | set(promql.GRAFANA_INTERVALS)
    for where, _, target in prometheus_queries(board):
        assert promql.grafana_variables(target["expr"]) <= known, where


def test_every_promql_expression_parses(promtool, tmp_path):
    """Each panel query and variable selector, with Grafana's variables substituted as Grafana
    would, becomes a recording rule; promtool check rules parses them all."""
    rules: list[dict[str, str]] = []
    names: dict[str, str] = {}
    for name in sorted(FILES):
        board = dashboard(name)
        variables = variable_names(board)
        expressions = [(where, target["expr"]) for where, _, target in prometheus_queries(board)]
        expressions += [(f"{board['uid']} variable {var}", selector) for var, selector, _ in variable_queries(board)]
        for where, expr in expressions:
            record = f"dashboard:check:{len(rules)}"
            names[record] = where
            rules.append({"record": record, "expr": promql.substitute_grafana(expr, variables)})
    assert len(rules) > 40
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = subprocess.run(
        [str(promtool), "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    failing = [names[n] for n in re.findall(r"dashboard:check:\d+", done.stdout + done.stderr)]
    assert done.returncode == 0, (failing, done.stdout + done.stderr)
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout


def test_promtool_rejects_a_broken_panel_query(promtool, tmp_path):
    """The check above can fail: a typo in a panel query is refused."""
    path = tmp_path / "broken.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "d",
                        "rules": [
                            {
                                "record": "dashboard:check:0",
                                "expr": "sum by (le (rate(gen_ai_client_token_usage_sum[5m]))",
                            }
                        ],
                    }
                ]
            }
        )
    )
    done = subprocess.run(
        [str(promtool), "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0


@pytest.mark.parametrize("name", sorted(FILES))
def test_queries_name_only_exported_metrics_and_labels(catalog: Catalog, name):
    series = catalog.series()
    board = dashboard(name)
    variables = variable_names(board)
    for where, _, target in prometheus_queries(board):
        assert check_references(promql.substitute_grafana(target["expr"], variables), series) == [], where
    for var, selector, label in variable_queries(board):
        ((metric, labels),) = promql.references(promql.substitute_grafana(selector, variables)).selectors
        assert metric in series and labels <= series[metric] and label in series[metric], (var, selector, label)


@pytest.mark.parametrize("name", sorted(FILES))
def test_legends_name_labels_the_query_returns(catalog: Catalog, name):
    series = catalog.series()
    board = dashboard(name)
    for where, _, target in prometheus_queries(board):
        refs = promql.references(promql.substitute_grafana(target["expr"], variable_names(board)))
        available = refs.grouping if refs.aggregated else set().union(*(series[m] for m in refs.metrics))
        used = set(promql.LEGEND_LABEL.findall(target.get("legendFormat", "")))
        assert used <= available - {"le"}, (where, used - available)


def test_referencing_a_metric_the_package_does_not_export_is_caught(catalog: Catalog):
    series = catalog.series()
    assert check_references("rate(gen_ai_client_operation_duration_bucket[5m])", series)  # no _seconds
    assert check_references("sum by (user_id) (rate(gen_ai_client_token_usage_sum[5m]))", series)
    assert check_references('gen_ai_client_token_usage_sum{gen_ai_token_typ="input"}', series)


# ------------------------------------------------------------------ the panels the issue asks for
def queries_of(board: dict[str, Any]) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for _, panel, target in prometheus_queries(board)]


def find(board: dict[str, Any], *patterns: str) -> list[str]:
    """Titles of panels with a query matching every regular expression."""
    return [title for title, expr in queries_of(board) if all(re.search(p, expr) for p in patterns)]


def test_llm_overview_has_the_panels_the_issue_asks_for():
    board = dashboard("llm-overview")
    d = "gen_ai_client_operation_duration_seconds"
    assert find(board, rf"rate\({d}_count\{{")  # request rate
    for q in ("0.5", "0.95", "0.99"):  # latency quantiles from the duration histogram
        assert find(board, rf"histogram_quantile\({q}, sum by \(le\) \(rate\({d}_bucket")
    assert find(board, r"sum by \(error_type", rf"{d}_count\{{[^}}]*error_type!=\"\"")  # errors by type
    assert find(board, r"by \(gen_ai_token_type, gen_ai_request_model\) \(rate\(gen_ai_client_token_usage_sum")
    assert find(board, r"by \(gen_ai_request_model\) \(rate\(gen_ai_client_operation_cost_USD_total")
    assert find(board, r"by \(llm_tenant_id\) \(rate\(gen_ai_client_operation_cost_USD_total")
    assert find(board, r"histogram_quantile\(.*gen_ai_client_operation_time_to_first_chunk_seconds_bucket")
    assert find(board, r"histogram_quantile\(.*gen_ai_client_operation_time_per_output_chunk_seconds_bucket")


def test_gpu_dashboard_has_the_panels_the_issue_asks_for():
    board = dashboard("gpu")
    assert find(board, r"^hw_gpu_utilization_ratio\{")
    memory = [
        p
        for p in panels(board)
        if {t["expr"].split("{")[0] for t in p.get("targets", [])}
        == {"hw_gpu_memory_usage_bytes", "hw_gpu_memory_limit_bytes"}
    ]
    assert memory, "a panel with memory used vs limit"
    assert find(board, r"^hw_power_watts\{")
    assert find(board, r"^hw_temperature_celsius\{")
    per_gpu = [t for _, p, t in prometheus_queries(board) if p["type"] == "timeseries"]
    assert all("hw_name" in t["legendFormat"] or "hw_id" in t["legendFormat"] for t in per_gpu)


def test_alert_thresholds_are_drawn_on_the_matching_panels():
    rules = {
        r["alert"]: r
        for g in load_yaml(DEPLOY / "prometheus" / "alerts.yaml")["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    thresholds = {
        p["title"]: [s["value"] for s in p["fieldConfig"]["defaults"].get("thresholds", {}).get("steps", [])]
        for p in panels(dashboard("gpu"))
        if p["type"] == "timeseries"
    }
    assert 85 in thresholds["Temperature per GPU"] and "> 85" in rules["GPUTemperatureHigh"]["expr"]
    assert 0.95 in thresholds["Memory used / limit"] and "> 0.95" in rules["GPUMemoryNearLimit"]["expr"]


def test_provisioning_loads_the_dashboards_from_where_compose_mounts_them(compose):
    (provider,) = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml")["providers"]
    mounts = dict(reversed(v.split(":")[:2]) for v in compose["services"]["grafana"]["volumes"])
    source = DEPLOY / mounts[provider["options"]["path"]]
    assert {p.name for p in source.glob("*.json")} == {p.name for p in FILES.values()}
    assert DEPLOY / mounts["/etc/grafana/provisioning"] == DEPLOY / "grafana" / "provisioning"
    home = Path(compose["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert (source / home.relative_to(provider["options"]["path"])).exists()


def test_dashboard_links_point_at_each_other():
    uids = {dashboard(n)["uid"] for n in FILES}
    for name in FILES:
        for link in dashboard(name)["links"]:
            assert link["url"].removeprefix("/d/") in uids
