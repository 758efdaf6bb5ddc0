"""Zero-code support: the distro and configurator that ``opentelemetry-instrument`` loads.

With only this package installed, ``opentelemetry-instrument python app.py`` finds:

* ``LLMDistro`` (entry point ``llm`` in ``opentelemetry_distro``): defaults the traces, metrics and
  logs exporters to OTLP, as ``opentelemetry-distro`` does, so the standard variables suffice;
* ``LLMConfigurator`` (entry point ``llm`` in ``opentelemetry_configurator``): builds the pipeline
  with :func:`opentelemetry_instrumentation_llm.setup` (our processors when configured, bounded
  batch export) and installs it globally. Instrumentors, ours (``llm_<sdk>``, ``llm_gpu``) and any
  others, are then loaded by the launcher itself, so ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` works.

When ``opentelemetry-distro`` is installed too, the launcher takes whichever distro and
configurator it finds first; ``OTEL_PYTHON_DISTRO=llm`` and ``OTEL_PYTHON_CONFIGURATOR=llm``
select ours.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _BaseConfigurator

_logger = logging.getLogger(__name__)

_EXPORTER_DEFAULTS = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp"}


class LLMDistro(BaseDistro):  # type: ignore[misc]
    """Exporter defaults for the zero-code path (explicit variables always win)."""

    def _configure(self, **kwargs: Any) -> None:
        for name, value in _EXPORTER_DEFAULTS.items():
            os.environ.setdefault(name, value)


class LLMConfigurator(_BaseConfigurator):
    """Builds and installs the pipeline before the launcher loads instrumentors."""

    def _configure(self, **kwargs: Any) -> None:
        from opentelemetry_instrumentation_llm.pipeline import setup

        # Instrumentors (ours and any other package's) and the GPU gauges come through the
        # launcher's entry points, after this, using the global providers installed here.
        handle = setup(instrument=False, gpu=False)
        if os.environ.get("OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED", "").strip().lower() == "true":
            from opentelemetry.sdk._logs import LoggingHandler

            logging.getLogger().addHandler(LoggingHandler(logger_provider=handle.logger_provider))
        _logger.debug("opentelemetry-instrumentation-llm configured exporters %s", handle.exporters)


def apply_processors_to_global_pipeline() -> None:
    """``opentelemetry_post_instrument`` hook: when another configurator built the pipeline (e.g.
    ``opentelemetry-distro``'s was selected), put our sampling and redaction in front of the span
    and log-record processors it installed, so ``OTEL_INSTRUMENTATION_LLM_REDACT`` and
    ``..._SAMPLING_RATIO`` are never silently ignored. Nothing happens when our configurator ran
    or when neither is configured. If the processors cannot be wrapped it says so loudly.
    """
    from opentelemetry import metrics

    from opentelemetry_instrumentation_llm.config import ConfigurationError
    from opentelemetry_instrumentation_llm.pipeline import current
    from opentelemetry_instrumentation_llm.processors import Processors, ProcessorSettings

    if current() is not None:
        return
    try:
        settings = ProcessorSettings.from_env()
    except ConfigurationError as exc:
        _logger.error("%s; redaction and sampling are NOT applied", exc)
        return
    if not (settings.redaction_enabled or settings.sampling_enabled):
        return
    chain = Processors.create(settings, meter_provider=metrics.get_meter_provider())
    try:
        applied = _wrap_global_processors(chain)
    except Exception:
        _logger.error(
            "Could not apply redaction/sampling to the pipeline another configurator built; set "
            "OTEL_PYTHON_CONFIGURATOR=llm to use ours",
            exc_info=True,
        )
        return
    _logger.info(
        "opentelemetry-instrumentation-llm applied %s to %s built by another configurator",
        " and ".join(n for n, on in (("redaction", chain.redactor), ("sampling", chain.sampler)) if on),
        " and ".join(applied) or "nothing",
    )


def _wrap_global_processors(chain: Any) -> list[str]:
    """Put ``chain`` in front of the global providers' processors; which signals it now covers."""
    from opentelemetry import _logs, trace
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.trace import TracerProvider

    applied = []
    tracer_provider = trace.get_tracer_provider()
    if isinstance(tracer_provider, TracerProvider) and wrap_installed_processors(
        tracer_provider, SPAN_PROCESSORS, chain.span_processor
    ):
        applied.append("spans")
    logger_provider = _logs.get_logger_provider()
    if isinstance(logger_provider, LoggerProvider) and wrap_installed_processors(
        logger_provider, LOG_RECORD_PROCESSORS, chain.log_processor
    ):
        applied.append("logs")
    return applied


# Where the SDK providers keep the processors they were given: (the provider's multi-processor
# attribute, that object's tuple of processors). Both are private; the SDK has no public way to
# wrap or replace installed processors. tests/test_distro.py fails if the SDK moves them.
SPAN_PROCESSORS = ("_active_span_processor", "_span_processors")
LOG_RECORD_PROCESSORS = ("_multi_log_record_processor", "_log_record_processors")


def wrap_installed_processors(provider: Any, where: tuple[str, str], wrap: Callable[[list[Any]], Any]) -> bool:
    """Replace the processors installed on an SDK provider by ``wrap(processors)``; False if none.

    The package's only reach into SDK internals: there is no public API to put a processor in
    *front* of the ones another configurator installed (``add_*_processor`` only appends).
    Raises AttributeError/TypeError if the SDK's layout changes (the caller logs it as an error).
    """
    holder_name, tuple_name = where
    holder = getattr(provider, holder_name)
    existing = getattr(holder, tuple_name)
    if not isinstance(existing, tuple):
        raise TypeError(
            f"{type(provider).__name__}.{holder_name}.{tuple_name} is a {type(existing).__name__}, "
            "not the tuple this package knows how to wrap"
        )
    if not existing:
        return False
    setattr(holder, tuple_name, (wrap(list(existing)),))
    return True
