"""A structural validator for OpenTelemetry Collector configurations, for when no
``otelcol-contrib`` binary can be had to run ``otelcol-contrib validate``.

It checks what the Collector checks before it starts, for the components this project's
configurations use, as of otelcol-contrib ``CONTRIB_VERSION``:

- top-level sections, component ids (``type[/name]``), canonical component type names (the
  deprecated aliases ``otlp``, ``otlphttp``, ``prometheusremotewrite``, ``loadbalancing`` of
  exporters are refused), and that each type exists in that release of otelcol-contrib;
- configuration keys: like the Collector (which refuses unknown keys), every key must be one
  the component accepts, nested sections included; required settings are present;
- pipelines: ``traces``/``metrics``/``logs`` (optionally ``/name``), at least one receiver and
  one exporter, every component defined and able to handle the pipeline's signal, no duplicate
  in a list, every defined component used, every enabled extension defined;
- ``${env:NAME}`` / ``${env:NAME:-default}`` references only, and endpoints that parse;
- the tail-sampling policies (types, their settings, OTTL conditions that tokenize and name known
  paths), the load-balancing resolver, the memory limiter's limits and position, and the batch
  sizes.

Key sets were transcribed from the components' ``config.go`` files and READMEs. It is narrower
than the real thing (a valid key it does not list is refused; semantic checks the components
make at start-up beyond those listed are not made): `otelcol-contrib validate` remains the
reference, run by tests/deploy/test_collector_configs.py whenever a binary is available.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

CONTRIB_VERSION = "0.159.0"
SIGNALS = frozenset({"traces", "metrics", "logs"})
ALL = SIGNALS

Schema = Mapping[str, Any]  # key -> nested Schema, or None for a value not checked further
ANY = None

# ----------------------------------------------------------------------------------- shared schemas
TLS_CLIENT: Schema = dict.fromkeys(
    (
        "insecure",
        "insecure_skip_verify",
        "ca_file",
        "ca_pem",
        "cert_file",
        "cert_pem",
        "key_file",
        "key_pem",
        "server_name_override",
        "min_version",
        "max_version",
        "reload_interval",
        "include_system_ca_certs_pool",
        "cipher_suites",
        "curve_preferences",
    ),
    ANY,
)
TLS_SERVER: Schema = dict.fromkeys(
    (
        "ca_file",
        "ca_pem",
        "cert_file",
        "cert_pem",
        "key_file",
        "key_pem",
        "client_ca_file",
        "client_ca_file_reload",
        "min_version",
        "max_version",
        "reload_interval",
        "include_system_ca_certs_pool",
        "cipher_suites",
        "curve_preferences",
    ),
    ANY,
)
RETRY: Schema = dict.fromkeys(
    ("enabled", "initial_interval", "max_interval", "max_elapsed_time", "multiplier", "randomization_factor"), ANY
)
QUEUE: Schema = dict.fromkeys(
    ("enabled", "num_consumers", "queue_size", "storage", "sizer", "block_on_overflow", "wait_for_result", "batch"), ANY
)
AUTH: Schema = {"authenticator": ANY}
GRPC_CLIENT: Schema = {
    "endpoint": ANY,
    "tls": TLS_CLIENT,
    "compression": ANY,
    "headers": ANY,
    "timeout": ANY,
    "sending_queue": QUEUE,
    "retry_on_failure": RETRY,
    "balancer_name": ANY,
    "auth": AUTH,
    "keepalive": ANY,
    "write_buffer_size": ANY,
    "read_buffer_size": ANY,
    "wait_for_ready": ANY,
    "authority": ANY,
    "compression_params": ANY,
}
HTTP_CLIENT: Schema = {
    "endpoint": ANY,
    "traces_endpoint": ANY,
    "metrics_endpoint": ANY,
    "logs_endpoint": ANY,
    "profiles_endpoint": ANY,
    "tls": TLS_CLIENT,
    "headers": ANY,
    "compression": ANY,
    "compression_params": ANY,
    "timeout": ANY,
    "encoding": ANY,
    "sending_queue": QUEUE,
    "retry_on_failure": RETRY,
    "auth": AUTH,
    "read_buffer_size": ANY,
    "write_buffer_size": ANY,
    "max_idle_conns": ANY,
    "max_idle_conns_per_host": ANY,
    "max_conns_per_host": ANY,
    "idle_conn_timeout": ANY,
    "disable_keep_alives": ANY,
    "proxy_url": ANY,
    "http2_read_idle_timeout": ANY,
    "http2_ping_timeout": ANY,
    "cookies": ANY,
}
OTLP_RECEIVER: Schema = {
    "protocols": {
        "grpc": {
            "endpoint": ANY,
            "transport": ANY,
            "tls": TLS_SERVER,
            "max_recv_msg_size_mib": ANY,
            "max_concurrent_streams": ANY,
            "read_buffer_size": ANY,
            "write_buffer_size": ANY,
            "keepalive": ANY,
            "auth": AUTH,
            "include_metadata": ANY,
        },
        "http": {
            "endpoint": ANY,
            "tls": TLS_SERVER,
            "cors": ANY,
            "auth": AUTH,
            "include_metadata": ANY,
            "max_request_body_size": ANY,
            "traces_url_path": ANY,
            "metrics_url_path": ANY,
            "logs_url_path": ANY,
            "response_headers": ANY,
        },
    }
}


@dataclass(frozen=True)
class Component:
    kind: str  # receiver, processor, exporter, extension
    signals: frozenset[str]
    schema: Schema
    required: tuple[str, ...] = ()
    check: Callable[[str, Mapping[str, Any]], list[str]] | None = None


Problems = list[str]


# ----------------------------------------------------------------------------------- component checks
def _check_memory_limiter(cid: str, cfg: Mapping[str, Any]) -> Problems:
    problems = []
    if not cfg.get("check_interval"):
        problems.append(f"{cid}: check_interval must be set and non-zero")
    by_mib, by_pct = "limit_mib" in cfg, "limit_percentage" in cfg
    if by_mib == by_pct:
        problems.append(f"{cid}: set exactly one of limit_mib and limit_percentage")
    if by_pct:
        limit, spike = cfg.get("limit_percentage", 0), cfg.get("spike_limit_percentage", 0)
        if not (0 < limit <= 100) or not (0 <= spike < limit):
            problems.append(f"{cid}: need 0 < spike_limit_percentage < limit_percentage <= 100")
    if by_mib and cfg.get("spike_limit_mib", 0) >= cfg.get("limit_mib", 0):
        problems.append(f"{cid}: spike_limit_mib must be below limit_mib")
    return problems


def _check_batch(cid: str, cfg: Mapping[str, Any]) -> Problems:
    size, most = cfg.get("send_batch_size"), cfg.get("send_batch_max_size")
    if size is not None and most is not None and most != 0 and most < size:
        return [f"{cid}: send_batch_max_size ({most}) must be 0 or at least send_batch_size ({size})"]
    return []


POLICY_SETTINGS: dict[str, Schema | None] = {
    "always_sample": None,
    "latency": {"threshold_ms": ANY, "upper_threshold_ms": ANY},
    "numeric_attribute": {"key": ANY, "min_value": ANY, "max_value": ANY, "invert_match": ANY},
    "probabilistic": {"hash_salt": ANY, "sampling_percentage": ANY},
    "status_code": {"status_codes": ANY},
    "string_attribute": {
        "key": ANY,
        "values": ANY,
        "enabled_regex_matching": ANY,
        "cache_max_size": ANY,
        "invert_match": ANY,
    },
    "rate_limiting": {"spans_per_second": ANY},
    "bytes_limiting": {"bytes_per_second": ANY, "burst_capacity": ANY},
    "span_count": {"min_spans": ANY, "max_spans": ANY},
    "boolean_attribute": {"key": ANY, "value": ANY, "invert_match": ANY},
    "trace_state": {"key": ANY, "values": ANY},
    "ottl_condition": {"error_mode": ANY, "span": ANY, "spanevent": ANY},
    "and": {"and_sub_policy": ANY},
    "composite": {
        "max_total_spans_per_second": ANY,
        "policy_order": ANY,
        "composite_sub_policy": ANY,
        "rate_allocation": ANY,
    },
    "not": {"not_sub_policy": ANY},
    "drop": {"drop_sub_policy": ANY},
}
OTTL_SPAN_PATHS = frozenset(
    {
        "attributes",
        "resource.attributes",
        "instrumentation_scope.name",
        "instrumentation_scope.version",
        "name",
        "kind",
        "status.code",
        "status.message",
        "start_time_unix_nano",
        "end_time_unix_nano",
        "start_time",
        "end_time",
        "trace_id",
        "span_id",
        "parent_span_id",
        "trace_state",
        "dropped_attributes_count",
        "events",
        "links",
        "trace_id.string",
        "span_id.string",
    }
)
OTTL_LITERALS = frozenset({"nil", "true", "false", "and", "or", "not"})
_OTTL_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<path>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)
  | (?P<enum>[A-Z][A-Z0-9_]+(?![A-Za-z0-9]))
  | (?P<function>[A-Z][A-Za-z0-9]*)
  | (?P<op>==|!=|>=|<=|[<>+\-*/\[\](),])
  | (?P<space>\s+)
    """,
    re.VERBOSE,
)


def check_ottl_condition(statement: str, paths: frozenset[str] = OTTL_SPAN_PATHS) -> Problems:
    """Tokenizes an OTTL boolean expression and checks its brackets and paths."""
    problems, pos, depth, previous = [], 0, 0, ""
    while pos < len(statement):
        match = _OTTL_TOKEN.match(statement, pos)
        if match is None:
            return [f"OTTL {statement!r}: cannot read {statement[pos : pos + 15]!r}"]
        kind, text = match.lastgroup, match.group()
        if kind == "op" and text in "([":
            depth += 1
        elif kind == "op" and text in ")]":
            depth -= 1
            if depth < 0:
                return [f"OTTL {statement!r}: unbalanced brackets"]
        elif kind == "path" and text not in OTTL_LITERALS and text not in paths:
            problems.append(f"OTTL {statement!r}: unknown span path {text!r}")
        previous = text if kind != "space" else previous
        pos = match.end()
    if depth:
        problems.append(f"OTTL {statement!r}: unbalanced brackets")
    if previous in ("and", "or", "not", "==", "!=", ">=", "<=", "<", ">", "+", "-", "*", "/"):
        problems.append(f"OTTL {statement!r}: ends with an operator")
    return problems


def _check_policy(cid: str, policy: Any, names: set[str]) -> Problems:
    if not isinstance(policy, Mapping):
        return [f"{cid}: each policy must be a mapping"]
    name, ptype = policy.get("name"), policy.get("type")
    where = f"{cid} policy {name!r}"
    problems = []
    if not name:
        problems.append(f"{cid}: a policy without a name")
    elif name in names:
        problems.append(f"{where}: duplicate name")
    names.add(str(name))
    if ptype not in POLICY_SETTINGS:
        return [*problems, f"{where}: unknown type {ptype!r}"]
    extra = set(policy) - {"name", "type"} - ({ptype} if POLICY_SETTINGS[ptype] is not None else set())
    if extra:
        problems.append(f"{where}: settings {sorted(extra)} do not belong to type {ptype}")
    settings = POLICY_SETTINGS[ptype]
    if settings is None:
        return problems
    block = policy.get(ptype)
    if not isinstance(block, Mapping):
        return [*problems, f"{where}: type {ptype} needs its settings under {ptype}:"]
    problems += _keys(f"{where}.{ptype}", block, settings)
    if ptype == "status_code":
        codes = block.get("status_codes") or []
        if not codes or not set(codes) <= {"OK", "ERROR", "UNSET"}:
            problems.append(f"{where}: status_codes must be a non-empty list of OK, ERROR, UNSET")
    elif ptype == "latency" and not (isinstance(block.get("threshold_ms"), int) and block["threshold_ms"] > 0):
        problems.append(f"{where}: latency.threshold_ms must be a positive integer")
    elif ptype == "probabilistic":
        pct = block.get("sampling_percentage")
        if not isinstance(pct, (int, float)) or not 0 < pct <= 100:
            problems.append(f"{where}: sampling_percentage must be in (0, 100]")
    elif ptype == "ottl_condition":
        if block.get("error_mode", "propagate") not in ("ignore", "silent", "propagate"):
            problems.append(f"{where}: error_mode must be ignore, silent or propagate")
        statements = [*(block.get("span") or []), *(block.get("spanevent") or [])]
        if not statements:
            problems.append(f"{where}: ottl_condition needs span or spanevent conditions")
        for statement in block.get("span") or []:
            problems += [f"{where}: {p}" for p in check_ottl_condition(str(statement))]
    elif ptype in ("string_attribute", "numeric_attribute", "boolean_attribute") and not block.get("key"):
        problems.append(f"{where}: {ptype}.key is required")
    return problems


def _check_tail_sampling(cid: str, cfg: Mapping[str, Any]) -> Problems:
    policies = cfg.get("policies")
    if not isinstance(policies, list) or not policies:
        return [f"{cid}: policies must be a non-empty list"]
    names: set[str] = set()
    problems = []
    for policy in policies:
        problems += _check_policy(cid, policy, names)
    return problems


def _check_load_balancing(cid: str, cfg: Mapping[str, Any]) -> Problems:
    problems = []
    if cfg.get("routing_key", "traceID") not in ("traceID", "service", "resource", "metric", "streamID", "attributes"):
        problems.append(f"{cid}: unknown routing_key {cfg.get('routing_key')!r}")
    resolvers = [k for k in ("static", "dns", "k8s", "aws_cloud_map") if k in (cfg.get("resolver") or {})]
    if len(resolvers) != 1:
        problems.append(f"{cid}: resolver needs exactly one of static, dns, k8s, aws_cloud_map")
    elif resolvers == ["dns"] and not cfg["resolver"]["dns"].get("hostname"):
        problems.append(f"{cid}: resolver.dns.hostname is required")
    elif resolvers == ["static"] and not cfg["resolver"]["static"].get("hostnames"):
        problems.append(f"{cid}: resolver.static.hostnames is required")
    if "endpoint" in ((cfg.get("protocol") or {}).get("otlp") or {}):
        problems.append(f"{cid}: protocol.otlp takes no endpoint (the resolver gives them)")
    return problems


def _check_otlp_http(cid: str, cfg: Mapping[str, Any]) -> Problems:
    if not any(cfg.get(k) for k in ("endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint")):
        return [f"{cid}: endpoint (or a per-signal endpoint) is required"]
    return [
        f"{cid}: {k} must be an http(s) URL"
        for k in ("endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint")
        if k in cfg and urlsplit(resolve_env(str(cfg[k]))).scheme not in ("http", "https")
    ]


# ----------------------------------------------------------------------------------- the catalogue
COMPONENTS: dict[str, Component] = {
    # receivers
    "otlp": Component("receiver", ALL, OTLP_RECEIVER, ("protocols",)),
    # processors
    "memory_limiter": Component(
        "processor",
        ALL,
        dict.fromkeys(
            (
                "check_interval",
                "limit_mib",
                "spike_limit_mib",
                "limit_percentage",
                "spike_limit_percentage",
                "min_gc_interval_when_soft_limited",
                "min_gc_interval_when_hard_limited",
            ),
            ANY,
        ),
        check=_check_memory_limiter,
    ),
    "batch": Component(
        "processor",
        ALL,
        dict.fromkeys(
            ("timeout", "send_batch_size", "send_batch_max_size", "metadata_keys", "metadata_cardinality_limit"), ANY
        ),
        check=_check_batch,
    ),
    "tail_sampling": Component(
        "processor",
        frozenset({"traces"}),
        {
            "decision_wait": ANY,
            "num_traces": ANY,
            "expected_new_traces_per_sec": ANY,
            "policies": ANY,
            "decision_cache": {"sampled_cache_size": ANY, "non_sampled_cache_size": ANY},
            "sample_on_first_match": ANY,
            "drop_pending_traces_on_shutdown": ANY,
        },
        ("policies",),
        check=_check_tail_sampling,
    ),
    "resource": Component("processor", ALL, {"attributes": ANY}, ("attributes",)),
    "attributes": Component("processor", ALL, {"actions": ANY, "include": ANY, "exclude": ANY}, ("actions",)),
    # exporters
    "otlp_grpc": Component("exporter", ALL, GRPC_CLIENT, ("endpoint",)),
    "otlp_http": Component("exporter", ALL, HTTP_CLIENT, check=_check_otlp_http),
    "debug": Component(
        "exporter",
        ALL,
        dict.fromkeys(("verbosity", "sampling_initial", "sampling_thereafter", "use_internal_logger"), ANY),
    ),
    "prometheus_remote_write": Component(
        "exporter",
        frozenset({"metrics"}),
        {
            **{
                k: v
                for k, v in HTTP_CLIENT.items()
                if not k.endswith("_endpoint") and k not in ("sending_queue", "encoding")
            },
            "namespace": ANY,
            "external_labels": ANY,
            "resource_to_telemetry_conversion": {"enabled": ANY},
            "target_info": {"enabled": ANY},
            "remote_write_queue": {"enabled": ANY, "queue_size": ANY, "num_consumers": ANY},
            "wal": {"directory": ANY, "buffer_size": ANY, "truncate_frequency": ANY, "lag_record_frequency": ANY},
            "add_metric_suffixes": ANY,
            "send_metadata": ANY,
            "max_batch_size_bytes": ANY,
            "max_batch_request_parallelism": ANY,
            "protobuf_message": ANY,
            "export_created_metric": {"enabled": ANY},
        },
        ("endpoint",),
    ),
    "prometheus": Component(
        "exporter",
        frozenset({"metrics"}),
        {
            "endpoint": ANY,
            "tls": TLS_SERVER,
            "namespace": ANY,
            "const_labels": ANY,
            "send_timestamps": ANY,
            "metric_expiration": ANY,
            "resource_to_telemetry_conversion": {"enabled": ANY},
            "enable_open_metrics": ANY,
            "add_metric_suffixes": ANY,
            "translation_strategy": ANY,
        },
        ("endpoint",),
    ),
    "load_balancing": Component(
        "exporter",
        ALL,
        {
            "protocol": {"otlp": {k: v for k, v in GRPC_CLIENT.items() if k != "endpoint"}},
            "resolver": {
                "static": {"hostnames": ANY},
                "dns": {"hostname": ANY, "port": ANY, "interval": ANY, "timeout": ANY, "quarantine": ANY},
                "k8s": {"service": ANY, "ports": ANY, "timeout": ANY, "return_hostnames": ANY},
                "aws_cloud_map": ANY,
            },
            "routing_key": ANY,
            "routing_attributes": ANY,
            "timeout": ANY,
            "sending_queue": QUEUE,
            "retry_on_failure": RETRY,
        },
        ("protocol", "resolver"),
        check=_check_load_balancing,
    ),
    # extensions
    "health_check": Component(
        "extension",
        frozenset(),
        {
            "endpoint": ANY,
            "path": ANY,
            "tls": TLS_SERVER,
            "response_body": ANY,
            "check_collector_pipeline": ANY,
            "cors": ANY,
            "auth": AUTH,
        },
    ),
    "zpages": Component("extension", frozenset(), {"endpoint": ANY}),
    "pprof": Component(
        "extension",
        frozenset(),
        {"endpoint": ANY, "block_profile_fraction": ANY, "mutex_profile_fraction": ANY, "save_to_file": ANY},
    ),
}
DEPRECATED_ALIASES = {
    "otlp": "otlp_grpc",
    "otlphttp": "otlp_http",
    "prometheusremotewrite": "prometheus_remote_write",
    "loadbalancing": "load_balancing",
}  # exporters renamed in 0.144-0.153, aliases kept
SECTIONS = {
    "receivers": "receiver",
    "processors": "processor",
    "exporters": "exporter",
    "extensions": "extension",
    "connectors": "connector",
}
TELEMETRY: Schema = {
    "logs": {
        "level": ANY,
        "encoding": ANY,
        "development": ANY,
        "disable_caller": ANY,
        "disable_stacktrace": ANY,
        "sampling": ANY,
        "output_paths": ANY,
        "error_output_paths": ANY,
        "initial_fields": ANY,
        "processors": ANY,
    },
    "metrics": {"level": ANY, "readers": ANY, "views": ANY},
    "traces": {"level": ANY, "processors": ANY, "propagators": ANY},
    "resource": ANY,
}

_ENV = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_BAD_ENV = re.compile(r"\$(?!\{env:)(?!\$)[{A-Za-z_]")


def resolve_env(value: str, environ: Mapping[str, str] | None = None) -> str:
    """A string with its ``${env:NAME:-default}`` references replaced (by ``environ`` or the default)."""
    environ = environ or {}
    return _ENV.sub(lambda m: environ.get(m.group(1), m.group(2) or ""), value)


def _keys(where: str, value: Any, schema: Schema) -> Problems:
    if not isinstance(value, Mapping):
        return [] if value is None else [f"{where}: expected a mapping, got {type(value).__name__}"]
    problems = []
    for key, item in value.items():
        if key not in schema:
            problems.append(f"{where}: unknown key {key!r}")
        elif schema[key] is not None:
            problems += _keys(f"{where}.{key}", item, schema[key])
    return problems


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return [(path, value)] if isinstance(value, str) else []


def _host_port(value: str) -> tuple[str, int] | None:
    value = resolve_env(value)
    if "://" in value:
        parts = urlsplit(value)
        number = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        return (parts.hostname or "", number) if number else None
    host, sep, port = value.rpartition(":")
    return (host, int(port)) if sep and port.isdigit() else None


def validate(config: Mapping[str, Any]) -> Problems:
    """Everything wrong with a collector configuration, as readable lines (empty when valid)."""
    problems: Problems = []
    unknown = set(config) - set(SECTIONS) - {"service"}
    if unknown:
        problems.append(f"unknown top-level sections {sorted(unknown)}")
    for path, text in _strings(config):
        if _BAD_ENV.search(text):
            problems.append(f"{path}: use ${{env:NAME}} or ${{env:NAME:-default}} to read a variable: {text!r}")
    defined: dict[str, tuple[str, Component | None]] = {}  # id -> (section, component)
    for section, kind in SECTIONS.items():
        for cid, cfg in (config.get(section) or {}).items():
            ctype = cid.split("/", 1)[0]
            if not re.fullmatch(r"[a-z][a-z0-9_]*(/[A-Za-z0-9_.\-]+)?", cid):
                problems.append(f"{section}.{cid}: not a valid component id (type[/name])")
            if ctype in DEPRECATED_ALIASES and kind == "exporter":
                problems.append(
                    f"{section}.{cid}: {ctype!r} is a deprecated alias in otelcol-contrib "
                    f"{CONTRIB_VERSION}; use {DEPRECATED_ALIASES[ctype]!r}"
                )
                defined[f"{section}:{cid}"] = (section, None)
                continue
            component = COMPONENTS.get(ctype)
            if component is None or component.kind != kind:
                problems.append(
                    f"{section}.{cid}: no {kind} of type {ctype!r} in this catalogue of "
                    f"otelcol-contrib {CONTRIB_VERSION} components"
                )
                defined[f"{section}:{cid}"] = (section, None)
                continue
            defined[f"{section}:{cid}"] = (section, component)
            problems += _keys(f"{section}.{cid}", cfg or {}, component.schema)
            problems += [
                f"{section}.{cid}: {key} is required" for key in component.required if not (cfg or {}).get(key)
            ]
            if component.check is not None:
                problems += component.check(f"{section}.{cid}", cfg or {})
            endpoint = (cfg or {}).get("endpoint") if ctype in ("otlp_grpc", "prometheus_remote_write") else None
            if endpoint is not None and _host_port(str(endpoint)) is None:
                problems.append(f"{section}.{cid}: endpoint {endpoint!r} has no port")
    problems += _validate_service(config, defined)
    problems += _validate_ports(config)
    return problems


def _validate_service(config: Mapping[str, Any], defined: Mapping[str, tuple[str, Component | None]]) -> Problems:
    problems: Problems = []
    service = config.get("service")
    if not isinstance(service, Mapping):
        return ["service: missing"]
    problems += _keys("service", service, {"extensions": ANY, "pipelines": ANY, "telemetry": TELEMETRY})
    used: set[str] = set()
    for ext in service.get("extensions") or []:
        used.add(f"extensions:{ext}")
        if f"extensions:{ext}" not in defined:
            problems.append(f"service.extensions: {ext!r} is not defined under extensions")
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        problems.append("service.pipelines: no pipeline")
    for pid, pipeline in pipelines.items():
        signal = pid.split("/", 1)[0]
        if signal not in SIGNALS:
            problems.append(f"service.pipelines.{pid}: unknown signal {signal!r}")
            continue
        problems += _keys(f"service.pipelines.{pid}", pipeline, {"receivers": ANY, "processors": ANY, "exporters": ANY})
        for role in ("receivers", "processors", "exporters"):
            ids = list((pipeline or {}).get(role) or [])
            if role != "processors" and not ids:
                problems.append(f"service.pipelines.{pid}: needs at least one of {role}")
            if len(ids) != len(set(ids)):
                problems.append(f"service.pipelines.{pid}.{role}: listed twice: {ids}")
            for cid in ids:
                key = f"{role}:{cid}"
                used.add(key)
                if key not in defined:
                    problems.append(f"service.pipelines.{pid}.{role}: {cid!r} is not defined under {role}")
                    continue
                component = defined[key][1]
                if component is not None and signal not in component.signals:
                    problems.append(f"service.pipelines.{pid}.{role}: {cid!r} does not support {signal}")
        processors = [p.split("/", 1)[0] for p in (pipeline or {}).get("processors") or []]
        if "memory_limiter" in processors and processors[0] != "memory_limiter":
            problems.append(f"service.pipelines.{pid}: memory_limiter must be the first processor")
        if (
            "tail_sampling" in processors
            and "batch" in processors
            and processors.index("batch") < processors.index("tail_sampling")
        ):
            problems.append(
                f"service.pipelines.{pid}: batch before tail_sampling batches spans that are then "
                "dropped, and splits traces: put batch after it"
            )
    problems += [f"{key.replace(':', '.', 1)}: defined but not used" for key in defined if key not in used]
    readers = (((service.get("telemetry") or {}).get("metrics") or {}).get("readers")) or []
    for reader in readers:
        prometheus = ((reader or {}).get("pull") or {}).get("exporter", {}).get("prometheus")
        if not isinstance(prometheus, Mapping) or not {"host", "port"} <= set(prometheus):
            problems.append(
                f"service.telemetry.metrics.readers: expected pull.exporter.prometheus with host and port: {reader!r}"
            )
    return problems


def listening_ports(config: Mapping[str, Any]) -> dict[str, int]:
    """Where this collector listens: component path -> port."""
    found: dict[str, int] = {}
    for rid, cfg in (config.get("receivers") or {}).items():
        for proto, settings in ((cfg or {}).get("protocols") or {}).items():
            hp = _host_port(str((settings or {}).get("endpoint", "")))
            if hp:
                found[f"receivers.{rid}.{proto}"] = hp[1]
    for eid, cfg in (config.get("extensions") or {}).items():
        hp = _host_port(str((cfg or {}).get("endpoint", "")))
        if hp:
            found[f"extensions.{eid}"] = hp[1]
    for xid, cfg in (config.get("exporters") or {}).items():
        if xid.split("/", 1)[0] == "prometheus":
            hp = _host_port(str((cfg or {}).get("endpoint", "")))
            if hp:
                found[f"exporters.{xid}"] = hp[1]
    readers = ((((config.get("service") or {}).get("telemetry") or {}).get("metrics") or {}).get("readers")) or []
    for i, reader in enumerate(readers):
        port = (((reader or {}).get("pull") or {}).get("exporter") or {}).get("prometheus", {}).get("port")
        if port:
            found[f"service.telemetry.metrics.readers[{i}]"] = int(port)
    return found


def _validate_ports(config: Mapping[str, Any]) -> Problems:
    seen: dict[int, str] = {}
    problems = []
    for where, port in listening_ports(config).items():
        if port in seen:
            problems.append(f"{where}: port {port} is already used by {seen[port]}")
        seen[port] = where
    return problems
