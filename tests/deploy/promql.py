"""What a PromQL expression refers to: metric names, label names in selectors, grouping labels.

Syntax is checked by promtool; this module only lists references, so that tests can hold them
against the names the package really exports. It tokenizes (strings, numbers and durations,
identifiers, punctuation) and tracks selector braces, range brackets and grouping lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

AGGREGATIONS = frozenset(
    {
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    }
)
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = frozenset({"bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"}) | GROUPING

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<number>(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)(?:(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=(){}\[\],@])
  | (?P<space>\s+)
    """,
    re.VERBOSE,
)


@dataclass
class References:
    metrics: list[str] = field(default_factory=list)
    selectors: list[tuple[str | None, set[str]]] = field(default_factory=list)  # (metric, matcher labels)
    grouping: set[str] = field(default_factory=set)  # labels in by/without/on/ignoring/group_* lists
    aggregated: bool = False  # an aggregation operator is used somewhere


def tokens(expr: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None:
            raise ValueError(f"cannot tokenize PromQL at {expr[pos : pos + 20]!r} in {expr!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            found.append((kind, match.group()))
        pos = match.end()
    return found


def references(expr: str) -> References:
    toks = tokens(expr)
    refs = References()
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if text == "[":  # range or subquery: durations only
            while i < len(toks) and toks[i][1] != "]":
                i += 1
        elif kind == "ident" and text in GROUPING and nxt == "(":
            i += 2
            while i < len(toks) and toks[i][1] != ")":
                if toks[i][0] == "ident":
                    refs.grouping.add(toks[i][1])
                i += 1
        elif kind == "ident" and text in AGGREGATIONS and (nxt == "(" or nxt in GROUPING):
            refs.aggregated = True
        elif kind == "ident" and nxt == "(":
            pass  # a function
        elif kind == "ident" and text.lower() not in KEYWORDS:
            refs.metrics.append(text)
            if nxt == "{":
                i, labels = _selector(toks, i + 1)
                refs.selectors.append((text, labels))
                continue
            refs.selectors.append((text, set()))
        elif text == "{":  # a selector without a metric name
            i, labels = _selector(toks, i)
            refs.selectors.append((None, labels))
            continue
        i += 1
    return refs


def _selector(toks: list[tuple[str, str]], start: int) -> tuple[int, set[str]]:
    labels: set[str] = set()
    i = start + 1
    while i < len(toks) and toks[i][1] != "}":
        kind, text = toks[i]
        if kind == "ident" and i + 1 < len(toks) and toks[i + 1][1] in ("=", "!=", "=~", "!~"):
            labels.add(text)
        i += 1
    return i + 1, labels


# --------------------------------------------------------------------------------------- Grafana
GRAFANA_INTERVALS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "__interval_ms": "60000",
    "__range_ms": "3600000",
}
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[a-zA-Z0-9_]+)(?::[a-z]+)?\}|(?P<plain>[a-zA-Z0-9_]+))")


def grafana_variables(expr: str) -> set[str]:
    return {m.group("braced") or m.group("plain") for m in _VARIABLE.finditer(expr)}


def substitute_grafana(expr: str, template_variables: set[str]) -> str:
    """The expression as Grafana would send it: built-in intervals replaced by durations and each
    template variable (used in regex matchers) by ``.*``. Unknown variables raise."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        if name in GRAFANA_INTERVALS:
            return GRAFANA_INTERVALS[name]
        if name in template_variables:
            return ".*"
        raise ValueError(f"unknown Grafana variable ${name} in {expr!r}")

    return _VARIABLE.sub(replace, expr)


LEGEND_LABEL = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
