"""What an LLM call cost, in USD, from its provider, model and token counts.

Prices come from the ``genai-prices`` catalogue (maintained by the Pydantic team, shipped as an
offline snapshot: no network at runtime), overridden where the user says so: a JSON file
(``OTEL_INSTRUMENTATION_LLM_PRICES_FILE``) or :func:`register_prices` in code, for negotiated or
self-hosted prices. A price is resolved once per (provider, model, server) and cached; a call
then costs a dictionary lookup and a few multiplications.

Token convention (the semantic conventions'): ``input_tokens`` includes cache reads and cache
writes, ``output_tokens`` includes reasoning tokens. So

    cost = (input - cache_read - cache_write) x input_rate + cache_read x cache_read_rate
           + cache_write x cache_write_rate + output x output_rate

with rates per million tokens; a missing cache rate falls back to the input rate. Tiered prices
(e.g. above 200K input tokens) apply the tier's rates to the whole call, as providers bill them.

Unknown model: no cost, no error, and one debug line per (provider, model).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry_instrumentation_llm import config
from opentelemetry_instrumentation_llm._core.records import Usage

_logger = logging.getLogger(__name__)

SOURCE_CATALOGUE = "genai-prices"
SOURCE_OVERRIDE = "override"

# gen_ai.provider.name -> genai-prices provider id. Providers we do not map (ollama, vllm, ...)
# are self-hosted or unknown: no catalogue cost, only overrides.
CATALOGUE_PROVIDERS = {
    "openai": "openai",
    "azure.ai.openai": "azure",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "mistral_ai": "mistral",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "x_ai": "x-ai",
    "perplexity": "perplexity",
    "moonshot_ai": "moonshotai",
}
# An OpenAI/Anthropic-compatible server elsewhere (vLLM, a proxy) is not billed at list price.
_OFFICIAL_HOSTS = {"openai": ("openai.com",), "anthropic": ("anthropic.com",)}
_CATALOGUE_TTL = 3600.0  # prices change by date in the catalogue; re-resolve hourly


Rate = tuple[float, tuple[tuple[int, float], ...]]  # (base per MTok, ((input threshold, tier rate), ...))


@dataclass(frozen=True)
class Prices:
    """Rates in USD per million tokens (cache rates None = billed as input)."""

    input: Rate
    output: Rate
    cache_read: Rate | None = None
    cache_write: Rate | None = None
    source: str = SOURCE_OVERRIDE

    def cost(self, usage: Usage) -> float | None:
        if usage.input_tokens is None and usage.output_tokens is None:
            return None
        total_input = usage.input_tokens or 0
        cache_read = usage.cache_read_tokens or 0
        cache_write = usage.cache_write_tokens or 0
        uncached = max(0, total_input - cache_read - cache_write)
        input_rate = _rate(self.input, total_input)
        amount = uncached * input_rate
        amount += cache_read * (_rate(self.cache_read, total_input) if self.cache_read else input_rate)
        amount += cache_write * (_rate(self.cache_write, total_input) if self.cache_write else input_rate)
        amount += (usage.output_tokens or 0) * _rate(self.output, total_input)
        return amount / 1_000_000


def _rate(rate: Rate, total_input: int) -> float:
    base, tiers = rate
    for start, tier_rate in reversed(tiers):
        if total_input > start:
            return tier_rate
    return base


def flat(per_million: float) -> Rate:
    return (float(per_million), ())


@dataclass(frozen=True)
class PriceOverride:
    """A user's price for calls matching provider/model (glob patterns) and optionally server."""

    provider: str
    model: str
    prices: Prices | None = None  # explicit rates
    scale: float | None = None  # or a factor on the catalogue price (negotiated discounts)
    server: str | None = None

    def matches(self, provider: str, model: str, server: str | None) -> bool:
        if not fnmatch.fnmatchcase(provider, self.provider) or not fnmatch.fnmatchcase(model, self.model):
            return False
        return self.server is None or (server is not None and fnmatch.fnmatchcase(server, self.server))


class PriceBook:
    """Resolves and caches prices; thread-safe; never raises."""

    def __init__(self, overrides: Iterable[PriceOverride] = (), catalogue: bool = True) -> None:
        self._overrides: list[PriceOverride] = list(overrides)
        self._catalogue = catalogue
        self._cache: dict[tuple[str, str, str | None], tuple[float, Prices | None]] = {}
        self._unknown_logged: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def add(self, override: PriceOverride) -> None:
        with self._lock:
            self._overrides.insert(0, override)  # the latest registration wins
            self._cache.clear()

    def cost(
        self, provider: str, model: str | None, server: str | None, usage: Usage | None
    ) -> tuple[float, str] | None:
        """(USD amount, source) for a call, or None when it cannot be priced."""
        if usage is None or not model:
            return None
        key = (provider, model, server)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is None or now - hit[0] > _CATALOGUE_TTL:
            prices = self._resolve(provider, model, server)
            with self._lock:
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[key] = (now, prices)
        else:
            prices = hit[1]
        if prices is None:
            return None
        amount = prices.cost(usage)
        return None if amount is None else (amount, prices.source)

    def _resolve(self, provider: str, model: str, server: str | None) -> Prices | None:
        try:
            for override in self._overrides:
                if override.matches(provider, model, server):
                    if override.prices is not None:
                        return override.prices
                    # A scaled override prices at list rates wherever the server is: the user said so.
                    base = self._catalogue_prices(provider, model, None)
                    return _scaled(base, override.scale) if base is not None and override.scale is not None else base
            return self._catalogue_prices(provider, model, server) if self._catalogue else None
        except Exception:
            _logger.debug("cost: could not resolve a price for %s %s", provider, model, exc_info=True)
            return None

    def _catalogue_prices(self, provider: str, model: str, server: str | None) -> Prices | None:
        provider_id = CATALOGUE_PROVIDERS.get(provider)
        official = _OFFICIAL_HOSTS.get(provider)
        if provider_id is None or (official and server and not server.endswith(official)):
            self._log_unknown(provider, model, "no list price for this provider or server")
            return None
        prices = _from_genai_prices(provider_id, model)
        if prices is None:
            self._log_unknown(provider, model, "model not in the genai-prices catalogue")
        return prices

    def _log_unknown(self, provider: str, model: str, why: str) -> None:
        key = (provider, model)
        if key not in self._unknown_logged and len(self._unknown_logged) < 1024:
            self._unknown_logged.add(key)
            _logger.debug("cost: %s %s is not priced (%s); register a price to cost it", provider, model, why)


def _scaled(prices: Prices, factor: float) -> Prices:
    def scale(rate: Rate) -> Rate:
        return (rate[0] * factor, tuple((start, value * factor) for start, value in rate[1]))

    def scale_optional(rate: Rate | None) -> Rate | None:
        return None if rate is None else scale(rate)

    return Prices(
        scale(prices.input),
        scale(prices.output),
        scale_optional(prices.cache_read),
        scale_optional(prices.cache_write),
        source=SOURCE_OVERRIDE,
    )


def _from_genai_prices(provider_id: str, model: str) -> Prices | None:
    try:
        from datetime import datetime, timezone

        from genai_prices import data_snapshot
        from genai_prices.types import TieredPrices
    except ImportError:
        return None
    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider_id, None)
    except LookupError:
        return None
    price = info.get_prices(datetime.now(timezone.utc))

    def rate(value: Any) -> Rate | None:
        if value is None:
            return None
        if isinstance(value, TieredPrices):
            return (float(value.base), tuple((int(t.start), float(t.price)) for t in value.tiers))
        return (float(value), ())

    input_rate, output_rate = rate(getattr(price, "input_mtok", None)), rate(getattr(price, "output_mtok", None))
    if input_rate is None and output_rate is None:
        return None
    return Prices(
        input_rate or (0.0, ()),
        output_rate or (0.0, ()),
        rate(getattr(price, "cache_read_mtok", None)),
        rate(getattr(price, "cache_write_mtok", None)),
        source=SOURCE_CATALOGUE,
    )


# --------------------------------------------------------------------------- overrides: file and code


def load_overrides(path: str | Path) -> list[PriceOverride]:
    """Read a prices file. Format (rates in USD per million tokens)::

    {"prices": [
      {"provider": "openai", "model": "gpt-4o*", "input": 2.0, "output": 8.0, "cache_read": 1.0},
      {"provider": "anthropic", "model": "*", "scale": 0.8},
      {"provider": "openai", "model": "*", "server": "vllm.internal", "input": 0.1, "output": 0.1}
    ]}
    """
    data = json.loads(Path(path).read_text())
    entries = data.get("prices") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ValueError('expected {"prices": [...]}')
    return [_override(entry) for entry in entries]


def _override(entry: Mapping[str, Any]) -> PriceOverride:
    if not isinstance(entry, Mapping) or "provider" not in entry or "model" not in entry:
        raise ValueError(f"each price needs 'provider' and 'model': {entry!r}")
    scale = entry.get("scale")
    prices = None
    if scale is None:
        if "input" not in entry or "output" not in entry:
            raise ValueError(f"a price needs 'input' and 'output' (per million tokens) or 'scale': {entry!r}")
        prices = Prices(
            flat(entry["input"]),
            flat(entry["output"]),
            flat(entry["cache_read"]) if entry.get("cache_read") is not None else None,
            flat(entry["cache_write"]) if entry.get("cache_write") is not None else None,
        )
    return PriceOverride(
        str(entry["provider"]),
        str(entry["model"]),
        prices,
        float(scale) if scale is not None else None,
        entry.get("server"),
    )


_book: PriceBook | None = None
_book_lock = threading.Lock()


def price_book() -> PriceBook:
    """The process-wide price book, with the overrides file from the environment."""
    global _book
    if _book is None:
        with _book_lock:
            if _book is None:
                overrides: list[PriceOverride] = []
                path = config.PRICES_FILE.read()
                if path:
                    try:
                        overrides = load_overrides(path)
                    except (OSError, ValueError) as exc:
                        raise config.ConfigurationError(
                            f"Invalid prices file {path!r} in OTEL_INSTRUMENTATION_LLM_PRICES_FILE: {exc}"
                        ) from None
                _book = PriceBook(overrides)
    return _book


PerMillionTokens = float | None  # a rate in USD per million tokens, or None when not given


def register_prices(
    provider: str,
    model: str,
    *,
    input: PerMillionTokens = None,
    output: PerMillionTokens = None,
    cache_read: PerMillionTokens = None,
    cache_write: PerMillionTokens = None,
    scale: float | None = None,
    server: str | None = None,
) -> None:
    """Price calls yourself (negotiated or self-hosted): rates in USD per million tokens, or ``scale``
    times the catalogue price. ``provider``/``model``/``server`` accept glob patterns; the latest
    registration wins over earlier ones and over the prices file."""
    if scale is None and (input is None or output is None):
        raise ValueError("register_prices needs input and output rates, or scale")
    prices = None
    if scale is None:
        prices = Prices(
            flat(input or 0.0),
            flat(output or 0.0),
            flat(cache_read) if cache_read is not None else None,
            flat(cache_write) if cache_write is not None else None,
        )
    price_book().add(PriceOverride(provider, model, prices, scale, server))


def reset() -> None:
    """Forget registered prices and re-read the prices file on next use (tests, reconfiguration)."""
    global _book
    with _book_lock:
        _book = None
