"""OpenAI wire formats: chat completions, Responses API, legacy completions, embeddings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry_instrumentation_llm.testing.dialects.base import (
    Dialect,
    function_calls,
    model_of,
    prompt_words,
    split,
    sse_event,
    text_of,
    words,
)
from opentelemetry_instrumentation_llm.testing.replies import Reply

# The chunk Azure OpenAI opens a chat stream with: content-filter verdicts on the prompt, and an
# empty id and model (as recorded from the real service).
AZURE_PROMPT_FILTER_CHUNK: dict[str, Any] = {
    "choices": [],
    "created": 0,
    "id": "",
    "model": "",
    "object": "",
    "prompt_filter_results": [
        {
            "prompt_index": 0,
            "content_filter_results": {
                category: {"filtered": False, "severity": "safe"}
                for category in ("hate", "self_harm", "sexual", "violence")
            },
        }
    ],
}


CREATED = 1_767_225_600  # the fake's fixed creation time (2026-01-01)


def tool_answer(output: Any) -> str:
    """The final answer to a request whose last message is a tool result (an agent loop's last turn)."""
    return f"answer from tool: {text_of(output)}"


class OpenAIChat(Dialect):
    """Chat Completions; subclassed by the OpenAI-compatible dialects (Groq, Mistral), which
    override the pieces their APIs shape differently (``chat_id``, ``_message``, ``_choice``)."""

    chat_id = "chatcmpl-fake0001"

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        messages = body.get("messages") or []
        if reply.text is None and messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool":
            return tool_answer(messages[-1].get("content"))
        return super()._text(body, reply)

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        if reply.usage is not None:
            return reply.usage
        n = int(body.get("n") or 1)
        prompt = prompt_words(body)
        completion = words(text) * n
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _finish(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")

    def _head(self, body: dict[str, Any], reply: Reply, kind: str) -> dict[str, Any]:
        """The fields a completion and each of its stream chunks open with."""
        return {"id": self.chat_id, "object": kind, "created": CREATED, "model": model_of(body, reply)}

    def _tool_calls(self, reply: Reply) -> list[dict[str, Any]]:
        return function_calls(reply)

    def _message(self, text: str, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None if reply.tool_calls else text, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = self._tool_calls(reply)
        return message

    def _choice(self, index: int, message: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return {"index": index, "message": message, "finish_reason": self._finish(reply), "logprobs": None}

    def _choices(self, body: dict[str, Any], reply: Reply, text: str) -> list[dict[str, Any]]:
        return [self._choice(index, self._message(text, reply), reply) for index in range(int(body.get("n") or 1))]

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        return {
            **self._head(body, reply, "chat.completion"),
            "choices": self._choices(body, reply, text),
            "usage": self._usage(body, reply, text),
            "system_fingerprint": "fp_fake01",
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        n = int(body.get("n") or 1)
        head = {**self._head(body, reply, "chat.completion.chunk"), "system_fingerprint": "fp_fake01", **reply.extra}

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            return sse_event({**head, "choices": choices, **extra})

        for prelude in reply.prelude:
            yield sse_event(prelude)
        for index in range(n):
            yield chunk([{"index": index, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        choices = self._tool_call_choices(reply, n) if reply.tool_calls else self._text_choices(text, reply, n)
        for choice in choices:
            yield chunk([choice])
        if reply.stream_error is not None:
            yield sse_event({"error": reply.stream_error})
            return
        for index in range(n):
            yield chunk([{"index": index, "delta": {}, "finish_reason": self._finish(reply)}])
        if (body.get("stream_options") or {}).get("include_usage"):
            yield chunk([], usage=self._usage(body, reply, text))
        yield sse_event("[DONE]")

    def _tool_call_choices(self, reply: Reply, n: int) -> Iterator[dict[str, Any]]:
        """Streamed tool calls: per call and choice, a chunk naming it, then its arguments in two."""
        for i, call in enumerate(self._tool_calls(reply)):
            function = call["function"]
            named = {"index": i, **call, "function": {"name": function["name"], "arguments": ""}}
            for index in range(n):
                yield {"index": index, "finish_reason": None, "delta": {"tool_calls": [named]}}
                for piece in split(function["arguments"], 2):
                    arguments = {"index": i, "function": {"arguments": piece}}
                    yield {"index": index, "finish_reason": None, "delta": {"tool_calls": [arguments]}}

    def _text_choices(self, text: str, reply: Reply, n: int) -> Iterator[dict[str, Any]]:
        for piece in split(text, reply.chunks or max(1, words(text))):
            for index in range(n):
                yield {"index": index, "delta": {"content": piece}, "finish_reason": None}


class _OpenAICompletions(OpenAIChat):
    chat_id = "cmpl-fake0001"

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        prompt = body.get("prompt")
        return reply.text if reply.text is not None else f"echo: {text_of(prompt)}"

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        if reply.usage is not None:
            return reply.usage
        prompt = words(text_of(body.get("prompt")))
        completion = words(text) * int(body.get("n") or 1)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        text = self._text(body, reply)
        return {
            **self._head(body, reply, "text_completion"),
            "choices": [
                {"index": i, "text": text, "finish_reason": reply.finish_reason or "stop", "logprobs": None}
                for i in range(int(body.get("n") or 1))
            ],
            "usage": self._usage(body, reply, text),
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        base = self._head(body, reply, "text_completion")
        pieces = split(text, reply.chunks or max(1, words(text)))
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            finish = (reply.finish_reason or "stop") if last else None
            choice = {"index": 0, "text": piece, "logprobs": None, "finish_reason": finish}
            yield sse_event({**base, "choices": [choice]})
        if (body.get("stream_options") or {}).get("include_usage"):
            yield sse_event({**base, "choices": [], "usage": self._usage(body, reply, text)})
        yield sse_event("[DONE]")


class _OpenAIEmbeddings(Dialect):
    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        inputs = body.get("input")
        items = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dims = int(body.get("dimensions") or 8)
        fmt = body.get("encoding_format")
        data = []
        for i in range(len(items)):
            vector = [round(0.001 * (i + 1) * (j + 1), 6) for j in range(dims)]
            if fmt == "base64":
                import base64
                import struct

                embedding: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
            else:
                embedding = vector
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        count = sum(words(text_of(item)) for item in items)
        return {
            "object": "list",
            "data": data,
            "model": model_of(body, reply),
            "usage": reply.usage or {"prompt_tokens": count, "total_tokens": count},
        }

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        raise ValueError("embeddings do not stream")


class _OpenAIResponses(Dialect):
    def _input_text(self, body: dict[str, Any]) -> str:
        value = body.get("input")
        if isinstance(value, str):
            return value
        for item in reversed(value or []):
            if isinstance(item, dict) and item.get("role") == "user":
                return text_of(item.get("content"))
        return ""

    def _text(self, body: dict[str, Any], reply: Reply) -> str:
        if reply.text is not None:
            return reply.text
        items = body.get("input")
        last = items[-1] if isinstance(items, list) and items else None
        if isinstance(last, dict) and last.get("type") == "function_call_output":
            return tool_answer(last.get("output"))
        return f"echo: {self._input_text(body)}"

    def _output(self, reply: Reply, text: str) -> list[dict[str, Any]]:
        if not reply.tool_calls:
            content = [{"type": "output_text", "text": text, "annotations": []}]
            return [
                {"type": "message", "id": "msg_fake01", "role": "assistant", "status": "completed", "content": content}
            ]
        return [
            {
                "type": "function_call",
                "id": f"fc_{i}",
                "call_id": call.get("id", f"call_{i}"),
                "name": call["name"],
                "arguments": call.get("arguments", "{}"),
                "status": "completed",
            }
            for i, call in enumerate(reply.tool_calls)
        ]

    def _usage(self, body: dict[str, Any], reply: Reply, text: str) -> dict[str, Any]:
        if reply.usage:
            return reply.usage
        prompt = words(self._input_text(body)) + words(text_of(body.get("instructions")))
        completion = words(text)
        return {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }

    def _response(self, body: dict[str, Any], reply: Reply, status: str, text: str | None) -> dict[str, Any]:
        """The response object; ``text`` None while in progress (no output yet)."""
        output = self._output(reply, text) if text is not None else []
        usage = self._usage(body, reply, text or "")
        response = {
            "id": "resp_fake0001",
            "object": "response",
            "created_at": CREATED,
            "status": status,
            "model": model_of(body, reply),
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "metadata": {},
            "usage": usage if status != "in_progress" else None,
        }
        if reply.finish_reason in ("max_output_tokens", "content_filter"):
            response["status"] = "incomplete"
            response["incomplete_details"] = {"reason": reply.finish_reason}
        response.update(reply.extra)
        return response

    def json(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return self._response(body, reply, "completed", self._text(body, reply))

    def _message_events(self, event: Any, reply: Reply, text: str) -> Iterator[bytes]:
        """The output message opening and its text deltas."""
        yield event(
            "response.output_item.added",
            output_index=0,
            item={"type": "message", "id": "msg_fake01", "role": "assistant", "status": "in_progress", "content": []},
        )
        yield event(
            "response.content_part.added",
            item_id="msg_fake01",
            output_index=0,
            content_index=0,
            part={"type": "output_text", "text": "", "annotations": []},
        )
        for piece in split(text, reply.chunks or max(1, words(text))):
            yield event(
                "response.output_text.delta",
                item_id="msg_fake01",
                output_index=0,
                content_index=0,
                delta=piece,
                logprobs=[],
            )

    def events(self, body: dict[str, Any], reply: Reply) -> Iterator[bytes]:
        text = self._text(body, reply)
        seq = iter(range(1_000_000))

        def event(kind: str, **data: Any) -> bytes:
            return sse_event({"type": kind, "sequence_number": next(seq), **data}, kind)

        yield event("response.created", response=self._response(body, reply, "in_progress", None))
        yield event("response.in_progress", response=self._response(body, reply, "in_progress", None))
        if reply.tool_calls:
            yield from self._tool_call_events(event, body, reply, text)
            return
        yield from self._message_events(event, reply, text)
        if reply.stream_error is not None:
            yield event("error", **reply.stream_error)
            return
        yield event(
            "response.output_text.done", item_id="msg_fake01", output_index=0, content_index=0, text=text, logprobs=[]
        )
        final = self._response(body, reply, "completed", text)
        kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        yield event(kind, response=final)

    def _tool_call_events(self, event: Any, body: dict[str, Any], reply: Reply, text: str) -> Iterator[bytes]:
        """A streamed reply that asks for function calls: one output item per call, arguments in deltas."""
        final = self._response(body, reply, "completed", text)
        for index, item in enumerate(final["output"]):
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            for piece in split(item["arguments"], 2):
                yield event(
                    "response.function_call_arguments.delta", item_id=item["id"], output_index=index, delta=piece
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                arguments=item["arguments"],
                name=item["name"],
            )
            yield event("response.output_item.done", output_index=index, item=item)
        yield event("response.completed", response=final)


ROUTES: tuple[tuple[str, Dialect], ...] = (
    ("/chat/completions", OpenAIChat()),
    ("/responses", _OpenAIResponses()),
    ("/completions", _OpenAICompletions()),
    ("/embeddings", _OpenAIEmbeddings()),
)
