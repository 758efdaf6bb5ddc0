"""wrapt patching shared by every instrumentor: patch a target, patch it when its module is imported,
and undo everything."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from opentelemetry_instrumentation_llm._core.wrappers import patches_changed

_logger = logging.getLogger(__name__)


class PatchingInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Patches (module, attribute) targets with wrapt and restores them all on ``uninstrument()``.

    A target this version of the library lacks is skipped (logged at debug level), so the rest is
    still instrumented. Subclasses set ``_patched = []`` and ``_active = True`` in ``_instrument``.
    """

    _patched: list[tuple[str, str]]
    _active: bool

    def _patch(self, module: str, target: str, wrapper: Any) -> None:
        try:
            wrap_function_wrapper(module, target, wrapper)
        except (ImportError, AttributeError) as exc:
            _logger.debug("%s: %s.%s not instrumented (%s)", type(self).__name__, module, target, exc)
            return
        self._patched.append((module, target))
        patches_changed()

    def _patch_on_import(self, module: str, target: str, wrapper: Any) -> None:
        """Patch now if ``module`` is imported, else when the application imports it (an installed
        but unused framework costs nothing at startup)."""

        def patch(_module: Any) -> None:
            if self._active:
                self._patch(module, target, wrapper)

        wrapt.register_post_import_hook(patch, module)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._active = False
        for module, target in getattr(self, "_patched", ()):
            owner_path, _, attribute = target.rpartition(".")
            owner: Any = importlib.import_module(module)
            for part in owner_path.split(".") if owner_path else ():
                owner = getattr(owner, part)
            unwrap(owner, attribute)
        self._patched: list[tuple[str, str]] = []
        patches_changed()


def instrument_once(instrumentor_type: type[BaseInstrumentor], kwargs: dict[str, Any]) -> bool:
    """Instrument with ``instrumentor_type`` unless already done; whether it is instrumented now."""
    instrumentor = instrumentor_type()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(**kwargs)
    return bool(instrumentor.is_instrumented_by_opentelemetry)
