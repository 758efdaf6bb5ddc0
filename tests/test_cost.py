"""Cost: figures checked against hand-computed values from the catalogue's unit prices (and against
genai-prices' own calculator), overrides by file and code, unknown models, and the recorded telemetry."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import anthropic
import genai_prices
import openai
import pytest
from genai_prices import data_snapshot

from opentelemetry_instrumentation_llm import AnthropicInstrumentor, OpenAIInstrumentor, cost, semconv as sc
from opentelemetry_instrumentation_llm._core.records import Usage
from opentelemetry_instrumentation_llm.config import ConfigurationError
from opentelemetry_instrumentation_llm.cost import PriceBook
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import instrument_fixture


@pytest.fixture(autouse=True)
def _fresh_prices():
    cost.reset()
    yield
    cost.reset()


def catalogue(provider_id: str, model: str) -> Any:
    """The catalogue's unit prices (USD per million tokens), read independently of our code."""
    _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider_id, None)
    return info.get_prices(datetime.now(timezone.utc))


def their_total(provider_id: str, model: str, **usage: int) -> float:
    return float(genai_prices.calc_price(genai_prices.Usage(**usage), model, provider_id=provider_id).total_price)


def test_openai_with_cached_input():
    p = catalogue("openai", "gpt-4o")
    usage = Usage(input_tokens=1200, output_tokens=300, cache_read_tokens=1024)
    amount, source = PriceBook().cost("openai", "gpt-4o-2024-08-06", "api.openai.com", usage)
    # (uncached input x input rate + cached x cache-read rate + output x output rate) / 1M
    expected = ((1200 - 1024) * p.input_mtok + 1024 * p.cache_read_mtok + 300 * p.output_mtok) / Decimal(1_000_000)
    assert amount == pytest.approx(float(expected), rel=1e-12)
    assert amount == pytest.approx(
        their_total("openai", "gpt-4o", input_tokens=1200, output_tokens=300, cache_read_tokens=1024), rel=1e-12
    )
    assert source == "genai-prices"


def test_anthropic_with_cache_reads_and_writes():
    p = catalogue("anthropic", "claude-opus-4-6")
    # Conventions' input for Anthropic = input + cache read + cache write (100 + 2000 + 500).
    usage = Usage(input_tokens=2600, output_tokens=400, cache_read_tokens=2000, cache_write_tokens=500)
    amount, _ = PriceBook().cost("anthropic", "claude-opus-4-6", "api.anthropic.com", usage)
    expected = (
        100 * p.input_mtok + 2000 * p.cache_read_mtok + 500 * p.cache_write_mtok + 400 * p.output_mtok
    ) / Decimal(1_000_000)
    assert amount == pytest.approx(float(expected), rel=1e-12)


def test_reasoning_tokens_are_billed_as_output():
    p = catalogue("openai", "o3")
    usage = Usage(input_tokens=1000, output_tokens=5000, reasoning_tokens=4500)
    amount, _ = PriceBook().cost("openai", "o3", "api.openai.com", usage)
    assert amount == pytest.approx(float((1000 * p.input_mtok + 5000 * p.output_mtok) / Decimal(1_000_000)))


def test_tiered_prices_apply_to_the_whole_call_above_the_threshold():
    p = catalogue("anthropic", "claude-sonnet-4-5")
    tier = p.input_mtok.tiers[0]
    big = tier.start + 50_000
    below = PriceBook().cost(
        "anthropic", "claude-sonnet-4-5", None, Usage(input_tokens=tier.start - 1, output_tokens=100)
    )
    above = PriceBook().cost("anthropic", "claude-sonnet-4-5", None, Usage(input_tokens=big, output_tokens=100))
    assert below[0] == pytest.approx(float(((tier.start - 1) * p.input_mtok.base + 100 * p.output_mtok.base) / 10**6))
    assert above[0] == pytest.approx(float((big * tier.price + 100 * p.output_mtok.tiers[0].price) / 10**6))
    assert above[0] == pytest.approx(their_total("anthropic", "claude-sonnet-4-5", input_tokens=big, output_tokens=100))


def test_bedrock_model_ids():
    p = catalogue("aws", "anthropic.claude-3-5-sonnet-20241022-v2:0")
    amount, _ = PriceBook().cost(
        "aws.bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", None, Usage(input_tokens=10_000, output_tokens=1000)
    )
    assert amount == pytest.approx(float((10_000 * p.input_mtok + 1000 * p.output_mtok) / 10**6))


def test_unknown_models_and_compatible_servers_cost_nothing_and_log_once(caplog):
    book = PriceBook()
    with caplog.at_level(logging.DEBUG, logger="opentelemetry_instrumentation_llm.cost"):
        for _ in range(3):
            assert book.cost("openai", "my-finetune-xyz", "api.openai.com", Usage(10, 10)) is None
            assert book.cost("openai", "gpt-4o", "vllm.internal", Usage(10, 10)) is None  # not OpenAI's bill
            assert book.cost("ollama", "llama3", "localhost", Usage(10, 10)) is None
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3 and sum("my-finetune-xyz" in m for m in messages) == 1


def test_overrides_from_file_with_globs_servers_and_scaling(tmp_path, monkeypatch):
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "prices": [
                    {"provider": "openai", "model": "*", "server": "vllm.internal", "input": 0.1, "output": 0.2},
                    {"provider": "openai", "model": "gpt-4o*", "input": 2.0, "output": 8.0, "cache_read": 0.5},
                    {"provider": "anthropic", "model": "*", "scale": 0.8},
                ]
            }
        )
    )
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_PRICES_FILE", str(path))
    book = cost.price_book()
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=500_000)
    assert book.cost("openai", "llama-3", "vllm.internal", usage) == (pytest.approx(0.1 + 0.2), "override")
    assert book.cost("openai", "gpt-4o-mini", "api.openai.com", usage) == (
        pytest.approx(500_000 * 2.0 / 1e6 + 500_000 * 0.5 / 1e6 + 8.0),
        "override",
    )
    p = catalogue("anthropic", "claude-opus-4-6")
    amount, source = book.cost("anthropic", "claude-opus-4-6", None, Usage(input_tokens=1000, output_tokens=100))
    assert source == "override"
    assert amount == pytest.approx(0.8 * float((1000 * p.input_mtok + 100 * p.output_mtok) / 10**6))


def test_code_hook_wins_over_the_file(tmp_path, monkeypatch):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"prices": [{"provider": "openai", "model": "*", "input": 1, "output": 1}]}))
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_PRICES_FILE", str(path))
    cost.register_prices("openai", "gpt-4o", input=3.0, output=6.0)
    assert cost.price_book().cost("openai", "gpt-4o", None, Usage(1_000_000, 1_000_000))[0] == pytest.approx(9.0)
    assert cost.price_book().cost("openai", "gpt-5", None, Usage(1_000_000, 1_000_000))[0] == pytest.approx(2.0)


@pytest.mark.parametrize(
    "content",
    ["not json", '{"prices": [{"provider": "openai"}]}', '{"prices": [{"provider": "x", "model": "y", "input": 1}]}'],
)
def test_a_bad_prices_file_names_the_variable(tmp_path, monkeypatch, content):
    path = tmp_path / "prices.json"
    path.write_text(content)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_PRICES_FILE", str(path))
    with pytest.raises(ConfigurationError, match="OTEL_INSTRUMENTATION_LLM_PRICES_FILE"):
        cost.price_book()


# --------------------------------------------------------------------------- recorded telemetry

instrument_openai = instrument_fixture(OpenAIInstrumentor)
instrument_anthropic = instrument_fixture(AnthropicInstrumentor)


def test_cost_on_spans_and_the_cost_counter(fake_server, fake, telemetry, instrument_openai):
    cost.register_prices("openai", "gpt-4o*", input=2.5, output=10.0, cache_read=1.25, server=fake_server.host)
    instrument_openai()
    fake.push(
        Reply(
            usage={
                "prompt_tokens": 2000,
                "completion_tokens": 500,
                "total_tokens": 2500,
                "prompt_tokens_details": {"cached_tokens": 1000},
            }
        )
    )
    with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0) as client:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        fake.push(
            Reply(text="a b c", chunks=3, usage={"prompt_tokens": 100, "completion_tokens": 3, "total_tokens": 103})
        )
        list(
            client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "s"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    plain, streamed = telemetry.spans()
    expected = (1000 * 2.5 + 1000 * 1.25 + 500 * 10.0) / 1e6
    assert plain.attributes[sc.GEN_AI_USAGE_COST_AMOUNT] == pytest.approx(expected)
    assert plain.attributes[sc.GEN_AI_USAGE_COST_CURRENCY] == "USD"
    assert plain.attributes[sc.GEN_AI_USAGE_COST_SOURCE] == "override"
    assert streamed.attributes[sc.GEN_AI_USAGE_COST_AMOUNT] == pytest.approx((100 * 2.5 + 3 * 10.0) / 1e6)
    metric = telemetry.metrics()[sc.METRIC_OPERATION_COST]
    assert metric.unit == "USD" and metric.data.is_monotonic
    (point,) = metric.data.data_points
    assert point.value == pytest.approx(expected + (100 * 2.5 + 3 * 10.0) / 1e6)
    token_attrs = {
        k: v for k, v in telemetry.points(sc.METRIC_TOKEN_USAGE)[0].attributes.items() if k != "gen_ai.token.type"
    }
    assert dict(point.attributes) == token_attrs  # the same low-cardinality attributes as the token metric


def test_anthropic_call_cost_from_catalogue_rates(fake_server, fake, telemetry, instrument_anthropic):
    cost.register_prices("anthropic", "*", scale=1.0, server=fake_server.host)  # list prices, at the fake's address
    instrument_anthropic()
    fake.push(
        Reply(
            usage={
                "input_tokens": 100,
                "output_tokens": 50,
                "cache_read_input_tokens": 1000,
                "cache_creation_input_tokens": 200,
            }
        )
    )
    with anthropic.Anthropic(api_key="sk-ant-test", base_url=fake_server.anthropic_base_url, max_retries=0) as c:
        message = c.messages.create(model="claude-opus-4-6", max_tokens=64, messages=[{"role": "user", "content": "x"}])
    p = catalogue("anthropic", message.model)
    expected = (
        100 * p.input_mtok + 1000 * p.cache_read_mtok + 200 * p.cache_write_mtok + 50 * p.output_mtok
    ) / Decimal(10**6)
    assert telemetry.span().attributes[sc.GEN_AI_USAGE_COST_AMOUNT] == pytest.approx(float(expected))


def test_cost_can_be_switched_off(fake_server, fake, telemetry, instrument_openai, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_COST", "false")
    cost.register_prices("openai", "*", input=1, output=1)
    instrument_openai()
    with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0) as client:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert sc.GEN_AI_USAGE_COST_AMOUNT not in telemetry.span().attributes
    assert sc.METRIC_OPERATION_COST not in telemetry.metrics()
