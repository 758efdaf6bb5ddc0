"""deploy/alertmanager/: amtool accepts the configuration and its Slack template, routes every
severity the alerts use to its Slack receiver, and rejects broken copies.

Delivery through a running Alertmanager is tested in test_live_stack.py."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import tools
from tests.deploy.conftest import DEPLOY, load_yaml

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yaml"
TEMPLATE = DEPLOY / "alertmanager" / "slack.tmpl"
CHANNELS = {
    "critical": ("slack-critical", "#llm-oncall"),
    "warning": ("slack-warnings", "#llm-alerts"),
    "info": ("slack-info", "#llm-usage"),
}


@pytest.fixture(scope="module")
def amtool() -> Path:
    try:
        return tools.amtool()
    except tools.Unavailable as exc:
        pytest.skip(str(exc))


def checkable(tmp_path: Path, config: dict[str, Any], template: str | None = None) -> Path:
    """A copy whose template path names the repository's template (or ``template`` text)."""
    template_path = TEMPLATE
    if template is not None:
        template_path = tmp_path / "slack.tmpl"
        template_path.write_text(template)
    config = {**config, "templates": [str(template_path)]}
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def check(amtool: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(amtool), "check-config", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_amtool_accepts_the_shipped_configuration_and_template(amtool, tmp_path):
    as_shipped = check(amtool, CONFIG)
    assert as_shipped.returncode == 0, as_shipped.stdout + as_shipped.stderr
    with_template = check(amtool, checkable(tmp_path, load_yaml(CONFIG)))
    assert with_template.returncode == 0, with_template.stdout + with_template.stderr
    assert "SUCCESS" in with_template.stdout


def test_every_severity_the_alerts_use_is_routed_to_its_slack_channel(amtool):
    rules = load_yaml(DEPLOY / "prometheus" / "alerts.yaml")
    severities = {r["labels"]["severity"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert severities <= set(CHANNELS), severities
    receivers = {r["name"]: r for r in load_yaml(CONFIG)["receivers"]}
    for severity, (receiver, channel) in CHANNELS.items():
        routed = subprocess.run(
            [
                str(amtool),
                "config",
                "routes",
                "test",
                f"--config.file={CONFIG}",
                f"severity={severity}",
                "alertname=Any",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert routed.stdout.strip() == receiver, routed.stdout + routed.stderr
        (slack,) = receivers[receiver]["slack_configs"]
        assert slack["channel"] == channel
    # The webhook URL is a secret: read from a file, never written in the configuration.
    shipped = load_yaml(CONFIG)
    assert "slack_api_url" not in shipped["global"] and shipped["global"]["slack_api_url_file"]
    watchdog = subprocess.run(
        [str(amtool), "config", "routes", "test", f"--config.file={CONFIG}", "alertname=Watchdog", "severity=none"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert watchdog.stdout.strip() == "null", watchdog.stdout + watchdog.stderr
    assert all("api_url" not in slack for r in receivers.values() for slack in r.get("slack_configs", []))


@pytest.mark.parametrize("breakage", ["unknown receiver", "bad matcher", "unknown field", "broken template"])
def test_amtool_rejects_a_broken_copy(amtool, tmp_path, breakage):
    config = load_yaml(CONFIG)
    template = None
    if breakage == "unknown receiver":
        config["route"]["routes"][1]["receiver"] = "slack-nowhere"
    elif breakage == "bad matcher":
        config["route"]["routes"][1]["matchers"] = ["severity=~("]
    elif breakage == "unknown field":
        config["receivers"][1]["slack_configs"][0]["chanel"] = "#typo"
    else:
        template = TEMPLATE.read_text().replace("{{- end }}", "{{- end", 1)
    done = check(amtool, checkable(tmp_path, config, template))
    assert done.returncode != 0, done.stdout
