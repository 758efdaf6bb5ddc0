"""AWS Bedrock (boto3 ``bedrock-runtime``) scenarios for bench_providers.py.

Run on its own (``python benchmarks/providers/bedrock.py``), it measures what the instrumentation adds
to AWS calls that are *not* Bedrock inference calls: botocore routes every call of every service
through the one method we wrap (``BaseClient._make_api_call``), so that cost is paid by the whole
application, not only by its LLM calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_llm.testing import FakeLLM, Reply

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
SYSTEM = [{"text": "You are a helpful assistant."}]
MESSAGES = [{"role": "user", "content": [{"text": "Write a haiku about observability and tracing."}]}]
TEXT = " ".join(f"w{i}" for i in range(64))


def _client(base_url: str, service: str = "bedrock-runtime") -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=base_url,
        aws_access_key_id="AKIABENCH",
        aws_secret_access_key="bench",
        config=Config(retries={"total_max_attempts": 1}),
    )


def scenarios(base_url: str, fake: FakeLLM) -> dict[str, Callable[[], Any]]:
    client = _client(base_url)
    request = {
        "modelId": MODEL,
        "system": SYSTEM,
        "messages": MESSAGES,
        "inferenceConfig": {"maxTokens": 256, "temperature": 0.7},
    }

    def call() -> Any:
        return client.converse(**request)

    def stream64() -> None:
        fake.push(Reply(text=TEXT, chunks=64))
        for _ in client.converse_stream(**request)["stream"]:
            pass

    return {"call": call, "stream64": stream64}


def _best(fn: Callable[[], Any], n: int, rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n)
    return min(times)


def non_bedrock_overhead() -> None:
    """Added cost on other AWS calls: a stubbed ``s3.list_buckets()`` (the whole botocore call path, no
    network) with and without the instrumentation, and our wrapper alone around a no-op."""
    from botocore.client import BaseClient
    from botocore.stub import Stubber
    from opentelemetry.sdk.trace import TracerProvider

    from opentelemetry_instrumentation_llm import BedrockInstrumentor

    s3 = _client("https://s3.us-east-1.amazonaws.com", "s3")
    stubber = Stubber(s3)
    stubber.activate()

    def list_buckets() -> None:
        stubber.add_response("list_buckets", {"Buckets": []})
        s3.list_buckets()

    plain = _best(list_buckets, 2000)
    instrumentor = BedrockInstrumentor()
    instrumentor.instrument(tracer_provider=TracerProvider())
    try:
        instrumented = _best(list_buckets, 2000)
        wrapper = BaseClient._make_api_call._self_wrapper  # type: ignore[attr-defined]
        params = {"Bucket": "b"}

        def noop(*args: Any, **kwargs: Any) -> None:
            return None

        bare = _best(lambda: noop("ListBuckets", params), 20000)
        through = _best(lambda: wrapper(noop, s3, ("ListBuckets", params), {}), 20000)
    finally:
        instrumentor.uninstrument()
    print(f"stubbed s3.list_buckets(): {plain * 1e6:.1f} µs uninstrumented, {instrumented * 1e6:.1f} µs instrumented")
    print(f"our wrapper alone, non-Bedrock operation: {(through - bare) * 1e9:.0f} ns per call")


if __name__ == "__main__":
    non_bedrock_overhead()
