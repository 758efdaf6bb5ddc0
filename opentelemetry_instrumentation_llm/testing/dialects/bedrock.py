"""AWS Bedrock Runtime wire format: Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream.

The model id arrives URL-encoded in the path (``/model/{modelId}/converse``); ``FakeLLM.handle`` has
already put it into ``body["model"]``. InvokeModel bodies are model-native JSON, answered in the
family's own shape (Anthropic Messages, Meta Llama, Amazon Titan text and embeddings, Cohere embed,
Mistral). Streams use the AWS event-stream binary framing (``application/vnd.amazon.eventstream``);
InvokeModelWithResponseStream wraps each model-native event as ``{"bytes": "<base64 JSON>"}`` in a
``chunk`` event, and the last one carries ``amazon-bedrock-invocationMetrics`` (integer counts; Titan's own
counts in its bodies are JSON floats, as the real service sends them). ``Reply.stream_error``
(``{"type": "throttlingException", "message": ...}``) is sent as an exception message after the
content, which botocore raises as ``EventStreamError`` while the user iterates.

Errors are JSON ``{"message": ...}`` with the AWS error code in ``__type`` (derived from the status);
a test may also send the code the way Bedrock does, in an ``x-amzn-ErrorType`` header
(``Reply(status=429, headers={"x-amzn-ErrorType": "ThrottlingException"})``).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects import base
from opentelemetry_instrumentation_llm.testing.dialects.anthropic import AnthropicMessages
from opentelemetry_instrumentation_llm.testing.dialects.base import Dialect
from opentelemetry_instrumentation_llm.testing.replies import Reply

EVENT_STREAM = "application/vnd.amazon.eventstream"

ERROR_CODES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


# --------------------------------------------------------------------------- event-stream framing


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("!B", len(raw_name)) + raw_name + struct.pack("!BH", 7, len(raw_value)) + raw_value


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total and headers length, CRC), headers, payload, message CRC."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 4 + 4 + 4 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    return frame(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload).encode(),
    )


def exception(error: dict[str, Any]) -> bytes:
    kind = str(error.get("type") or "internalServerException")
    return frame(
        {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"},
        json.dumps({"message": str(error.get("message") or kind)}).encode(),
    )


def chunk(payload: dict[str, Any]) -> bytes:
    """An InvokeModelWithResponseStream ``chunk``: the model-native event, base64 inside JSON."""
    return event("chunk", {"bytes": base64.b64encode(json.dumps(payload).encode()).decode()})


def invocation_metrics(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": input_tokens,
            "outputTokenCount": output_tokens,
            "invocationLatency": 12,
            "firstByteLatency": 5,
        }
    }


class _Bedrock(Dialect):
    stream_content_type = EVENT_STREAM

    def __init__(self, streaming: bool) -> None:
        self.streaming = streaming

    def wants_stream(self, body: dict[str, Any], path: str) -> bool:
        return self.streaming

    def error_body(self, status: int) -> dict[str, Any]:
        return {"message": f"fake error {status}", "__type": ERROR_CODES.get(status, "InternalServerException")}


# --------------------------------------------------------------------------- Converse


class _Converse(_Bedrock):
    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        return reply.text if reply.text is not None else f"echo: {base.last_user_text(body.get('messages', []))}"

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        prompt, output = base.prompt_words(body), base.words(text)
        counted = {"inputTokens": prompt, "outputTokens": output, "totalTokens": prompt + output}
        return reply.usage if reply.usage is not None else counted

    def _stop(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        content: list[dict[str, Any]]
        if reply.tool_calls:
            content = [
                {
                    "toolUse": {
                        "toolUseId": call.get("id", f"tooluse_{i}"),
                        "name": call["name"],
                        "input": json.loads(call.get("arguments", "{}")),
                    }
                }
                for i, call in enumerate(reply.tool_calls)
            ]
        else:
            content = [{"text": text}]
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": self._stop(reply),
            "usage": self._usage(body, reply, text),
            "metrics": {"latencyMs": 7},
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        yield event("messageStart", {"role": "assistant"})
        if reply.tool_calls:
            for i, call in enumerate(reply.tool_calls):
                yield event(
                    "contentBlockStart",
                    {
                        "contentBlockIndex": i,
                        "start": {"toolUse": {"toolUseId": call.get("id", f"tooluse_{i}"), "name": call["name"]}},
                    },
                )
                for piece in base.split(call.get("arguments", "{}"), 2):
                    yield event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"toolUse": {"input": piece}}})
                yield event("contentBlockStop", {"contentBlockIndex": i})
        else:
            for piece in base.split(text, reply.chunks or max(1, base.words(text))):
                yield event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
            if reply.stream_error is not None:
                yield exception(reply.stream_error)
                return
            yield event("contentBlockStop", {"contentBlockIndex": 0})
        yield event("messageStop", {"stopReason": self._stop(reply)})
        yield event("metadata", {"usage": self._usage(body, reply, text), "metrics": {"latencyMs": 7}})


# --------------------------------------------------------------------------- InvokeModel (model-native bodies)


def _family(body: dict[str, Any]) -> str:
    model = str(body.get("model", "")).lower()
    if "messages" in body:
        return "anthropic"
    if "texts" in body:
        return "cohere_embed"
    if "inputText" in body:
        return "titan_embed" if "embed" in model else "titan"
    if "prompt" in body:
        return "mistral" if "mistral." in model else "llama"
    return "unknown"


def _echo(body: dict[str, Any], reply: Reply) -> str:
    if reply.text is not None:
        return reply.text
    return f"echo: {body.get('prompt') or body.get('inputText') or ''}"


def _prompt_tokens(body: dict[str, Any]) -> int:
    return base.words(str(body.get("prompt") or body.get("inputText") or ""))


_ANTHROPIC = AnthropicMessages()


def _anthropic_events(body: dict[str, Any], reply: Reply) -> list[dict[str, Any]]:
    """The Anthropic dialect's SSE events, as the JSON objects Bedrock wraps into chunks."""
    found = []
    for raw in _ANTHROPIC.events(body, replace(reply, stream_error=None)):
        for line in raw.decode().splitlines():
            if line.startswith("data: "):
                found.append(json.loads(line[6:]))
    return found


class _Invoke(_Bedrock):
    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        family = _family(body)
        if family == "anthropic":
            return _ANTHROPIC.json(body, reply)
        if family == "cohere_embed":
            texts = body.get("texts") or []
            return {
                "id": "emb_fake0001",
                "embeddings": [[0.25, -0.5, 0.75] for _ in texts],
                "texts": texts,
                "response_type": "embeddings_floats",
            }
        if family == "titan_embed":
            return {
                "embedding": [0.125] * int(body.get("dimensions") or 4),
                "inputTextTokenCount": _prompt_tokens(body),
            }
        text = _echo(body, reply)
        if family == "titan":  # Titan's counts are JSON floats
            usage = reply.usage or {}
            return {
                "inputTextTokenCount": usage.get("inputTextTokenCount", float(_prompt_tokens(body))),
                "results": [
                    {
                        "tokenCount": usage.get("tokenCount", float(base.words(text))),
                        "outputText": text,
                        "completionReason": reply.finish_reason or "FINISH",
                    }
                ],
            }
        if family == "mistral":
            return {"outputs": [{"text": text, "stop_reason": reply.finish_reason or "stop"}]}
        return {
            "generation": text,
            "prompt_token_count": _prompt_tokens(body),
            "generation_token_count": base.words(text),
            "stop_reason": reply.finish_reason or "stop",
            **(reply.usage or {}),
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        family = _family(body)
        if family == "anthropic":
            yield from _anthropic_stream(body, reply)
            return
        text = _echo(body, reply)
        pieces = base.split(text, reply.chunks or max(1, base.words(text)))
        prompt_tokens, output_tokens = _prompt_tokens(body), base.words(text)
        if family == "titan":
            yield from _titan_stream(pieces, reply, prompt_tokens, output_tokens)
            return
        for i, piece in enumerate(pieces):
            if family == "mistral":
                yield chunk({"outputs": [{"text": piece, "stop_reason": None}]})
            else:  # llama
                yield chunk(
                    {
                        "generation": piece,
                        "prompt_token_count": prompt_tokens if i == 0 else None,
                        "generation_token_count": i + 1,
                        "stop_reason": None,
                    }
                )
        if reply.stream_error is not None:
            yield exception(reply.stream_error)
            return
        metrics = invocation_metrics(prompt_tokens, output_tokens)
        if family == "mistral":
            yield chunk({"outputs": [{"text": "", "stop_reason": reply.finish_reason or "stop"}], **metrics})
        else:
            yield chunk(
                {
                    "generation": "",
                    "prompt_token_count": None,
                    "generation_token_count": output_tokens,
                    "stop_reason": reply.finish_reason or "stop",
                    **metrics,
                }
            )


def _anthropic_stream(body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
    objects = _anthropic_events(body, reply)
    if reply.stream_error is not None:
        last_delta = max(i for i, o in enumerate(objects) if o.get("type") == "content_block_delta")
        yield from (chunk(o) for o in objects[: last_delta + 1])
        yield exception(reply.stream_error)
        return
    usage = objects[0]["message"]["usage"]
    objects[-1].update(invocation_metrics(usage.get("input_tokens", 0), objects[-2]["usage"]["output_tokens"]))
    yield from (chunk(o) for o in objects)


def _titan_stream(pieces: list[str], reply: Reply, prompt_tokens: int, output_tokens: int) -> Iterator[bytes]:
    """Titan's chunks carry its own counts as JSON floats (``Reply.usage`` may set them: ``inputTextTokenCount``,
    ``totalOutputTextTokenCount``); the closing invocation metrics carry the integer counts."""
    counts = reply.usage or {}
    input_count = counts.get("inputTextTokenCount", float(prompt_tokens))
    output_count = counts.get("totalOutputTextTokenCount", float(output_tokens))
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1 and reply.stream_error is None
        payload: dict[str, Any] = {
            "outputText": piece,
            "index": 0,
            "totalOutputTextTokenCount": output_count if last else None,
            "completionReason": (reply.finish_reason or "FINISH") if last else None,
            "inputTextTokenCount": input_count if i == 0 else None,
        }
        if last:
            payload.update(invocation_metrics(prompt_tokens, output_tokens))
        yield chunk(payload)
    if reply.stream_error is not None:
        yield exception(reply.stream_error)


ROUTES: tuple[tuple[str, Dialect], ...] = (
    ("/converse-stream", _Converse(streaming=True)),
    ("/converse", _Converse(streaming=False)),
    ("/invoke-with-response-stream", _Invoke(streaming=True)),
    ("/invoke", _Invoke(streaming=False)),
)
