"""Per-user spend: the space-saving table's bounds, the top-K gauges, and the real SDK path."""

from __future__ import annotations

import random
from collections import Counter

import openai
import pytest
from hypothesis import given, settings, strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from opentelemetry_instrumentation_llm import OpenAIInstrumentor, cost, llm_context, semconv as sc, spend
from opentelemetry_instrumentation_llm.spend import OTHER, SpaceSaving, SpendTable
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import instrument_fixture

instrument_openai = instrument_fixture(OpenAIInstrumentor)


@pytest.fixture(autouse=True)
def _fresh_prices():
    cost.reset()
    yield
    cost.reset()


# ------------------------------------------------------------------------------------ the table


def test_a_million_distinct_users_never_grow_the_table_past_its_capacity():
    table = SpaceSaving(1000)
    for i in range(1_000_000):
        table.add(f"u{i}", 1.0)
        if i % 100_000 == 0:
            assert len(table) <= 1000
    assert len(table) == 1000
    assert table.total == 1_000_000
    assert sum(count for _, count, _ in table.items()) == pytest.approx(table.total)  # counts always sum to N


def test_a_heavy_user_among_a_million_one_off_users_is_found_with_its_error_bound():
    table = SpaceSaving(100)
    heavy = 0.0
    for i in range(1_000_000):
        table.add(f"u{i}", 0.01)
        if i % 1000 == 0:
            table.add("whale", 1.0)
            heavy += 1.0
    count, error = table.count("whale")  # type: ignore[misc]
    assert count - error <= heavy <= count
    assert count - heavy <= table.total / 100
    assert table.top(1)[0][0] == "whale"


weights = st.floats(min_value=0.001, max_value=100.0, allow_nan=False, allow_infinity=False)
streams = st.lists(st.tuples(st.integers(min_value=0, max_value=300), weights), min_size=1, max_size=600)


@settings(max_examples=150, deadline=None)
@given(stream=streams, capacity=st.integers(min_value=1, max_value=60))
def test_every_user_above_total_over_capacity_is_kept_and_counts_are_bounded(stream, capacity):
    table = SpaceSaving(capacity)
    truth: Counter[int] = Counter()
    for user, weight in stream:
        table.add(str(user), weight)
        truth[user] += weight
    total = sum(truth.values())
    bound = total / capacity
    assert len(table) <= capacity
    for user, true_total in truth.items():
        found = table.count(str(user))
        if true_total > bound * (1 + 1e-9):
            assert found is not None, (user, true_total, bound)
        if found is not None:
            count, error = found
            assert count - error <= true_total * (1 + 1e-9) + 1e-9
            assert true_total <= count * (1 + 1e-9) + 1e-9
            assert count - true_total <= bound * (1 + 1e-9) + 1e-9


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_top_k_plus_other_sum_to_the_day_and_the_day_ends_at_midnight_utc():
    clock = Clock(1_700_000_000.0)  # 2023-11-14 22:13:20 UTC
    table = SpendTable(capacity=50, top_k=3, clock=clock)
    rng = random.Random(3)
    spent: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    for _ in range(2000):
        user = f"user-{min(int(rng.paretovariate(1.2)), 40)}"
        table.add(user, 0.01, 10)
        spent[user] += 0.01
        tokens[user] += 10
    observed = table.observations("cost")
    assert len(observed) == 4 and observed[-1][0] == OTHER
    assert sum(value for _, value in observed) == pytest.approx(sum(spent.values()))
    assert [user for user, _ in observed[:3]] == [user for user, _ in spent.most_common(3)]
    assert table.observations("tokens")[0] == tokens.most_common(1)[0]
    clock.now = 1_700_006_400.0  # 00:00 UTC the next day
    assert table.observations("cost") == []
    table.add("late", 0.5, None)
    assert table.observations("cost") == [("late", 0.5), (OTHER, 0.0)]
    assert table.observations("tokens") == []


def test_unknown_or_free_calls_count_nothing():
    table = SpendTable(capacity=10, top_k=2)
    table.add("u", None, None)
    table.add("u", 0.0, 0)
    table.add("u", float("nan"), None)
    assert table.observations("cost") == [] and table.observations("tokens") == []


def test_keyed_labels_hide_user_ids_but_stay_stable():
    label = spend.keyed_label(b"k")
    assert label("alice@example.com") == label("alice@example.com")
    assert "alice" not in label("alice@example.com")
    assert label("alice@example.com") != spend.keyed_label(b"other")("alice@example.com")


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        SpendTable(capacity=5, top_k=10)
    with pytest.raises(ValueError):
        SpaceSaving(0)


# ------------------------------------------------------------------------------------ the gauges


def gauge_points(reader: InMemoryMetricReader, name: str) -> dict[str, float]:
    data = reader.get_metrics_data()
    found: dict[str, float] = {}
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[point.attributes["user.id"]] = point.value
    return found


def test_the_gauges_export_at_most_k_plus_one_series_whatever_the_traffic(monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_SPEND_TOP_K", "5")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_SPEND_CAPACITY", "100")
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    try:
        table = spend.spend_table(provider)
        assert spend.spend_table(provider) is table  # one per provider, registered once
        for i in range(10_000):
            table.add(f"user-{i}", 0.001, 5)
        table.add("big", 1.0, 1000)
        points = gauge_points(reader, spend.COST_GAUGE)
        assert len(points) == 6 and OTHER in points
        assert points["big"] == pytest.approx(1.0, abs=table.cost.total / 100)
        assert sum(points.values()) == pytest.approx(10.0 + 1.0)
        assert len(gauge_points(reader, spend.TOKENS_GAUGE)) == 6
    finally:
        provider.shutdown()


# ------------------------------------------------------------------------------------ through a real SDK


def test_calls_in_a_user_context_are_counted_per_user(fake_server, fake, telemetry, instrument_openai):
    cost.register_prices("openai", "gpt-4o*", input=2.0, output=8.0, server=fake_server.host)
    instrument_openai()
    with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0) as client:
        for user, calls in (("alice", 3), ("bob", 1)):
            for _ in range(calls):
                fake.push(Reply(usage={"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}))
                with llm_context(user_id=user):
                    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        fake.push(Reply(usage={"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}))
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "anonymous"}])
    per_call = (1000 * 2.0 + 100 * 8.0) / 1e6
    costs = gauge_points(telemetry.metric_reader, spend.COST_GAUGE)
    assert costs == pytest.approx({"alice": 3 * per_call, "bob": per_call, OTHER: 0.0})
    assert gauge_points(telemetry.metric_reader, spend.TOKENS_GAUGE) == {"alice": 3300, "bob": 1100, OTHER: 0}
    # user ids stay off every other metric
    for name in (sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE, sc.METRIC_OPERATION_COST):
        assert all("user.id" not in p.attributes for p in telemetry.points(name)), name


def test_user_labels_are_keyed_hashes_when_redaction_is_on(
    fake_server, fake, telemetry, instrument_openai, monkeypatch
):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_REDACT", "all")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_REDACT_HASH_KEY", "shared-secret")
    instrument_openai()
    with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0) as client:
        with llm_context(user_id="alice@example.com"):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    tokens = gauge_points(telemetry.metric_reader, spend.TOKENS_GAUGE)
    assert set(tokens) == {spend.keyed_label(b"shared-secret")("alice@example.com"), OTHER}


def test_spend_can_be_switched_off(fake_server, fake, telemetry, instrument_openai, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_SPEND", "false")
    instrument_openai()
    with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0) as client:
        with llm_context(user_id="alice"):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert spend.TOKENS_GAUGE not in telemetry.metrics()
    assert spend.COST_GAUGE not in telemetry.metrics()
