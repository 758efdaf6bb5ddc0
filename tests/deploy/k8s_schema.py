"""Validation of Kubernetes manifests and Helm values against pinned schemas, as strictly as the
API server with ``kubectl apply --validate=strict``.

- Built-in kinds (Deployment, Service, ConfigMap...): ``kubernetes-validate`` (PyPI), which ships
  the Kubernetes OpenAPI schemas, in strict mode (unknown fields are errors).
- Custom resources: the ``openAPIV3Schema`` of their CRD, pinned in ``tests/deploy/schemas/``
  (source and version in ``schemas/SOURCES.md``). CRD schemas leave objects open unless they say
  otherwise, while the API server prunes or (strict) rejects unknown fields, so every object
  schema with ``properties`` is closed here unless it carries
  ``x-kubernetes-preserve-unknown-fields``. ``metadata`` is checked against the parts of
  ObjectMeta that manifests set (name, namespace, string-valued labels and annotations).
- Helm values: the chart's ``values.schema.json``, over the chart's defaults merged with ours the
  way Helm merges them.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

SCHEMAS = Path(__file__).resolve().parent / "schemas"
KUBERNETES_VERSION = "1.33.0"

_LABEL_NAME = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
OBJECT_META = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": _DNS_SUBDOMAIN, "maxLength": 253},
        "namespace": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
        "labels": {
            "type": "object",
            "propertyNames": {"pattern": _LABEL_NAME},
            "additionalProperties": {"type": "string", "pattern": _LABEL_VALUE},
        },
        "annotations": {
            "type": "object",
            "propertyNames": {"pattern": _LABEL_NAME},
            "additionalProperties": {"type": "string"},
        },
    },
}


class Invalid(Exception):
    """The manifest or values do not match their schema; the message says where and why."""


def _closed(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    result = {k: _closed(v) for k, v in schema.items()}
    if (
        "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the closed openAPIV3Schema of every served version of the pinned CRDs."""
    found = {}
    for path in sorted(SCHEMAS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schema = _closed(version["schema"]["openAPIV3Schema"])
                schema["properties"]["metadata"] = OBJECT_META
                schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
                found[(f"{group}/{version['name']}", kind)] = schema
    return found


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]


def validate_manifest(document: dict[str, Any]) -> None:
    """Raise :class:`Invalid` unless the manifest is valid for its apiVersion and kind."""
    key = (document.get("apiVersion", ""), document.get("kind", ""))
    schema = crd_schemas().get(key)
    if schema is not None:
        problems = _errors(schema, document)
        if problems:
            raise Invalid(f"{key[1]} {document.get('metadata', {}).get('name')}: " + "; ".join(problems))
        return
    if "." in key[0].split("/")[0] and key[0].split("/")[0] not in ("apps", "batch", "networking.k8s.io"):
        raise Invalid(f"no pinned CRD schema for {key}: add its CRD to {SCHEMAS}")
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        raise Invalid(
            f"{key[1]} {document.get('metadata', {}).get('name')}: {exc.message} at "
            f"{'/'.join(str(p) for p in exc.path)}"
        ) from exc
    problems = _errors(OBJECT_META, document.get("metadata"))  # e.g. a label value that is not a string
    if problems:
        raise Invalid(f"{key[1]} metadata: " + "; ".join(problems))


def helm_merge(defaults: Any, override: Any) -> Any:
    """Helm's coalescing of values: maps merge key by key, anything else is replaced, null deletes."""
    if isinstance(defaults, dict) and isinstance(override, dict):
        merged = copy.deepcopy(defaults)
        for key, value in override.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = helm_merge(defaults.get(key), value)
        return merged
    return copy.deepcopy(override)


def validate_collector_values(values: dict[str, Any]) -> None:
    """Raise :class:`Invalid` unless the opentelemetry-collector chart would accept ``values``."""
    schema = yaml.safe_load((SCHEMAS / "opentelemetry-collector.values.schema.json").read_text())
    defaults = yaml.safe_load((SCHEMAS / "opentelemetry-collector.values.yaml").read_text())
    problems = _errors(schema, helm_merge(defaults, values))
    if problems:
        raise Invalid("; ".join(problems))
