"""deploy/prometheus: the alert rules, their promtool unit tests, and that those tests can fail."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import promql
from tests.deploy.conftest import DEPLOY, REPO, Catalog, load_yaml

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "alerts.yaml"
UNIT_TESTS = [
    PROMETHEUS / "alerts.test.yaml",
    PROMETHEUS / "alerts-usage.test.yaml",
    PROMETHEUS / "alerts-agents.test.yaml",
]
RUNBOOK_BASE = (
    "https://github.com/opentelemetry-instrumentation-llm/opentelemetry-instrumentation-llm/blob/main/"
    "docs/operations.md#"
)

ALERTS = {
    "GenAILatencyP99AboveSLO",
    "GenAIErrorRateHigh",
    "GenAITokensPerRequestAboveWeeklyAverage",
    "GenAIDailyTokensAboveYesterday",
    "GenAICostAboveDailyBudget",
    "GPUTemperatureHigh",
    "GPUMemoryNearLimit",
    "LLMToolErrorRateHigh",
}
# How each alert's threshold is loosened to "always true": its unit tests must then fail.
LOOSENED = {
    "GenAILatencyP99AboveSLO": (") > 20", ") > 0"),
    "GenAIErrorRateHigh": (") > 0.05", ") > 0"),
    "GenAITokensPerRequestAboveWeeklyAverage": ("> 1.5 * (", "> 0 * ("),
    "GenAIDailyTokensAboveYesterday": ("> 1.2 * sum", "> 0 * sum"),
    "GenAICostAboveDailyBudget": ("[1d])) > 100", "[1d])) > 0"),
    "GPUTemperatureHigh": ("> 85", "> 0"),
    "GPUMemoryNearLimit": ("> 0.95", "> 0"),
    "LLMToolErrorRateHigh": (") > 0.1", ") > 0"),
}


def promtool_run(promtool: Path, *args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def alert_tests() -> dict[Path, list[dict[str, Any]]]:
    return {path: load_yaml(path)["tests"] for path in UNIT_TESTS}


def test_rules_are_valid(promtool):
    done = promtool_run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout


def test_unit_tests_pass(promtool):
    done = promtool_run(promtool, "test", "rules", *(p.name for p in UNIT_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(UNIT_TESTS)


def test_the_alerts_the_issue_asks_for():
    assert {r["alert"] for r in rules() if "alert" in r} == ALERTS


def test_every_alert_has_cases_that_must_fire_and_cases_that_must_not():
    fires: dict[str, int] = {}
    silent: dict[str, int] = {}
    for tests in alert_tests().values():
        for test in tests:
            for case in test.get("alert_rule_test", []):
                bucket = fires if case.get("exp_alerts") else silent
                bucket[case["alertname"]] = bucket.get(case["alertname"], 0) + 1
                for expected in case.get("exp_alerts") or []:
                    # other series in the same test must stay silent: the expected list is exact
                    assert expected["exp_labels"], case
    assert set(fires) == ALERTS
    assert set(silent) == ALERTS


def test_alerts_carry_a_severity_a_summary_and_a_runbook_in_the_docs():
    headings = {
        re.sub(r"[^a-z0-9 -]", "", m.group(1).lower()).replace(" ", "-")
        for m in re.finditer(r"^#+ (.+)$", (REPO / "docs" / "operations.md").read_text(), re.M)
    }
    for rule in rules():
        if "alert" not in rule:
            continue
        assert rule["labels"]["severity"] in ("info", "warning", "critical")
        assert rule["annotations"]["summary"]
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(RUNBOOK_BASE), url
        assert url.removeprefix(RUNBOOK_BASE) == rule["alert"].lower()
        assert rule["alert"].lower() in headings, f"docs/operations.md has no section {rule['alert']}"


def _recorded() -> dict[str, set[str]]:
    """Recording rule name -> its labels (the grouping labels of its aggregation)."""
    return {rule["record"]: promql.references(rule["expr"]).grouping for rule in rules() if "record" in rule}


def check_references(expr: str, series: dict[str, set[str]]) -> list[str]:
    """Problems with the metric and label names an expression uses."""
    refs = promql.references(expr)
    problems = []
    available: set[str] = set()
    for metric, labels in refs.selectors:
        if metric is None:
            continue
        if metric not in series:
            problems.append(f"unknown metric {metric}")
            continue
        available |= series[metric]
        missing = labels - series[metric] - {"__name__"}
        if missing:
            problems.append(f"{metric} has no labels {sorted(missing)}")
    missing = refs.grouping - available
    if missing:
        problems.append(f"grouping by labels no metric of {expr!r} has: {sorted(missing)}")
    return problems


def test_rules_use_only_exported_metrics_and_labels(catalog: Catalog):
    series = {**catalog.series(), **_recorded()}
    for rule in rules():
        assert check_references(rule["expr"], series) == [], rule.get("alert") or rule.get("record")
        for label in re.findall(r"\$labels\.([a-zA-Z0-9_]+)", str(rule.get("annotations", ""))):
            assert label in promql.references(rule["expr"]).grouping or any(
                label in series.get(m, set()) for m in promql.references(rule["expr"]).metrics
            ), (rule, label)


def test_unit_test_series_are_shaped_like_the_exported_ones(catalog: Catalog):
    series = catalog.series()
    for path, tests in alert_tests().items():
        for test in tests:
            for item in test["input_series"]:
                refs = promql.references(item["series"])
                ((metric, labels),) = refs.selectors
                assert metric in series, (path.name, metric)
                assert labels <= series[metric], (path.name, metric, labels - series[metric])


def _mutated_run(
    promtool: Path, tmp_path: Path, alert: str, change: Callable[[dict[str, Any]], None]
) -> subprocess.CompletedProcess[str]:
    """Run the unit tests that exercise ``alert`` against alerts.yaml with ``change`` made to its rule."""
    document = load_yaml(RULES)
    (rule,) = [r for group in document["groups"] for r in group["rules"] if r.get("alert") == alert]
    change(rule)
    (tmp_path / "alerts.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    # Only the unit tests that evaluate this alert, each file keeping its evaluation interval.
    names = []
    for path in UNIT_TESTS:
        unit = load_yaml(path)
        unit["tests"] = [t for t in unit["tests"] if any(c["alertname"] == alert for c in t.get("alert_rule_test", []))]
        if unit["tests"]:
            (tmp_path / path.name).write_text(yaml.safe_dump(unit, sort_keys=False))
            names.append(path.name)
    return promtool_run(promtool, "test", "rules", *names, cwd=tmp_path)


def _loosen(alert: str) -> Callable[[dict[str, Any]], None]:
    old, new = LOOSENED[alert]

    def change(rule: dict[str, Any]) -> None:
        assert rule["expr"].count(old) == 1, (alert, old)
        rule["expr"] = rule["expr"].replace(old, new)

    return change


MUTATIONS: dict[str, Callable[[str], Callable[[dict[str, Any]], None]]] = {
    "never fires": lambda alert: lambda rule: rule.update(expr="vector(1) < 0"),
    "threshold loosened": _loosen,
    "does not wait": lambda alert: lambda rule: rule.update({"for": "0s"}),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_unit_tests_fail_when_the_alert_is_broken(promtool, tmp_path, alert, mutation):
    """Proves the unit tests can fail: each alert's tests catch it never firing, firing below its
    threshold, and firing without waiting its `for` duration."""
    done = _mutated_run(promtool, tmp_path, alert, MUTATIONS[mutation](alert))
    assert done.returncode != 0, done.stdout
    assert f"alertname: {alert}" in done.stdout + done.stderr, done.stdout


@pytest.mark.parametrize("config", ["prometheus.yaml", "prometheus-scrape.yaml", "prometheus-app-scrape.yaml"])
def test_prometheus_configurations_are_valid(promtool, tmp_path, compose, config):
    """promtool check config, with the rule files where compose mounts them taken from the repository."""
    mounts = {
        target: source
        for source, target, *_ in (
            v.split(":") for v in compose["services"]["prometheus"]["volumes"] if v.startswith("./")
        )
    }
    text = (PROMETHEUS / config).read_text()
    for rule_file in load_yaml(PROMETHEUS / config)["rule_files"]:
        assert rule_file in mounts, f"{config}: {rule_file} is not mounted by compose.yaml"
        text = text.replace(rule_file, str((DEPLOY / mounts[rule_file]).resolve()))
    (tmp_path / config).write_text(text)
    done = promtool_run(promtool, "check", "config", str(tmp_path / config), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
