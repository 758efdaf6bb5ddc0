"""Google GenAI (``google-genai``) scenarios for bench_providers.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_llm.testing import FakeLLM, Reply

MODEL = "gemini-2.5-flash"
CONTENTS = "Write a haiku about observability and tracing."
TEXT = " ".join(f"w{i}" for i in range(64))


def scenarios(base_url: str, fake: FakeLLM) -> dict[str, Callable[[], Any]]:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="AIza-bench", http_options=types.HttpOptions(base_url=base_url))
    config = types.GenerateContentConfig(
        system_instruction="You are a helpful assistant.", temperature=0.7, max_output_tokens=256
    )

    def call() -> Any:
        return client.models.generate_content(model=MODEL, contents=CONTENTS, config=config)

    def stream64() -> None:
        fake.push(Reply(text=TEXT, chunks=64))
        for _ in client.models.generate_content_stream(model=MODEL, contents=CONTENTS, config=config):
            pass

    return {"call": call, "stream64": stream64}
