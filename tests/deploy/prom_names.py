"""OTLP metric and attribute names as Prometheus stores them, by the default translation.

This is the ``UnderscoreEscapingWithSuffixes`` strategy shared by Prometheus' own OTLP receiver
(``--web.enable-otlp-receiver``) and the Collector's ``prometheus_remote_write`` and
``prometheus`` exporters (``github.com/prometheus/otlptranslator``):

- the name is split on every character outside ``[a-zA-Z0-9:]`` and joined with ``_`` (dots
  become underscores, runs of separators collapse);
- the unit is appended unless the name already contains it: ``s`` -> ``seconds``, ``By`` ->
  ``bytes``, ``W`` -> ``watts``, ``J`` -> ``joules``, ``Cel`` -> ``celsius``, ``Hz`` -> ``hertz``,
  ``By/s`` -> ``bytes_per_second``; ``1`` adds nothing; a unit in curly braces (``{token}``,
  ``{error}``) adds nothing; any other unit is kept as written (``USD``);
- monotonic sums (counters) end in ``_total``; gauges with unit ``1`` end in ``_ratio``
  (non-monotonic sums are gauges in Prometheus but do not get ``_ratio``);
- histograms become ``<name>_bucket`` (with ``le``), ``<name>_sum`` and ``<name>_count``;
- attribute keys become label names with every character outside ``[a-zA-Z0-9_]`` replaced by
  ``_``; ``service.name`` becomes ``job`` and ``service.instance.id`` becomes ``instance``.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["histogram", "counter", "updown", "gauge"]

UNITS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "TiBy": "tibibytes",
    "KBy": "kilobytes",
    "MBy": "megabytes",
    "GBy": "gigabytes",
    "TBy": "terabytes",
    "m": "meters",
    "V": "volts",
    "A": "amperes",
    "J": "joules",
    "W": "watts",
    "g": "grams",
    "Cel": "celsius",
    "Hz": "hertz",
    "1": "",
    "%": "percent",
}
PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year"}

_INVALID_NAME = re.compile(r"[^a-zA-Z0-9:]+")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")


def _clean_unit(unit: str) -> str:
    return re.sub(r"_+", "_", _INVALID_NAME.sub("_", unit)).lstrip("_")


def unit_suffixes(unit: str) -> tuple[str, str]:
    """(main, per) suffix tokens for a UCUM unit; empty strings where none is added."""
    main_unit, _, per_unit = unit.partition("/")
    main_unit, per_unit = main_unit.strip(), per_unit.strip()
    main = "" if not main_unit or "{" in main_unit or "}" in main_unit else UNITS.get(main_unit, main_unit)
    per = "" if not per_unit or "{" in per_unit or "}" in per_unit else PER_UNITS.get(per_unit, per_unit)
    return _clean_unit(main).rstrip("_"), (f"per_{_clean_unit(per)}".rstrip("_") if per else "")


def metric_name(name: str, unit: str, kind: Kind) -> str:
    """The Prometheus name of an OTLP metric (for histograms: the base of _bucket/_sum/_count)."""
    tokens = [t for t in _INVALID_NAME.split(name) if t]
    main, per = unit_suffixes(unit)
    if main and main not in tokens:
        tokens.append(main)
    if per and per not in tokens:
        tokens.append(per)
    if kind == "counter":
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if unit == "1" and kind == "gauge":
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    joined = "_".join(tokens)
    return f"_{joined}" if joined[:1].isdigit() else joined


def series_names(name: str, unit: str, kind: Kind) -> list[str]:
    base = metric_name(name, unit, kind)
    if kind == "histogram":
        return [f"{base}_bucket", f"{base}_sum", f"{base}_count"]
    return [base]


def label_name(attribute: str) -> str:
    label = re.sub(r"_+", "_", _INVALID_LABEL.sub("_", attribute)) if not attribute.startswith("__") else attribute
    return f"key_{label}" if label[:1].isdigit() else label


RESOURCE_LABELS = {"service.name": "job", "service.instance.id": "instance"}
