"""Google GenAI adapter (``google-genai``, ``from google import genai``): ``models.generate_content``,
``generate_content_stream`` and ``embed_content``, on ``client.models`` and ``client.aio.models``.

- Operation names follow the conventions for Gemini: ``generate_content`` and ``embeddings``.
- Provider: ``gcp.vertex_ai`` when the client runs in Vertex AI mode, else ``gcp.gemini``; read
  from the API client that the ``Models`` resource holds, with ``server.address``/``server.port``
  from its base URL (or a per-request ``config.http_options.base_url``).
- Usage: ``prompt_token_count`` is the input (it already includes cached content, reported as
  ``cache_read``); output is ``candidates_token_count`` plus ``thoughts_token_count``, because the
  conventions make reasoning tokens a subset of output while Gemini counts them separately.
- Finish reasons are mapped to the conventions' values; Gemini reports ``STOP`` for a candidate
  that calls a function, which we report as ``tool_call``.
- Streams: sync ``generate_content_stream`` is a generator function (nothing is sent until the
  first chunk is read); async ``generate_content_stream`` is a coroutine returning an async
  generator (likewise lazy). Every chunk carries the usage so far, so the last one wins.

This module imports the SDK, so it is imported only when the Google GenAI instrumentor is enabled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from google.genai import errors as genai_errors
from google.genai.types import FinishReason

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.parts import (
    BlobPart,
    ChatMessage,
    MessagePart,
    OutputMessage,
    ServerToolCallPart,
    ServerToolCallResponsePart,
    ToolCallPart,
    ToolCallResponsePart,
    ToolDefinition,
    UriPart,
    text_part,
)
from opentelemetry_instrumentation_llm._core.records import Attributes, RequestContent, RequestInfo, ResponseInfo, Usage
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec, class_name_error_type
from opentelemetry_instrumentation_llm.providers._common import (
    FinishReasons,
    generator_classifier,
    request_info,
    server_of,
    stop_sequences,
)
from opentelemetry_instrumentation_llm.providers._templates import google_genai_template

# --------------------------------------------------------------------------- values

# FinishReason -> the conventions' finish reasons; the SDK's other values are reported lowercased.
_finish_reasons = FinishReasons(
    {
        **{member.value: member.value.lower() for member in FinishReason},
        "STOP": "stop",
        "MAX_TOKENS": "length",
        **dict.fromkeys(
            (
                "SAFETY",
                "RECITATION",
                "BLOCKLIST",
                "PROHIBITED_CONTENT",
                "SPII",
                "IMAGE_SAFETY",
                "IMAGE_PROHIBITED_CONTENT",
                "IMAGE_RECITATION",
                "MODEL_ARMOR",
            ),
            "content_filter",
        ),
    },
    coerce=True,
)


def _name(value: Any) -> str | None:
    """An SDK enum member (or the plain string a dict config holds) as its wire value."""
    if value is None:
        return None
    raw = getattr(value, "value", value)
    return raw if isinstance(raw, str) else str(raw)


def finish_reason(reason: Any, calls_function: bool = False) -> str | None:
    """Gemini reports ``STOP`` for a candidate that calls a function: that is ``tool_call`` here."""
    mapped = _finish_reasons(reason)
    return "tool_call" if calls_function and mapped == "stop" else mapped


def _get(obj: Any, name: str, camel: str | None = None) -> Any:
    """A field of an SDK model, or of the dict a user passed instead (snake_case or camelCase keys)."""
    if isinstance(obj, dict):
        value = obj.get(name)
        if value is None and camel is not None:
            value = obj.get(camel)
        return value
    return getattr(obj, name, None)


# --------------------------------------------------------------------------- requests


def _backend(resource: Any, config: Any) -> tuple[str, str | None, int | None]:
    """(provider, server.address, server.port) from the API client the resource holds."""
    api = getattr(resource, "_api_client", None)
    if api is None:
        return sc.PROVIDER_GCP_GEN_AI, None, None
    provider = sc.PROVIDER_GCP_VERTEX_AI if getattr(api, "vertexai", None) else sc.PROVIDER_GCP_GEMINI
    url = None
    if config is not None:  # a per-request base URL override
        url = _get(_get(config, "http_options", "httpOptions"), "base_url", "baseUrl")
    if url is None:
        url = getattr(getattr(api, "_http_options", None), "base_url", None)
    address, port = server_of(url)
    return provider, address, port


def _output_type(config: Any) -> str | None:
    mime = _get(config, "response_mime_type", "responseMimeType")
    if (
        mime == "application/json"
        or _get(config, "response_schema", "responseSchema") is not None
        or _get(config, "response_json_schema", "responseJsonSchema") is not None
    ):
        return "json"
    if mime == "text/plain":
        return "text"
    modalities = _get(config, "response_modalities", "responseModalities")
    if modalities and len(modalities) == 1:
        return {"IMAGE": "image", "AUDIO": "speech", "TEXT": "text"}.get((_name(modalities[0]) or "").upper())
    return None


def _reasoning_level(config: Any) -> str | None:
    """``thinking_config.thinking_level`` (``LOW``, ``HIGH``, ...), lowercased as other providers report
    their effort levels. ``thinking_budget`` is a token count, with no clean mapping to a level."""
    level = _name(_get(_get(config, "thinking_config", "thinkingConfig"), "thinking_level", "thinkingLevel"))
    if not level or level.upper() == "THINKING_LEVEL_UNSPECIFIED":
        return None
    return level.lower()


# (attribute, field, camelCase field) of GenerateContentConfig recorded as given.
_CONFIG_FIELDS = (
    (sc.GEN_AI_REQUEST_TEMPERATURE, "temperature", None),
    (sc.GEN_AI_REQUEST_TOP_P, "top_p", "topP"),
    (sc.GEN_AI_REQUEST_MAX_TOKENS, "max_output_tokens", "maxOutputTokens"),
    (sc.GEN_AI_REQUEST_SEED, "seed", None),
    (sc.GEN_AI_REQUEST_PRESENCE_PENALTY, "presence_penalty", "presencePenalty"),
    (sc.GEN_AI_REQUEST_FREQUENCY_PENALTY, "frequency_penalty", "frequencyPenalty"),
)


def _generation_attributes(config: Any) -> Attributes:
    attrs: Attributes = {}
    for attribute, name, camel in _CONFIG_FIELDS:
        value = _get(config, name, camel)
        if value is not None:
            attrs[attribute] = value
    top_k = _get(config, "top_k", "topK")
    if top_k is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_K] = int(top_k)
    stop = stop_sequences(_get(config, "stop_sequences", "stopSequences") or None)
    if stop is not None:
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = stop
    count = _get(config, "candidate_count", "candidateCount")
    if count is not None and count != 1:
        attrs[sc.GEN_AI_REQUEST_CHOICE_COUNT] = count
    for attribute, value in (
        (sc.GEN_AI_OUTPUT_TYPE, _output_type(config)),
        (sc.GEN_AI_REQUEST_REASONING_LEVEL, _reasoning_level(config)),
    ):
        if value is not None:
            attrs[attribute] = value
    return attrs


def _request(resource: Any, params: dict[str, Any], operation: str, stream: bool, attrs: Attributes) -> RequestInfo:
    provider, address, port = _backend(resource, params.get("config"))
    return request_info(operation, provider, params.get("model"), (address, port), stream, attrs)


def parse_generate_request(resource: Any, params: dict[str, Any]) -> RequestInfo:
    config = params.get("config")
    attrs = _generation_attributes(config) if config is not None else {}
    return _request(resource, params, sc.OP_GENERATE_CONTENT, False, attrs)


def parse_stream_request(resource: Any, params: dict[str, Any]) -> RequestInfo:
    config = params.get("config")
    attrs = _generation_attributes(config) if config is not None else {}
    return _request(resource, params, sc.OP_GENERATE_CONTENT, True, attrs)


def parse_embed_request(resource: Any, params: dict[str, Any]) -> RequestInfo:
    attrs: Attributes = {}
    config = params.get("config")
    dimensions = _get(config, "output_dimensionality", "outputDimensionality") if config is not None else None
    if dimensions is not None:
        attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
    return _request(resource, params, sc.OP_EMBEDDINGS, False, attrs)


# --------------------------------------------------------------------------- content


def _modality(mime: str | None) -> str:
    kind = (mime or "").split("/", 1)[0]
    return kind if kind in ("image", "video", "audio") else "document"


_IdPart = TypeVar("_IdPart", ToolCallPart, ToolCallResponsePart, ServerToolCallPart, ServerToolCallResponsePart)


def _with_id(part: _IdPart, source: Any) -> _IdPart:
    """``part`` with the ``id`` of its source, when the source has one (Gemini ids are optional)."""
    part_id = _get(source, "id")
    if part_id is not None:
        part["id"] = part_id
    return part


def _media_part(part: Any) -> MessagePart | None:
    """``inline_data`` (a blob part) or ``file_data`` (a uri part)."""
    blob = _get(part, "inline_data", "inlineData")
    source = blob if blob is not None else _get(part, "file_data", "fileData")
    if source is None:
        return None
    mime = _get(source, "mime_type", "mimeType")
    media: BlobPart | UriPart
    if blob is not None:
        media = {"type": "blob", "modality": _modality(mime), "content": _get(blob, "data")}
    else:
        media = {"type": "uri", "modality": _modality(mime), "uri": _get(source, "file_uri", "fileUri")}
    if mime is not None:
        media["mime_type"] = mime
    return media


def _code_part(part: Any) -> MessagePart | None:
    code = _get(part, "executable_code", "executableCode")
    if code is not None:
        call: ServerToolCallPart = {
            "type": "server_tool_call",
            "name": "code_execution",
            "server_tool_call": {
                "type": "code_execution",
                "code": _get(code, "code"),
                "language": _name(_get(code, "language")),
            },
        }
        return _with_id(call, code)
    result = _get(part, "code_execution_result", "codeExecutionResult")
    if result is not None:
        outcome: ServerToolCallResponsePart = {
            "type": "server_tool_call_response",
            "server_tool_call_response": {
                "type": "code_execution",
                "outcome": _name(_get(result, "outcome")),
                "output": _get(result, "output"),
            },
        }
        return _with_id(outcome, result)
    return None


def _part(part: Any) -> MessagePart | None:
    """One Gemini ``Part`` (SDK object or dict) as a conventions message part; None for parts that
    carry no content (a bare thought signature, say)."""
    text = _get(part, "text")
    if text is not None:
        return {"type": "reasoning", "content": text} if _get(part, "thought") else text_part(text)
    call = _get(part, "function_call", "functionCall")
    if call is not None:
        tool_call: ToolCallPart = {"type": "tool_call", "name": _get(call, "name"), "arguments": _get(call, "args")}
        return _with_id(tool_call, call)
    reply = _get(part, "function_response", "functionResponse")
    if reply is not None:
        response: ToolCallResponsePart = {"type": "tool_call_response", "response": _get(reply, "response")}
        return _with_id(response, reply)
    return _media_part(part) or _code_part(part)


def _parts(parts: Any) -> list[MessagePart]:
    converted = (_part(part) for part in parts or ())
    return [part for part in converted if part is not None]


def _role(role: Any) -> str:
    name = _name(role) or "user"
    return {"model": "assistant", "function": "tool"}.get(name, name)


def _contents(contents: Any) -> list[Any]:
    """The contents as the SDK sends them: a list of ``Content`` (strings and parts grouped into turns).

    The grouping rules are the SDK's own (``google.genai._transformers.t_contents``, private): reused
    rather than rewritten so that what we record is what is sent. It is the one reach-in into the SDK
    here, tested by ``test_the_sdk_still_groups_contents``; if it moves, plain reading takes over.
    """
    try:
        from google.genai import _transformers

        return list(_transformers.t_contents(contents))
    except Exception:  # noqa: BLE001 - content the SDK itself will reject; record what we can read
        if isinstance(contents, (str, dict)) or not isinstance(contents, (list, tuple)):
            contents = [contents]
        return [{"role": "user", "parts": [{"text": c}]} if isinstance(c, str) else c for c in contents]


def _message(content: Any) -> ChatMessage:
    return {"role": _role(_get(content, "role")), "parts": _parts(_get(content, "parts"))}


def _system_instructions(value: Any) -> list[MessagePart] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [text_part(value)]
    parts = (
        _get(value, "parts")
        if not isinstance(value, list)
        else [{"text": item} if isinstance(item, str) else item for item in value]
    )
    if parts is None:  # a single Part
        parts = [value]
    return [part for part in _parts(parts) if part["type"] == "text"] or None


def _declaration(declaration: Any) -> ToolDefinition:
    definition: ToolDefinition = {"type": "function", "name": _get(declaration, "name")}
    description = _get(declaration, "description")
    if description is not None:
        definition["description"] = description
    parameters = _get(declaration, "parameters_json_schema", "parametersJsonSchema")
    if parameters is None:
        parameters = _get(declaration, "parameters")
    if parameters is not None:
        dump = getattr(parameters, "model_dump", None)
        definition["parameters"] = dump(mode="json", exclude_none=True) if dump is not None else parameters
    return definition


def _tool_definitions(tools: Any) -> list[ToolDefinition] | None:
    if not tools:
        return None
    definitions: list[ToolDefinition] = []
    for tool in tools:
        if callable(tool) and not isinstance(tool, dict) and not hasattr(tool, "function_declarations"):
            # A Python function the SDK turns into a declaration (automatic function calling).
            definitions.append({"type": "function", "name": getattr(tool, "__name__", "function")})
            continue
        declarations = _get(tool, "function_declarations", "functionDeclarations")
        definitions.extend(_declaration(declaration) for declaration in declarations or ())
        # Built-in tools (google_search, code_execution, url_context, ...): one generic definition each.
        fields = tool.keys() if isinstance(tool, dict) else getattr(type(tool), "model_fields", {}).keys()
        for key in fields:
            if key not in ("function_declarations", "functionDeclarations") and _get(tool, key) is not None:
                definitions.append({"type": key, "name": key})
    return definitions or None


def parse_generate_content(params: dict[str, Any]) -> RequestContent:
    config = params.get("config")
    system = _get(config, "system_instruction", "systemInstruction") if config is not None else None
    tools = _get(config, "tools") if config is not None else None
    contents = params.get("contents")
    return RequestContent(
        system_instructions=_system_instructions(system),
        input_messages=[_message(content) for content in _contents(contents)] if contents is not None else [],
        tool_definitions=_tool_definitions(tools),
    )


# --------------------------------------------------------------------------- responses


def _calls_function(content: Any) -> bool:
    return any(getattr(part, "function_call", None) is not None for part in getattr(content, "parts", None) or ())


def genai_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    candidates = getattr(usage, "candidates_token_count", None)
    thoughts = getattr(usage, "thoughts_token_count", None)
    output = None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    return Usage(
        input_tokens=getattr(usage, "prompt_token_count", None),
        output_tokens=output,
        cache_read_tokens=getattr(usage, "cached_content_token_count", None),
        reasoning_tokens=thoughts,
    )


def _blocked(response: Any) -> bool:
    feedback = getattr(response, "prompt_feedback", None)
    return feedback is not None and getattr(feedback, "block_reason", None) is not None


# One candidate's outcome: its finish reason, and a reader of its parts (called only when capturing).
Outcome = tuple[str | None, Callable[[], list[MessagePart]]]


def _outcomes(outcomes: list[Outcome], blocked: bool, capture: bool) -> tuple[list[str] | None, list[OutputMessage]]:
    """(finish reasons, output messages) of the candidates; a blocked prompt has no candidate at all."""
    reasons = [reason for reason, _ in outcomes if reason is not None]
    if not outcomes and blocked:
        reasons.append("content_filter")
    messages: list[OutputMessage] = (
        [{"role": "assistant", "parts": parts(), "finish_reason": reason or "error"} for reason, parts in outcomes]
        if capture
        else []
    )
    return reasons or None, messages


def _candidate_outcome(candidate: Any) -> Outcome:
    content = getattr(candidate, "content", None)
    reason = finish_reason(getattr(candidate, "finish_reason", None), _calls_function(content))
    return reason, lambda: _parts(getattr(content, "parts", None))


def parse_generate_response(response: Any, capture: bool) -> ResponseInfo:
    outcomes = [_candidate_outcome(candidate) for candidate in getattr(response, "candidates", None) or ()]
    reasons, messages = _outcomes(outcomes, _blocked(response), capture)
    info = ResponseInfo(
        response_id=getattr(response, "response_id", None),
        response_model=getattr(response, "model_version", None),
        finish_reasons=reasons,
        usage=genai_usage(getattr(response, "usage_metadata", None)),
    )
    if capture:
        info.output_messages = messages
    return info


def parse_embed_response(response: Any, capture: bool) -> ResponseInfo:
    info = ResponseInfo()
    embeddings = getattr(response, "embeddings", None) or ()
    usage = getattr(response, "usage_metadata", None)
    count = getattr(usage, "prompt_token_count", None) if usage is not None else None
    if count is None and embeddings:
        # Vertex AI's predict endpoint reports tokens per embedding instead.
        counts = [getattr(getattr(e, "statistics", None), "token_count", None) for e in embeddings]
        if all(c is not None for c in counts):
            count = int(sum(counts))  # type: ignore[arg-type]
    if count is not None:
        info.usage = Usage(input_tokens=count)
    values = getattr(embeddings[0], "values", None) if embeddings else None
    if values:
        info.attributes = {sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: len(values)}
    return info


class _CandidateParts:
    """One streamed candidate's parts, consecutive text (or thought) pieces joined."""

    __slots__ = ("calls", "parts", "reason")

    def __init__(self) -> None:
        self.parts: list[list[Any]] = []  # [kind, payload]; text kinds hold a list of pieces
        self.reason: str | None = None  # the conventions' value
        self.calls = False  # a function call since the last finish reason

    def finished(self, reason: Any) -> None:
        # With automatic function calling one stream spans several requests (a function call, then
        # the answer); each ends with its own reason, judged by the calls made since the previous one.
        self.reason = finish_reason(reason, self.calls)
        self.calls = False

    def add(self, part: Any) -> None:
        text = part.text
        if text is not None:
            kind = "reasoning" if part.thought else "text"
            if self.parts and self.parts[-1][0] == kind:
                self.parts[-1][1].append(text)
            else:
                self.parts.append([kind, [text]])
            return
        self.parts.append(["part", part])

    def message_parts(self) -> list[MessagePart]:
        out: list[MessagePart] = []
        for kind, payload in self.parts:
            if kind == "text":
                out.append(text_part("".join(payload)))
            elif kind == "reasoning":
                out.append({"type": "reasoning", "content": "".join(payload)})
            else:
                converted = _part(payload)
                if converted is not None:
                    out.append(converted)
        return out


class GenerateContentStreamAccumulator:
    """``GenerateContentResponse`` chunks -> ResponseInfo. Each chunk carries the usage so far; the
    finish reason arrives on the last chunk of each candidate."""

    __slots__ = ("_blocked", "_candidates", "_capture", "_id", "_model", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._id: str | None = None
        self._model: str | None = None
        self._usage: Any = None
        self._blocked = False
        self._candidates: dict[int, _CandidateParts] = {}

    def add(self, chunk: Any) -> bool:
        if chunk.usage_metadata is not None:
            self._usage = chunk.usage_metadata
        if self._id is None:
            self._id = chunk.response_id
            self._model = chunk.model_version
        candidates = chunk.candidates
        if not candidates:
            if chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason is not None:
                self._blocked = True
            return False
        output = False
        for candidate in candidates:
            index = candidate.index or 0
            state = self._candidates.get(index)
            if state is None:
                state = self._candidates[index] = _CandidateParts()
            content = candidate.content
            parts = content.parts if content is not None else None
            if parts:
                output = True
                for part in parts:
                    if part.function_call is not None:
                        state.calls = True
                    if self._capture:
                        state.add(part)
            if candidate.finish_reason is not None:
                state.finished(candidate.finish_reason)
        return output

    def result(self) -> ResponseInfo:
        outcomes: list[Outcome] = [(state.reason, state.message_parts) for _, state in sorted(self._candidates.items())]
        reasons, messages = _outcomes(outcomes, self._blocked, self._capture)
        info = ResponseInfo(
            response_id=self._id, response_model=self._model, finish_reasons=reasons, usage=genai_usage(self._usage)
        )
        if messages:
            info.output_messages = messages
        return info


# --------------------------------------------------------------------------- errors and result kinds

_STATUS = re.compile(r"[A-Z][A-Z_]*\Z")


def error_type(exc: BaseException) -> str:
    """The API's status (``RESOURCE_EXHAUSTED``, ``INVALID_ARGUMENT``, ...) when it sent one.

    ``APIError.status`` falls back to the HTTP reason phrase when the error body is not JSON;
    only a google.rpc-style status is used, else the exception's class name.
    """
    if isinstance(exc, genai_errors.APIError):
        status = exc.status
        if isinstance(status, str) and _STATUS.match(status):
            return status
    return class_name_error_type(exc)


classify = generator_classifier


# --------------------------------------------------------------------------- wrap table

_MODELS = "google.genai.models"


def spec() -> ProviderSpec:
    response: dict[str, Any] = {
        "parse_response": parse_generate_response,
        "parse_content": parse_generate_content,
        "parse_template": google_genai_template,
    }
    generate = {**response, "parse_request": parse_generate_request}
    stream = {**response, "parse_request": parse_stream_request, "accumulator": GenerateContentStreamAccumulator}
    embed: dict[str, Any] = {"parse_request": parse_embed_request, "parse_response": parse_embed_response}
    endpoints = []
    for cls, is_async in (("Models", False), ("AsyncModels", True)):
        endpoints.append(Endpoint(_MODELS, f"{cls}.generate_content", is_async, **generate))
        # Sync: a generator function. Async: a coroutine that returns an async generator.
        endpoints.append(Endpoint(_MODELS, f"{cls}.generate_content_stream", is_async, **stream))
        endpoints.append(Endpoint(_MODELS, f"{cls}.embed_content", is_async, **embed))
    return ProviderSpec(sdk="google_genai", endpoints=tuple(endpoints), classify=classify, error_type=error_type)
