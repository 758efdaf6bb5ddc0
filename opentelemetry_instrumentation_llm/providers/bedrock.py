"""AWS Bedrock adapter (``boto3``/``botocore`` ``bedrock-runtime``): Converse, ConverseStream, InvokeModel and
InvokeModelWithResponseStream.

botocore has no per-operation methods to wrap: every AWS call of the application, whatever the
service, goes through ``BaseClient._make_api_call(operation_name, api_params)``. The parameter binder
therefore tests the operation name first (one frozenset lookup) and hands every other call a shared
empty mapping, for which ``parse_request`` returns None (the call proceeds untraced); only then is the
client's service checked to be ``bedrock-runtime``.

Mapping:

* Converse / ConverseStream: operation ``chat``; ``inferenceConfig`` (``maxTokens``, ``temperature``,
  ``topP``, ``stopSequences``), ``additionalModelRequestFields.top_k``, ``outputConfig`` (``effort`` as
  ``gen_ai.request.reasoning.level``, ``textFormat`` as ``gen_ai.output.type=json``), and
  ``guardrailConfig.guardrailIdentifier`` as ``aws.bedrock.guardrail.id``.
* InvokeModel / InvokeModelWithResponseStream: the body is model-native JSON, read by its keys:
  messages-style bodies (Anthropic Messages, Amazon Nova, OpenAI-style ``messages`` of Mistral Large and
  gpt-oss, Cohere Command R ``message``) are ``chat``; prompt-style bodies (Meta Llama ``prompt``,
  Mistral ``prompt``, Amazon Titan ``inputText``) are ``text_completion``; embedding models (Titan
  ``amazon.titan-embed*``, Cohere embed ``texts``) are ``embeddings``. Model families whose bodies
  carry no token counts get them from the ``amazon-bedrock-invocationMetrics`` of the last stream
  chunk or the ``X-Amzn-Bedrock-Input/Output-Token-Count`` response headers.
* Usage follows the conventions: input includes cached input. Bedrock's Converse ``inputTokens``, like
  Anthropic's ``input_tokens``, excludes cache reads and writes (AWS prompt-caching guide: total input =
  ``inputTokens + cacheReadInputTokens + cacheWriteInputTokens``), so the three are summed.
* ``ResponseMetadata.RequestId`` is an AWS request id, not a response id: ``gen_ai.response.id`` is set
  only when the model's own body carries one (Anthropic ``id``, Cohere embed ``id``).
* InvokeModel returns its body as a botocore ``StreamingBody``: the adapter reads it, and puts back a
  fresh ``StreamingBody`` over the very same bytes, so the user's ``read()`` (and ``iter_lines()``, ...)
  returns exactly what it would have. A read that fails is replayed: the user's first read raises the
  same exception.
* Errors: a botocore ``ClientError`` reports the AWS error code (``ThrottlingException``,
  ``ValidationException``, ...); an exception event inside a stream (``EventStreamError``, whose code is
  the event name, e.g. ``throttlingException``) reports the same code with a capital first letter, so
  a throttled stream and a throttled call share one ``error.type``.

This module imports botocore, so it is imported only when the Bedrock instrumentor is enabled.
"""

from __future__ import annotations

import io
import json
from typing import Any

from botocore.eventstream import EventStream
from botocore.exceptions import EventStreamError
from botocore.response import StreamingBody

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.records import (
    Attributes,
    RequestContent,
    RequestInfo,
    ResponseInfo,
    Usage,
)
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec, ResultKind, class_name_error_type
from opentelemetry_instrumentation_llm.providers._common import (
    data_url_part,
    maybe_json,
    server_of,
    text_part,
)

AWS_BEDROCK_GUARDRAIL_ID = "aws.bedrock.guardrail.id"

SERVICE = "bedrock-runtime"
CONVERSE = "Converse"
CONVERSE_STREAM = "ConverseStream"
INVOKE = "InvokeModel"
INVOKE_STREAM = "InvokeModelWithResponseStream"
_OPERATIONS = frozenset({CONVERSE, CONVERSE_STREAM, INVOKE, INVOKE_STREAM})
_STREAMING = frozenset({CONVERSE_STREAM, INVOKE_STREAM})

OPERATION_KEY = "__operation__"  # in the bound parameters: the botocore operation name
_BODY_KEY = "__body__"  # set by parse_request: the parsed InvokeModel body, for the content parser
_NOT_OURS: dict[str, Any] = {}  # shared, never written: the bound parameters of every other AWS call


def bind_params(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``_make_api_call(operation_name, api_params)`` -> ``{"__operation__": name, **api_params}``.

    Runs for every AWS call the application makes, so the operation name is tested first and other
    calls get a shared empty mapping without copying anything.
    """
    operation = args[0] if args else kwargs.get("operation_name")
    if operation not in _OPERATIONS:
        return _NOT_OURS
    api_params = args[1] if len(args) > 1 else kwargs.get("api_params")
    return {OPERATION_KEY: operation, **(api_params or {})}


# stopReason / stop_reason / completionReason values -> the conventions' finish reasons; others pass through.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "stop": "stop",
    "FINISH": "stop",
    "STOP_CRITERIA_MET": "stop",
    "COMPLETE": "stop",
    "max_tokens": "length",
    "length": "length",
    "model_length": "length",
    "model_context_window_exceeded": "length",
    "LENGTH": "length",
    "MAX_TOKENS": "length",
    "tool_use": "tool_call",
    "tool_calls": "tool_call",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "refusal": "content_filter",
    "CONTENT_FILTERED": "content_filter",
    "ERROR_TOXIC": "content_filter",
}


def finish_reason(reason: Any) -> str | None:
    if not isinstance(reason, str) or not reason:
        return None
    return FINISH_REASONS.get(reason, reason)


# --------------------------------------------------------------------------- small readers


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and value:
        return [str(v) for v in value]
    return None


def _first(mapping: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return value
    return None


def _sampling(attrs: Attributes, max_tokens: Any, temperature: Any, top_p: Any, top_k: Any, stop: Any) -> None:
    value: Any = _integer(max_tokens)
    if value is not None:
        attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] = value
    value = _number(temperature)
    if value is not None:
        attrs[sc.GEN_AI_REQUEST_TEMPERATURE] = value
    value = _number(top_p)
    if value is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_P] = value
    value = _integer(top_k)
    if value is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_K] = value
    value = _strings(stop)
    if value is not None:
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = value


def _json_body(body: Any) -> dict[str, Any] | None:
    """An InvokeModel body given as bytes or text; a file object is never read (it is the user's)."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


# --------------------------------------------------------------------------- requests


def parse_request(client: Any, params: dict[str, Any]) -> RequestInfo | None:
    operation = params.get(OPERATION_KEY)
    if operation is None:
        return None
    meta = client.meta
    if meta.service_model.service_name != SERVICE:
        return None
    address, port = server_of(meta.endpoint_url)
    model = params.get("modelId")
    model = str(model) if model is not None else None
    attrs: Attributes = {}
    if operation in (CONVERSE, CONVERSE_STREAM):
        op = sc.OP_CHAT
        _converse_attributes(params, attrs)
    else:
        body = _json_body(params.get("body"))
        if body is not None:
            params[_BODY_KEY] = body
        op = _invoke_operation(body, model)
        if body is not None:
            _invoke_attributes(body, op, attrs)
        guardrail = params.get("guardrailIdentifier")
        if guardrail:
            attrs[AWS_BEDROCK_GUARDRAIL_ID] = str(guardrail)
    return RequestInfo(
        operation=op,
        provider=sc.PROVIDER_AWS_BEDROCK,
        model=model,
        server_address=address,
        server_port=port,
        stream=operation in _STREAMING,
        attributes=attrs,
    )


def _converse_attributes(params: dict[str, Any], attrs: Attributes) -> None:
    config = _dict(params.get("inferenceConfig"))
    extra = _dict(params.get("additionalModelRequestFields"))
    top_k = _first(extra, "top_k", "topK")
    if top_k is None:  # Amazon Nova: {"inferenceConfig": {"topK": ...}} inside the additional fields
        top_k = _first(_dict(extra.get("inferenceConfig")), "topK", "top_k")
    _sampling(attrs, config.get("maxTokens"), config.get("temperature"), config.get("topP"), top_k,
              config.get("stopSequences"))
    _output_config(params.get("outputConfig"), "textFormat", attrs)
    guardrail = _dict(params.get("guardrailConfig")).get("guardrailIdentifier")
    if guardrail:
        attrs[AWS_BEDROCK_GUARDRAIL_ID] = str(guardrail)


def _output_config(config: Any, format_key: str, attrs: Attributes) -> None:
    """Converse ``outputConfig`` / Anthropic ``output_config``: reasoning effort and structured output."""
    if not isinstance(config, dict):
        return
    effort = config.get("effort")
    if isinstance(effort, str) and effort:
        attrs[sc.GEN_AI_REQUEST_REASONING_LEVEL] = effort
    if config.get(format_key) is not None:
        attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"


def _is_embedding_model(model: str | None) -> bool:
    return model is not None and "embed" in model.lower()


def _invoke_operation(body: dict[str, Any] | None, model: str | None) -> str:
    if _is_embedding_model(model) or (body is not None and ("texts" in body or "inputImage" in body)):
        return sc.OP_EMBEDDINGS
    if body is not None and ("messages" in body or "message" in body):
        return sc.OP_CHAT
    if body is not None and ("prompt" in body or "inputText" in body):
        return sc.OP_TEXT_COMPLETION
    return sc.OP_CHAT


def _invoke_attributes(body: dict[str, Any], operation: str, attrs: Attributes) -> None:
    if operation == sc.OP_EMBEDDINGS:
        dimensions = _integer(_first(body, "dimensions", "output_dimension"))
        if dimensions is not None:
            attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
        formats = _strings(_first(body, "embeddingTypes", "embedding_types"))
        if formats is not None:
            attrs[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = formats
        return
    titan = body.get("textGenerationConfig")
    if isinstance(titan, dict):  # Amazon Titan text
        _sampling(attrs, titan.get("maxTokenCount"), titan.get("temperature"), titan.get("topP"), None,
                  titan.get("stopSequences"))
        return
    nova = body.get("inferenceConfig")
    if isinstance(nova, dict):  # Amazon Nova
        _sampling(attrs, _first(nova, "max_new_tokens", "maxTokens"), nova.get("temperature"),
                  _first(nova, "top_p", "topP"), _first(nova, "top_k", "topK"), nova.get("stopSequences"))
        return
    # Anthropic Messages, Meta Llama (max_gen_len), Mistral, Cohere Command (p, k).
    _output_config(body.get("output_config"), "format", attrs)
    _sampling(attrs, _first(body, "max_tokens", "max_gen_len", "max_completion_tokens"), body.get("temperature"),
              _first(body, "top_p", "p"), _first(body, "top_k", "k"), _first(body, "stop_sequences", "stop"))


# --------------------------------------------------------------------------- content


def _media_part(block: dict[str, Any], modality: str) -> dict[str, Any]:
    """A Converse image/document/video block: bytes become a blob (base64 when serialised), S3 a uri."""
    source = _dict(block.get("source"))
    fmt = block.get("format")
    if "bytes" in source:
        part: dict[str, Any] = {"type": "blob", "modality": modality, "content": source["bytes"]}
        if fmt:
            part["mime_type"] = f"{'application' if modality == 'document' else modality}/{fmt}"
        return part
    location = _dict(source.get("s3Location"))
    if location.get("uri"):
        return {"type": "uri", "modality": modality, "uri": location["uri"]}
    return {"type": modality}


def _tool_result(content: Any) -> Any:
    if not isinstance(content, list):
        return content
    texts = [block.get("text") for block in content if isinstance(block, dict) and "text" in block]
    if len(texts) == len(content):
        return "".join(t for t in texts if isinstance(t, str))
    if len(content) == 1 and isinstance(content[0], dict) and "json" in content[0]:
        return content[0]["json"]
    return content


def _converse_part(block: dict[str, Any]) -> dict[str, Any] | None:
    if "text" in block:
        return text_part(str(block["text"]))
    if "toolUse" in block:
        use = _dict(block["toolUse"])
        return {"type": "tool_call", "id": use.get("toolUseId"), "name": use.get("name"), "arguments": use.get("input")}
    if "toolResult" in block:
        result = _dict(block["toolResult"])
        return {"type": "tool_call_response", "id": result.get("toolUseId"),
                "response": _tool_result(result.get("content"))}
    if "reasoningContent" in block:
        reasoning = _dict(block["reasoningContent"])
        return {"type": "reasoning", "content": _dict(reasoning.get("reasoningText")).get("text") or ""}
    for modality in ("image", "document", "video"):
        if modality in block:
            return _media_part(_dict(block[modality]), modality)
    if "guardContent" in block:
        return text_part(str(_dict(_dict(block["guardContent"]).get("text")).get("text") or ""))
    if "cachePoint" in block:
        return None
    return {"type": next(iter(block), "unknown")}


def _anthropic_part(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return text_part(str(block.get("text") or ""))
    if kind == "tool_use":
        return {"type": "tool_call", "id": block.get("id"), "name": block.get("name"), "arguments": block.get("input")}
    if kind == "tool_result":
        return {"type": "tool_call_response", "id": block.get("tool_use_id"),
                "response": _tool_result(block.get("content"))}
    if kind == "thinking":
        return {"type": "reasoning", "content": block.get("thinking") or ""}
    if kind in ("image", "document"):
        source = _dict(block.get("source"))
        if source.get("type") == "base64":
            part: dict[str, Any] = {"type": "blob", "modality": kind, "content": source.get("data")}
            if source.get("media_type"):
                part["mime_type"] = source["media_type"]
            return part
        if source.get("type") == "url":
            return data_url_part(str(source.get("url") or ""), str(kind))
    return {"type": str(kind)}


def content_parts(content: Any) -> list[dict[str, Any]]:
    """Message content as the conventions' parts: Converse blocks (``{"text": ...}``, ``{"toolUse": ...}``,
    also Nova's InvokeModel bodies) and Anthropic Messages blocks (``{"type": "text", ...}``) alike."""
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[dict[str, Any]] = []
    for block in content or ():
        if isinstance(block, dict):
            part = _anthropic_part(block) if "type" in block else _converse_part(block)
            if part is not None:
                parts.append(part)
    return parts


def _converse_tool(tool: Any) -> dict[str, Any] | None:
    tool = _dict(tool)
    spec = tool.get("toolSpec")
    if isinstance(spec, dict):
        definition: dict[str, Any] = {"type": "function", "name": spec.get("name")}
        if spec.get("description"):
            definition["description"] = spec["description"]
        schema = _dict(spec.get("inputSchema")).get("json")
        if schema is not None:
            definition["parameters"] = schema
        return definition
    system_tool = tool.get("systemTool")
    if isinstance(system_tool, dict):
        return {"type": "system", "name": system_tool.get("name")}
    return None  # cachePoint


def _anthropic_tool(tool: Any) -> dict[str, Any]:
    tool = _dict(tool)
    kind = tool.get("type")
    if kind in (None, "custom"):
        definition: dict[str, Any] = {"type": "function", "name": tool.get("name")}
        if tool.get("description"):
            definition["description"] = tool["description"]
        if tool.get("input_schema") is not None:
            definition["parameters"] = tool["input_schema"]
        return definition
    return {"type": str(kind), "name": tool.get("name") or str(kind)}


def _messages(messages: Any) -> list[dict[str, Any]]:
    return [{"role": m.get("role") or "user", "parts": content_parts(m.get("content"))}
            for m in messages or () if isinstance(m, dict)]


def parse_content(params: dict[str, Any]) -> RequestContent:
    operation = params.get(OPERATION_KEY)
    if operation in (CONVERSE, CONVERSE_STREAM):
        system = [p for p in content_parts(params.get("system")) if p.get("type") == "text"]
        tools = [d for d in map(_converse_tool, _dict(params.get("toolConfig")).get("tools") or ()) if d]
        return RequestContent(
            system_instructions=system or None,
            input_messages=_messages(params.get("messages")),
            tool_definitions=tools or None,
        )
    body = params.get(_BODY_KEY)
    if not isinstance(body, dict):
        return RequestContent()
    if "messages" in body:  # Anthropic Messages, Amazon Nova
        instructions = [p for p in content_parts(body.get("system")) if p.get("type") == "text"]
        offered = body.get("tools")
        return RequestContent(
            system_instructions=instructions or None,
            input_messages=_messages(body.get("messages")),
            tool_definitions=[_anthropic_tool(t) for t in offered] if isinstance(offered, list) and offered else None,
        )
    prompt = _first(body, "prompt", "inputText", "message")  # Llama, Mistral, Titan; Cohere Command R
    if isinstance(prompt, str):
        return RequestContent(input_messages=[{"role": "user", "parts": [text_part(prompt)]}])
    return RequestContent()


# --------------------------------------------------------------------------- responses


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _summed_usage(usage: Any, uncached_key: str, read_key: str, write_key: str, output_key: str) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    uncached, cache_read, cache_write = usage.get(uncached_key), usage.get(read_key), usage.get(write_key)
    total_input = None
    if uncached is not None or cache_read is not None or cache_write is not None:
        total_input = _count(uncached) + _count(cache_read) + _count(cache_write)
    return Usage(input_tokens=total_input, output_tokens=usage.get(output_key),
                 cache_read_tokens=cache_read, cache_write_tokens=cache_write)


def converse_usage(usage: Any) -> Usage | None:
    """Converse ``usage`` (and Nova's): ``inputTokens`` excludes cache reads and writes, the conventions' input
    includes them."""
    return _summed_usage(usage, "inputTokens", "cacheReadInputTokens", "cacheWriteInputTokens", "outputTokens")


def anthropic_usage(usage: Any) -> Usage | None:
    """Anthropic's ``input_tokens`` excludes cached input too: the conventions' input is the sum of three."""
    return _summed_usage(usage, "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
                         "output_tokens")


def _metrics_usage(data: dict[str, Any]) -> Usage | None:
    metrics = data.get("amazon-bedrock-invocationMetrics")
    if not isinstance(metrics, dict):
        return None
    return Usage(input_tokens=metrics.get("inputTokenCount"), output_tokens=metrics.get("outputTokenCount"))


def _header_usage(result: dict[str, Any]) -> Usage | None:
    """InvokeModel responses carry the counts in ``X-Amzn-Bedrock-{Input,Output}-Token-Count`` headers too."""
    headers = _dict(_dict(result.get("ResponseMetadata")).get("HTTPHeaders"))
    found = headers.get("x-amzn-bedrock-input-token-count"), headers.get("x-amzn-bedrock-output-token-count")
    if found == (None, None):
        return None
    counts = [int(v) if isinstance(v, str) and v.isdigit() else None for v in found]
    return Usage(input_tokens=counts[0], output_tokens=counts[1])


def _output(parts: list[dict[str, Any]], reason: str | None) -> list[dict[str, Any]]:
    return [{"role": "assistant", "parts": parts, "finish_reason": reason or "error"}]


def _response(reason_raw: Any, usage: Usage | None, capture: bool, parts: Any, response_id: Any = None,
              model: Any = None) -> ResponseInfo:
    reason = finish_reason(reason_raw)
    info = ResponseInfo(
        response_id=response_id if isinstance(response_id, str) and response_id else None,
        response_model=model if isinstance(model, str) and model else None,
        finish_reasons=[reason] if reason else None,
        usage=usage,
    )
    if capture and parts is not None:
        info.output_messages = _output(parts() if callable(parts) else parts, reason)
    return info


def parse_converse_response(result: dict[str, Any], capture: bool) -> ResponseInfo:
    message = _dict(_dict(result.get("output")).get("message"))
    return _response(result.get("stopReason"), converse_usage(result.get("usage")), capture,
                     lambda: content_parts(message.get("content")))


class _ReplayedFailure(io.RawIOBase):
    """A raw stream whose reads raise the exception the original body raised when we read it."""

    def __init__(self, error: BaseException) -> None:
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise self._error

    def read(self, size: int = -1) -> bytes:
        raise self._error

    def stream(self, **kwargs: Any) -> Any:
        raise self._error


def take_body(result: dict[str, Any]) -> bytes | BaseException | None:
    """Read an InvokeModel result's ``StreamingBody`` and put an equivalent fresh one back.

    Returns the bytes, or the exception the read raised (the replacement body then raises it too).
    """
    body = result.get("body")
    if not isinstance(body, StreamingBody):
        return None
    length = getattr(body, "_content_length", None)
    try:
        data: bytes = body.read()
    except Exception as exc:  # noqa: BLE001 - replayed to the user on their own read
        result["body"] = StreamingBody(_ReplayedFailure(exc), length)
        return exc
    result["body"] = StreamingBody(io.BytesIO(data), length)
    return data


def parse_invoke_body(data: dict[str, Any], capture: bool) -> ResponseInfo | None:
    """A model-native InvokeModel response body, recognised by its keys."""
    if data.get("type") == "message" or ("content" in data and "stop_reason" in data):  # Anthropic Messages
        return _response(data.get("stop_reason"), anthropic_usage(data.get("usage")), capture,
                         lambda: content_parts(data.get("content")), data.get("id"), data.get("model"))
    if "output" in data and "stopReason" in data:  # Amazon Nova (Converse shapes)
        return parse_converse_response(data, capture)
    if "generation" in data:  # Meta Llama
        usage = Usage(input_tokens=data.get("prompt_token_count"), output_tokens=data.get("generation_token_count"))
        return _response(data.get("stop_reason"), usage, capture, lambda: [text_part(str(data["generation"]))])
    if "results" in data:  # Amazon Titan text
        first = _dict((data.get("results") or [{}])[0])
        usage = Usage(input_tokens=data.get("inputTextTokenCount"), output_tokens=first.get("tokenCount"))
        return _response(first.get("completionReason"), usage, capture,
                         lambda: [text_part(str(first.get("outputText") or ""))])
    if "outputs" in data:  # Mistral
        first = _dict((data.get("outputs") or [{}])[0])
        return _response(first.get("stop_reason"), None, capture, lambda: [text_part(str(first.get("text") or ""))])
    if "generations" in data:  # Cohere Command
        first = _dict((data.get("generations") or [{}])[0])
        return _response(first.get("finish_reason"), None, capture,
                         lambda: [text_part(str(first.get("text") or ""))], data.get("id"))
    if "text" in data and "finish_reason" in data:  # Cohere Command R
        return _response(data["finish_reason"], None, capture, lambda: [text_part(str(data["text"]))],
                         data.get("response_id"))
    if "choices" in data:  # OpenAI-style chat bodies (Mistral Large, gpt-oss, DeepSeek)
        first = _dict((data.get("choices") or [{}])[0])
        message = _dict(first.get("message"))
        reported = data.get("usage")
        counts = Usage(input_tokens=reported.get("prompt_tokens"),
                       output_tokens=reported.get("completion_tokens")) if isinstance(reported, dict) else None
        return _response(_first(first, "finish_reason", "stop_reason"), counts, capture,
                         lambda: content_parts(message.get("content")), data.get("id"), data.get("model"))
    if "embedding" in data or "embeddings" in data:  # Titan / Cohere embeddings
        info = ResponseInfo(response_id=data.get("id") if isinstance(data.get("id"), str) else None)
        tokens = data.get("inputTextTokenCount")
        if isinstance(tokens, int):
            info.usage = Usage(input_tokens=tokens)
        vector = data.get("embedding")
        if vector is None:
            vectors = data.get("embeddings")
            vectors = vectors.get("float") if isinstance(vectors, dict) else vectors
            vector = vectors[0] if isinstance(vectors, list) and vectors else None
        if isinstance(vector, list) and vector:
            info.attributes = {sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: len(vector)}
        return info
    return None


def parse_response(result: Any, capture: bool) -> ResponseInfo:
    if not isinstance(result, dict):
        return ResponseInfo()
    if "body" not in result:
        return parse_converse_response(result, capture)
    data = take_body(result)
    if isinstance(data, BaseException):
        return ResponseInfo(error_type=class_name_error_type(data))
    parsed = _json_body(data) if data is not None else None
    info = parse_invoke_body(parsed, capture) if parsed is not None else None
    if info is None:
        info = ResponseInfo()
    if info.usage is None:
        info.usage = _header_usage(result)
    return info


# --------------------------------------------------------------------------- streams


class StreamAccumulator:
    """ConverseStream events and InvokeModelWithResponseStream chunks -> ResponseInfo.

    Converse events are one-key dicts (``messageStart``, ``contentBlockDelta``, ``messageStop``,
    ``metadata``, ...). Invoke chunks are ``{"chunk": {"bytes": b"<model-native JSON>"}}``: Anthropic
    Messages events, Llama ``generation`` pieces, Titan ``outputText`` pieces, Mistral ``outputs``, or
    Nova's Converse-shaped events; the last one carries ``amazon-bedrock-invocationMetrics``.
    Text is kept only when capturing.
    """

    __slots__ = ("_blocks", "_capture", "_id", "_input", "_metrics", "_model", "_output", "_started", "_stop",
                 "_usage", "_usage_delta", "_usage_start")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._started = False
        self._stop: Any = None
        self._usage: Any = None  # Converse / Nova usage dict
        self._usage_start: Any = None  # Anthropic message_start usage
        self._usage_delta: Any = None  # Anthropic message_delta usage
        self._input: Any = None  # Llama / Titan counts
        self._output: Any = None
        self._metrics: Usage | None = None
        self._id: Any = None
        self._model: Any = None
        self._blocks: dict[int, dict[str, Any]] = {}

    def add(self, event: Any) -> bool:
        delta = event.get("contentBlockDelta")
        if delta is not None:
            if self._capture:
                self._converse_delta(delta)
            return True
        payload = event.get("chunk")
        if payload is not None:
            return self._chunk(payload)
        self._started = True
        if "messageStop" in event:
            self._stop = _dict(event["messageStop"]).get("stopReason")
        elif "metadata" in event:
            self._usage = _dict(event["metadata"]).get("usage")
        elif "contentBlockStart" in event and self._capture:
            start = _dict(event["contentBlockStart"])
            self._block(start.get("contentBlockIndex"))["start"] = _dict(start.get("start"))
        return False

    # ------------------------------------------------------------------ Converse

    def _block(self, index: Any) -> dict[str, Any]:
        key = index if isinstance(index, int) else 0
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = {"start": {}, "text": [], "json": [], "reasoning": []}
        return block

    def _converse_delta(self, delta: dict[str, Any]) -> None:
        block = self._block(delta.get("contentBlockIndex"))
        content = _dict(delta.get("delta"))
        if "text" in content:
            block["text"].append(content["text"])
        elif "toolUse" in content:
            block["json"].append(_dict(content["toolUse"]).get("input") or "")
        elif "reasoningContent" in content:
            block["reasoning"].append(_dict(content["reasoningContent"]).get("text") or "")

    # ------------------------------------------------------------------ InvokeModelWithResponseStream

    def _chunk(self, payload: Any) -> bool:
        raw = payload.get("bytes") if isinstance(payload, dict) else None
        if not raw:
            return False
        data = json.loads(raw)
        if not isinstance(data, dict):
            return False
        self._started = True
        metrics = data.get("amazon-bedrock-invocationMetrics")
        if metrics is not None:
            self._metrics = _metrics_usage(data)
        kind = data.get("type")
        if kind is not None:
            return self._anthropic(kind, data)
        if "generation" in data:  # Llama
            return self._piece(data["generation"], data.get("prompt_token_count"),
                               data.get("generation_token_count"), data.get("stop_reason"))
        if "outputText" in data:  # Titan
            return self._piece(data["outputText"], data.get("inputTextTokenCount"),
                               data.get("totalOutputTextTokenCount"), data.get("completionReason"))
        if "outputs" in data:  # Mistral
            first = _dict((data.get("outputs") or [{}])[0])
            return self._piece(first.get("text"), None, None, first.get("stop_reason"))
        if "choices" in data:  # OpenAI-style chat chunks
            first = _dict((data.get("choices") or [{}])[0])
            return self._piece(_dict(first.get("delta")).get("content"), None, None,
                               _first(first, "finish_reason", "stop_reason"))
        if "event_type" in data:  # Cohere Command R
            text = data.get("text") if data["event_type"] == "text-generation" else None
            return self._piece(text, None, None, data.get("finish_reason"))
        if "contentBlockDelta" in data or "messageStop" in data or "metadata" in data:  # Nova
            return self.add(data)
        return False

    def _piece(self, text: Any, input_tokens: Any, output_tokens: Any, stop: Any) -> bool:
        if input_tokens is not None:
            self._input = input_tokens
        if output_tokens is not None:
            self._output = output_tokens
        if stop is not None:
            self._stop = stop
        if not text:
            return False
        if self._capture:
            self._block(0)["text"].append(str(text))
        return True

    def _anthropic(self, kind: Any, data: dict[str, Any]) -> bool:
        if kind == "content_block_delta":
            if self._capture:
                block = self._block(data.get("index"))
                delta = _dict(data.get("delta"))
                dtype = delta.get("type")
                if dtype == "text_delta":
                    block["text"].append(delta.get("text") or "")
                elif dtype == "thinking_delta":
                    block["reasoning"].append(delta.get("thinking") or "")
                elif dtype == "input_json_delta":
                    block["json"].append(delta.get("partial_json") or "")
            return True
        if kind == "message_start":
            message = _dict(data.get("message"))
            self._id = message.get("id")
            self._model = message.get("model")
            self._usage_start = message.get("usage")
        elif kind == "message_delta":
            self._stop = _dict(data.get("delta")).get("stop_reason")
            self._usage_delta = data.get("usage")
        elif kind == "content_block_start" and self._capture:
            block = _dict(data.get("content_block"))
            if block.get("type") == "tool_use":
                self._block(data.get("index"))["start"] = {"toolUse": {"toolUseId": block.get("id"),
                                                                       "name": block.get("name")}}
        return False

    # ------------------------------------------------------------------ summary

    def _result_usage(self) -> Usage | None:
        if self._usage is not None:
            return converse_usage(self._usage)
        if self._usage_start is not None or self._usage_delta is not None:
            merged: dict[str, Any] = {}
            for source in (self._usage_start, self._usage_delta):  # message_delta holds the final counts
                merged.update({k: v for k, v in _dict(source).items() if v is not None})
            return anthropic_usage(merged)
        metrics = self._metrics or Usage()
        if self._input is None and self._output is None:
            return self._metrics
        return Usage(input_tokens=self._input if self._input is not None else metrics.input_tokens,
                     output_tokens=self._output if self._output is not None else metrics.output_tokens)

    def _parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for index in sorted(self._blocks):
            block = self._blocks[index]
            if block["reasoning"]:
                parts.append({"type": "reasoning", "content": "".join(block["reasoning"])})
            use = _dict(block["start"].get("toolUse"))
            if use:
                raw = "".join(block["json"])
                parts.append({"type": "tool_call", "id": use.get("toolUseId"), "name": use.get("name"),
                              "arguments": maybe_json(raw) if raw else {}})
            elif block["text"]:
                parts.append(text_part("".join(block["text"])))
        return parts

    def result(self) -> ResponseInfo:
        started = self._started or bool(self._blocks)
        return _response(self._stop, self._result_usage(), self._capture and started, self._parts,
                         self._id, self._model)


# --------------------------------------------------------------------------- errors and result kinds


def error_type(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError``; the class name otherwise."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = _dict(response.get("Error")).get("Code")
        if isinstance(code, str) and code:
            if isinstance(exc, EventStreamError):  # stream exception events are named "throttlingException"
                code = code[:1].upper() + code[1:]
            return code
    return class_name_error_type(exc)


def classify(result: Any) -> ResultKind:
    if type(result) is dict and (isinstance(result.get("stream"), EventStream)
                                 or isinstance(result.get("body"), EventStream)):
        return ResultKind.EMBEDDED_STREAM
    return ResultKind.VALUE


def embedded_stream_key(result: Any) -> str:
    return "stream" if isinstance(result.get("stream"), EventStream) else "body"


# --------------------------------------------------------------------------- wrap table


def spec() -> ProviderSpec:
    return ProviderSpec(
        sdk="bedrock",
        endpoints=(
            Endpoint("botocore.client", "BaseClient._make_api_call", False, parse_request=parse_request,
                     parse_response=parse_response, parse_content=parse_content, accumulator=StreamAccumulator,
                     params=bind_params),
        ),
        classify=classify,
        error_type=error_type,
        embedded_stream_key=embedded_stream_key,
    )
