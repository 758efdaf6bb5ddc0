"""The "Agents and tools" dashboard has the panels issue 14 asks for, and draws its alert's threshold."""

from __future__ import annotations

from tests.deploy.conftest import DEPLOY, load_yaml
from tests.deploy.test_dashboards import dashboard, find, panels

A = "gen_ai_invoke_agent_duration_seconds"
T = "gen_ai_execute_tool_duration_seconds"


def test_agents_dashboard_has_the_panels_the_issue_asks_for():
    board = dashboard("agents-and-tools")
    assert find(board, rf"rate\({A}_count\{{")  # runs per second
    assert find(board, rf"histogram_quantile\(0.95, sum by \(le\) \(rate\({A}_bucket")  # run duration p95
    assert find(board, rf"sum by \(gen_ai_tool_name\) \(rate\({T}_count\{{")  # tool calls by tool
    assert find(board, rf"sum by \(gen_ai_tool_name\) \(rate\({T}_count\{{[^}}]*error_type!=\"\"")  # error rate
    assert find(board, rf"histogram_quantile\(0.95, sum by \(le, gen_ai_tool_name\) \(rate\({T}_bucket")
    assert find(board, r"rate\(gen_ai_invoke_agent_inference_calls_sum")  # model calls per run


def test_the_tool_error_alert_threshold_is_drawn_on_its_panel():
    rules = {
        r["alert"]: r
        for g in load_yaml(DEPLOY / "prometheus" / "alerts.yaml")["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    (panel,) = [p for p in panels(dashboard("agents-and-tools")) if p["title"] == "Tool error rate by tool"]
    steps = [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert 0.1 in steps and ") > 0.1" in rules["LLMToolErrorRateHigh"]["expr"]
