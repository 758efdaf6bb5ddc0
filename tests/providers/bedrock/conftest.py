from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from opentelemetry_instrumentation_llm import BedrockInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import instrument_fixture

ACCESS_KEY = "AKIAFAKEKEYMUSTNEVERBERECORDED"
SECRET_KEY = "secret-THIS-MUST-NEVER-BE-RECORDED-0123456789"
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
LLAMA = "meta.llama3-1-8b-instruct-v1:0"
TITAN = "amazon.titan-text-express-v1"

instrument = instrument_fixture(BedrockInstrumentor)


@pytest.fixture(autouse=True)
def _no_cost(_clean_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cost attributes come from a price catalogue; they are tested elsewhere, not here."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_COST", "false")


@pytest.fixture
def instrumented(instrument: Any) -> BedrockInstrumentor:
    return instrument()


def make_client(server: FakeLLMServer, service: str = "bedrock-runtime") -> Any:
    # One attempt: botocore would otherwise retry throttling and 5xx replies (and sleep in between).
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[Any]:
    c = make_client(fake_server)
    yield c
    c.close()


def base_attributes(server: FakeLLMServer, model: str = MODEL, operation: str = "chat") -> dict[str, Any]:
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": model,
        "server.address": server.host,
        "server.port": server.port,
    }


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def anthropic_body(text: str, **kwargs: Any) -> bytes:
    return body(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 256,
            "messages": [{"role": "user", "content": text}],
            **kwargs,
        }
    )


def words(text: str) -> int:
    return len(text.split())
