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
