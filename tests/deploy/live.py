"""A live monitoring stack on loopback for the tests: Prometheus, Alertmanager, a Slack stand-in.

Every process is started with a bounded wait for readiness and stopped (terminate, then kill) by
its owner; nothing listens beyond 127.0.0.1 (Alertmanager's cluster port is switched off).
The configurations are the shipped ones, with only what a test must change: addresses, and
shorter intervals (``for:`` windows, group waits), whose timing promtool's unit tests cover.
"""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.deploy import tools
from tests.e2e.collector import free_port, wait_until


class Server:
    """A child process serving HTTP on a loopback port, ready when ``ready_path`` answers 200."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        port: int,
        ready_path: str,
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name, self.port, self.log = name, port, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(list(args), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            wait_until(lambda: self._ready(ready_path), 30, f"{name} to answer {ready_path}")
        except AssertionError:
            self.stop()
            raise AssertionError(f"{name} did not start; its log:\n{self.log_tail()}") from None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ready(self, path: str) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def get_json(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=10) as response:
            return json.load(response)

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    """Terminate (a clean exit: flushes, releases ports), and kill what outlives ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Received:
    path: str
    body: dict[str, Any]


@dataclass
class WebhookSink:
    """Stands in for Slack's incoming webhooks: records every JSON POST."""

    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                sink.received.append(Received(self.path, json.loads(self.rfile.read(length) or b"{}")))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------------ test copies of the configs
def fast_rules(rules: dict[str, Any]) -> dict[str, Any]:
    """The shipped rules with every ``for:`` at 0s and every group evaluated each second."""
    copy: dict[str, Any] = json.loads(json.dumps(rules))
    for group in copy["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "0s"
    return copy


def prometheus_config(
    shipped: dict[str, Any], app_port: int, alertmanager_port: int, rule_files: list[str]
) -> dict[str, Any]:
    """The shipped app-scrape configuration, pointed at the test's app, rules and Alertmanager."""
    config: dict[str, Any] = json.loads(json.dumps(shipped))
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = rule_files
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{app_port}"]}]
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]}
    return config


def alertmanager_config(shipped: dict[str, Any], webhook_url_file: Path, templates: Path) -> dict[str, Any]:
    """The shipped configuration with the Slack URL file and templates of the test, no waits."""
    config: dict[str, Any] = json.loads(json.dumps(shipped))
    config["global"]["slack_api_url_file"] = str(webhook_url_file)
    config["templates"] = [str(templates)]
    config["route"].update({"group_wait": "0s", "group_interval": "1s"})
    return config


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def start_prometheus(binary: Path, config: Path, workdir: Path) -> Server:
    port = free_port()
    return Server(
        "prometheus",
        [
            str(binary),
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        port,
        "/-/ready",
        workdir / "prometheus.log",
        cwd=workdir,
    )


def start_alertmanager(binary: Path, config: Path, workdir: Path) -> Server:
    port = free_port()
    return Server(
        "alertmanager",
        [
            str(binary),
            f"--config.file={config}",
            f"--storage.path={workdir / 'am'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        port,
        "/-/ready",
        workdir / "alertmanager.log",
        cwd=tools.alertmanager_root(binary) or workdir,
    )
