"""deploy/prometheus/alerts-spend.yaml: valid, unit-tested, the tests can fail, and the rules name
only metrics and labels the package exports."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import promql, test_alerts
from tests.deploy.conftest import DEPLOY, REPO, Catalog, load_yaml
from tests.deploy.test_alerts import check_references, promtool_run

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "alerts-spend.yaml"
UNIT_TESTS = PROMETHEUS / "alerts-spend.test.yaml"
RUNBOOK_BASE = (
    "https://github.com/opentelemetry-instrumentation-llm/opentelemetry-instrumentation-llm/blob/main/"
    "docs/cost-and-context.md#"
)
ALERTS = {"LLMUserDailyCostAboveCap", "GenAICostPerRequestDoubled", "GenAIPromptVersionTokensAbovePredecessor"}
# How each alert's threshold is loosened to "always true": its unit tests must then fail.
LOOSENED = {
    "LLMUserDailyCostAboveCap": ('user_id!="_OTHER"', 'user_id!="nobody"'),
    "GenAICostPerRequestDoubled": (">= 2 * (", ">= 1 * ("),
    "GenAIPromptVersionTokensAbovePredecessor": ("group_left () 1.5 * (", "group_left () 1 * ("),
}


def rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def test_rules_are_valid_and_their_unit_tests_pass(promtool):
    done = promtool_run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout
    done = promtool_run(promtool, "test", "rules", UNIT_TESTS.name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_alert_has_cases_that_must_fire_and_cases_that_must_not():
    assert {r["alert"] for r in rules() if "alert" in r} == ALERTS
    cases = [case for test in load_yaml(UNIT_TESTS)["tests"] for case in test["alert_rule_test"]]
    assert {c["alertname"] for c in cases if c["exp_alerts"]} == ALERTS
    assert {c["alertname"] for c in cases if not c["exp_alerts"]} == ALERTS


def test_alerts_carry_a_severity_and_a_runbook_section_in_the_docs():
    headings = {
        re.sub(r"[^a-z0-9 -]", "", m.group(1).lower()).replace(" ", "-")
        for m in re.finditer(r"^#+ (.+)$", (REPO / "docs" / "cost-and-context.md").read_text(), re.M)
    }
    for rule in rules():
        if "alert" in rule:
            assert rule["labels"]["severity"] in ("info", "warning", "critical")
            assert rule["annotations"]["runbook_url"] == RUNBOOK_BASE + rule["alert"].lower()
            assert rule["alert"].lower() in headings


def _mutated_run(promtool: Path, tmp_path: Path, alert: str, change: Callable[[dict[str, Any]], None]) -> Any:
    document = load_yaml(RULES)
    (rule,) = [r for group in document["groups"] for r in group["rules"] if r.get("alert") == alert]
    change(rule)
    (tmp_path / RULES.name).write_text(yaml.safe_dump(document, sort_keys=False))
    unit = load_yaml(UNIT_TESTS)
    unit["tests"] = [t for t in unit["tests"] if any(c["alertname"] == alert for c in t["alert_rule_test"])]
    (tmp_path / UNIT_TESTS.name).write_text(yaml.safe_dump(unit, sort_keys=False))
    return promtool_run(promtool, "test", "rules", UNIT_TESTS.name, cwd=tmp_path)


def _loosened(alert: str) -> Callable[[dict[str, Any]], None]:
    old, new = LOOSENED[alert]
    return lambda rule: rule.update(expr=rule["expr"].replace(old, new)) if rule["expr"].count(old) == 1 else None


# Never firing and not waiting are broken the same way as in test_alerts.py; loosening is per alert.
MUTATIONS = {**test_alerts.MUTATIONS, "threshold loosened": _loosened}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_unit_tests_fail_when_the_alert_is_broken(promtool, tmp_path, alert, mutation):
    done = _mutated_run(promtool, tmp_path, alert, MUTATIONS[mutation](alert))
    assert done.returncode != 0, done.stdout
    assert f"alertname: {alert}" in done.stdout + done.stderr, done.stdout


def test_a_lower_cap_fires_earlier(promtool, tmp_path):
    """The cap is the one number to tune: at 5 USD alice (0.6 USD a minute) is over at 9m and fires at 15m."""
    document = load_yaml(RULES)
    (cap,) = [r for group in document["groups"] for r in group["rules"] if r.get("record")]
    cap["expr"] = "vector(5)"
    (tmp_path / RULES.name).write_text(yaml.safe_dump(document, sort_keys=False))
    unit = load_yaml(UNIT_TESTS)
    (test,) = [t for t in unit["tests"] if t["alert_rule_test"][0]["alertname"] == "LLMUserDailyCostAboveCap"]
    expected = {"severity": "warning", "user_id": "alice"}
    summary = "user alice spent 9.00 USD on LLM calls today, above the daily cap"
    test["alert_rule_test"] = [
        {
            "eval_time": "15m",
            "alertname": "LLMUserDailyCostAboveCap",
            "exp_alerts": [
                {
                    "exp_labels": expected,
                    "exp_annotations": {"summary": summary, "runbook_url": RUNBOOK_BASE + "llmuserdailycostabovecap"},
                }
            ],
        }
    ]
    unit["tests"] = [test]
    (tmp_path / UNIT_TESTS.name).write_text(yaml.safe_dump(unit, sort_keys=False))
    done = promtool_run(promtool, "test", "rules", UNIT_TESTS.name, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_rule_file_is_loaded_by_every_prometheus_configuration(compose):
    mounts = [v for v in compose["services"]["prometheus"]["volumes"] if "alerts-spend.yaml" in v]
    assert mounts == ["./prometheus/alerts-spend.yaml:/etc/prometheus/alerts-spend.yaml:ro"]
    for config in ("prometheus.yaml", "prometheus-scrape.yaml", "prometheus-app-scrape.yaml"):
        assert "/etc/prometheus/alerts-spend.yaml" in load_yaml(PROMETHEUS / config)["rule_files"], config


def test_rules_and_unit_test_series_use_only_exported_metrics_and_labels(catalog: Catalog):
    series = catalog.series()
    recorded = {rule["record"]: set() for rule in rules() if "record" in rule}
    for rule in rules():
        assert check_references(rule["expr"], {**series, **recorded}) == [], rule.get("alert") or rule.get("record")
    for test in load_yaml(UNIT_TESTS)["tests"]:
        for item in test["input_series"]:
            ((metric, labels),) = promql.references(item["series"]).selectors
            assert metric in series, metric
            assert labels <= series[metric], (metric, labels - series[metric])
