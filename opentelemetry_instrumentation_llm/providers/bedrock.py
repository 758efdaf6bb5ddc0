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
  gpt-oss, Cohere Command R ``message``) are ``chat``; Anthropic bodies and events map through
  :mod:`._anthropic_messages`, Chat-Completions-shaped ones through :mod:`._openai_compat`, Nova's
  through the Converse mapping here; prompt-style bodies (Meta Llama ``prompt``,
  Mistral ``prompt``, Amazon Titan ``inputText``) are ``text_completion``; embedding models (Titan
  ``amazon.titan-embed*``, Cohere embed ``texts``) are ``embeddings``. Model families whose bodies
  carry no token counts get them from the ``amazon-bedrock-invocationMetrics`` of the last stream
  chunk or the ``X-Amzn-Bedrock-Input/Output-Token-Count`` response headers. In a stream of a
  prompt-style family the invocation metrics are preferred over the body's own counts (Titan sends
  those as JSON floats; the metrics are integers).
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
from collections.abc import Callable
from typing import Any

from botocore.eventstream import EventStream
from botocore.exceptions import EventStreamError
from botocore.response import StreamingBody

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.parts import BlobPart, ChatMessage, MessagePart, ToolDefinition, text_part
from opentelemetry_instrumentation_llm._core.records import Attributes, RequestContent, RequestInfo, ResponseInfo, Usage
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ProviderSpec, ResultKind, class_name_error_type
from opentelemetry_instrumentation_llm.providers import _anthropic_messages as anthropic_messages
from opentelemetry_instrumentation_llm.providers._common import (
    Arguments,
    FinishReasons,
    field,
    maybe_json,
    request_info,
    server_of,
)
from opentelemetry_instrumentation_llm.providers._openai_compat import (
    ChatCompletionsRequests,
    ChatCompletionsStreamAccumulator,
    chat_response_info,
)

AWS_BEDROCK_GUARDRAIL_ID = "aws.bedrock.guardrail.id"

# Chat-Completions-shaped InvokeModel bodies are plain JSON: nothing in them is an SDK sentinel.
_chat_completions = ChatCompletionsRequests(Arguments())

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
finish_reason = FinishReasons(
    {
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
)


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
    for attribute, value in (
        (sc.GEN_AI_REQUEST_MAX_TOKENS, _integer(max_tokens)),
        (sc.GEN_AI_REQUEST_TEMPERATURE, _number(temperature)),
        (sc.GEN_AI_REQUEST_TOP_P, _number(top_p)),
        (sc.GEN_AI_REQUEST_TOP_K, _integer(top_k)),
        (sc.GEN_AI_REQUEST_STOP_SEQUENCES, _strings(stop)),
    ):
        if value is not None:
            attrs[attribute] = value


def _json_body(body: Any) -> dict[str, Any] | None:
    """An InvokeModel body given as bytes or text; a file object is never read (it is the user's)."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _is_converse_shaped(body: dict[str, Any]) -> bool:
    """Amazon Nova's InvokeModel body: Converse's shapes (content blocks keyed ``text``, ``image``, ...)."""
    if "schemaVersion" in body or "inferenceConfig" in body:
        return True
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    content = first.get("content") if isinstance(first, dict) else None
    return isinstance(content, list) and bool(content) and isinstance(content[0], dict) and "type" not in content[0]


def _is_chat_completions(body: dict[str, Any]) -> bool:
    """An OpenAI-style chat body (Mistral Large, gpt-oss, DeepSeek): ``messages`` without Anthropic's
    required ``anthropic_version`` and not in Nova's shapes."""
    return "messages" in body and "anthropic_version" not in body and not _is_converse_shaped(body)


# --------------------------------------------------------------------------- requests


def parse_request(client: Any, params: dict[str, Any]) -> RequestInfo | None:
    operation = params.get(OPERATION_KEY)
    if operation is None:
        return None
    meta = client.meta
    if meta.service_model.service_name != SERVICE:
        return None
    model = params.get("modelId")
    model = str(model) if model is not None else None
    attrs: Attributes = {}
    if operation in (CONVERSE, CONVERSE_STREAM):
        op = sc.OP_CHAT
        _converse_attributes(params, attrs)
    else:
        op = _invoke_request(params, model, attrs)
    return request_info(
        op, sc.PROVIDER_AWS_BEDROCK, model, server_of(meta.endpoint_url), operation in _STREAMING, attrs
    )


def _invoke_request(params: dict[str, Any], model: str | None, attrs: Attributes) -> str:
    """InvokeModel's operation name and attributes, read from its model-native body."""
    body = _json_body(params.get("body"))
    op = _invoke_operation(body, model)
    if body is not None:
        params[_BODY_KEY] = body
        _invoke_attributes(body, op, attrs)
    guardrail = params.get("guardrailIdentifier")
    if guardrail:
        attrs[AWS_BEDROCK_GUARDRAIL_ID] = str(guardrail)
    return op


def _converse_attributes(params: dict[str, Any], attrs: Attributes) -> None:
    config = _dict(params.get("inferenceConfig"))
    extra = _dict(params.get("additionalModelRequestFields"))
    top_k = _first(extra, "top_k", "topK")
    if top_k is None:  # Amazon Nova: {"inferenceConfig": {"topK": ...}} inside the additional fields
        top_k = _first(_dict(extra.get("inferenceConfig")), "topK", "top_k")
    _sampling(
        attrs,
        config.get("maxTokens"),
        config.get("temperature"),
        config.get("topP"),
        top_k,
        config.get("stopSequences"),
    )
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


def _embedding_attributes(body: dict[str, Any], attrs: Attributes) -> None:
    dimensions = _integer(_first(body, "dimensions", "output_dimension"))
    if dimensions is not None:
        attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
    formats = _strings(_first(body, "embeddingTypes", "embedding_types"))
    if formats is not None:
        attrs[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = formats


def _invoke_attributes(body: dict[str, Any], operation: str, attrs: Attributes) -> None:
    if operation == sc.OP_EMBEDDINGS:
        _embedding_attributes(body, attrs)
        return
    titan = body.get("textGenerationConfig")
    if isinstance(titan, dict):  # Amazon Titan text
        _sampling(
            attrs,
            titan.get("maxTokenCount"),
            titan.get("temperature"),
            titan.get("topP"),
            None,
            titan.get("stopSequences"),
        )
        return
    nova = body.get("inferenceConfig")
    if isinstance(nova, dict):  # Amazon Nova
        _sampling(
            attrs,
            _first(nova, "max_new_tokens", "maxTokens"),
            nova.get("temperature"),
            _first(nova, "top_p", "topP"),
            _first(nova, "top_k", "topK"),
            nova.get("stopSequences"),
        )
        return
    if _is_chat_completions(body):
        attrs.update(_chat_completions.chat_attributes(body))
        return
    # Anthropic Messages, Meta Llama (max_gen_len), Mistral, Cohere Command (p, k).
    _output_config(body.get("output_config"), "format", attrs)
    _sampling(
        attrs,
        _first(body, "max_tokens", "max_gen_len", "max_completion_tokens"),
        body.get("temperature"),
        _first(body, "top_p", "p"),
        _first(body, "top_k", "k"),
        _first(body, "stop_sequences", "stop"),
    )


# --------------------------------------------------------------------------- content (Converse shapes)


def _media_part(block: dict[str, Any], modality: str) -> MessagePart:
    """A Converse image/document/video block: bytes become a blob (base64 when serialised), S3 a uri."""
    source = _dict(block.get("source"))
    fmt = block.get("format")
    if "bytes" in source:
        part: BlobPart = {"type": "blob", "modality": modality, "content": source["bytes"]}
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


def _converse_tool_part(block: dict[str, Any]) -> MessagePart | None:
    if "toolUse" in block:
        use = _dict(block["toolUse"])
        return {
            "type": "tool_call",
            "id": use.get("toolUseId"),
            "name": field(use, "name"),
            "arguments": use.get("input"),
        }
    if "toolResult" in block:
        result = _dict(block["toolResult"])
        return {
            "type": "tool_call_response",
            "id": result.get("toolUseId"),
            "response": _tool_result(result.get("content")),
        }
    return None


def _converse_part(block: dict[str, Any]) -> MessagePart | None:
    if "text" in block:
        return text_part(str(block["text"]))
    tool = _converse_tool_part(block)
    if tool is not None:
        return tool
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


def content_parts(content: Any) -> list[MessagePart]:
    """Converse message content (``{"text": ...}``, ``{"toolUse": ...}``, ... blocks; also Nova's InvokeModel
    bodies) as the conventions' parts."""
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[MessagePart] = []
    for block in content or ():
        if isinstance(block, dict):
            part = _converse_part(block)
            if part is not None:
                parts.append(part)
    return parts


def _converse_tool(tool: Any) -> ToolDefinition | None:
    tool = _dict(tool)
    spec = tool.get("toolSpec")
    if isinstance(spec, dict):
        definition: ToolDefinition = {"type": "function", "name": field(spec, "name")}
        if spec.get("description"):
            definition["description"] = spec["description"]
        schema = _dict(spec.get("inputSchema")).get("json")
        if schema is not None:
            definition["parameters"] = schema
        return definition
    system_tool = tool.get("systemTool")
    if isinstance(system_tool, dict):
        return {"type": "system", "name": field(system_tool, "name")}
    return None  # cachePoint


def _converse_content(system: Any, messages: Any, tool_config: Any) -> RequestContent:
    """Converse's ``system``, ``messages`` and ``toolConfig`` (Nova's InvokeModel bodies use the same)."""
    instructions = [p for p in content_parts(system) if p["type"] == "text"]
    tools = [d for d in map(_converse_tool, _dict(tool_config).get("tools") or ()) if d]
    input_messages: list[ChatMessage] = [
        {"role": m.get("role") or "user", "parts": content_parts(m.get("content"))}
        for m in messages or ()
        if isinstance(m, dict)
    ]
    return RequestContent(
        system_instructions=instructions or None, input_messages=input_messages, tool_definitions=tools or None
    )


def parse_template(params: dict[str, Any]) -> tuple[Any, Any]:
    """Converse's ``system`` and ``toolConfig`` for the prompt fingerprint (InvokeModel bodies are
    JSON bytes, which are not parsed on every call: no fingerprint)."""
    if params.get(OPERATION_KEY) in (CONVERSE, CONVERSE_STREAM):
        return params.get("system"), params.get("toolConfig")
    return None, None


def parse_content(params: dict[str, Any]) -> RequestContent:
    if params.get(OPERATION_KEY) in (CONVERSE, CONVERSE_STREAM):
        return _converse_content(params.get("system"), params.get("messages"), params.get("toolConfig"))
    body = params.get(_BODY_KEY)
    if not isinstance(body, dict):
        return RequestContent()
    if "messages" in body:
        if _is_converse_shaped(body):  # Amazon Nova
            return _converse_content(body.get("system"), body.get("messages"), body.get("toolConfig"))
        if _is_chat_completions(body):  # Mistral Large, gpt-oss
            return _chat_completions.content(body)
        return anthropic_messages.request_content(body.get("system"), body.get("messages"), body.get("tools"))
    prompt = _first(body, "prompt", "inputText", "message")  # Llama, Mistral, Titan; Cohere Command R
    if isinstance(prompt, str):
        return RequestContent(input_messages=[{"role": "user", "parts": [text_part(prompt)]}])
    return RequestContent()


# --------------------------------------------------------------------------- responses

# Converse's usage names -> the Messages API's: the same counts (``inputTokens`` also excludes cache reads
# and writes; AWS prompt-caching guide: total input = inputTokens + cacheReadInputTokens + cacheWriteInputTokens).
_CONVERSE_USAGE_NAMES = (
    ("inputTokens", "input_tokens"),
    ("outputTokens", "output_tokens"),
    ("cacheReadInputTokens", "cache_read_input_tokens"),
    ("cacheWriteInputTokens", "cache_creation_input_tokens"),
)


def converse_usage(usage: Any) -> Usage | None:
    """Converse ``usage`` (and Nova's), read as the Messages API's usage under its own names."""
    if not isinstance(usage, dict):
        return None
    return anthropic_messages.messages_usage({ours: usage.get(theirs) for theirs, ours in _CONVERSE_USAGE_NAMES})


def _metrics_usage(metrics: Any) -> Usage | None:
    """``amazon-bedrock-invocationMetrics``: integer token counts for every model family."""
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


PartsReader = Callable[[], list[MessagePart]]


def _response(
    reason_raw: Any, usage: Usage | None, capture: bool, parts: PartsReader, response_id: Any = None, model: Any = None
) -> ResponseInfo:
    reason = finish_reason(reason_raw)
    info = ResponseInfo(
        response_id=response_id if isinstance(response_id, str) and response_id else None,
        response_model=model if isinstance(model, str) and model else None,
        finish_reasons=[reason] if reason else None,
        usage=usage,
    )
    if capture:
        info.output_messages = anthropic_messages.output_message(parts(), reason)
    return info


def parse_converse_response(result: dict[str, Any], capture: bool) -> ResponseInfo:
    message = _dict(_dict(result.get("output")).get("message"))
    return _response(
        result.get("stopReason"),
        converse_usage(result.get("usage")),
        capture,
        lambda: content_parts(message.get("content")),
    )


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

    Returns the bytes, or the exception the read raised (the replacement body then raises it too). A
    read that succeeded has checked the length the response declared, so the new body declares the
    length of the very bytes it holds.
    """
    body = result.get("body")
    if not isinstance(body, StreamingBody):
        return None
    try:
        data: bytes = body.read()
    except Exception as exc:  # noqa: BLE001 - replayed to the user on their own read
        result["body"] = StreamingBody(_ReplayedFailure(exc), None)
        return exc
    result["body"] = StreamingBody(io.BytesIO(data), len(data))
    return data


def _first_of(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key][0]`` as a dict: the first of a body's ``results`` / ``outputs`` / ``generations``."""
    items = data.get(key)
    return _dict(items[0]) if isinstance(items, list) and items else {}


def _text_parts(text: Any) -> PartsReader:
    return lambda: [text_part(str(text or ""))]


def _completion_body(data: dict[str, Any], capture: bool) -> ResponseInfo | None:
    """The prompt-style families' bodies: Llama, Titan text, Mistral, Cohere Command and Command R."""
    if "generation" in data:  # Meta Llama
        usage = Usage(input_tokens=data.get("prompt_token_count"), output_tokens=data.get("generation_token_count"))
        return _response(data.get("stop_reason"), usage, capture, _text_parts(data["generation"]))
    if "results" in data:  # Amazon Titan text
        first = _first_of(data, "results")
        usage = Usage(input_tokens=data.get("inputTextTokenCount"), output_tokens=first.get("tokenCount"))
        return _response(first.get("completionReason"), usage, capture, _text_parts(first.get("outputText")))
    if "outputs" in data:  # Mistral
        first = _first_of(data, "outputs")
        return _response(first.get("stop_reason"), None, capture, _text_parts(first.get("text")))
    if "generations" in data:  # Cohere Command
        first = _first_of(data, "generations")
        return _response(first.get("finish_reason"), None, capture, _text_parts(first.get("text")), data.get("id"))
    if "text" in data and "finish_reason" in data:  # Cohere Command R
        return _response(data["finish_reason"], None, capture, _text_parts(data["text"]), data.get("response_id"))
    return None


def _with_finish_reasons(choices: Any) -> None:
    """Mistral's chat bodies on Bedrock name a choice's finish reason ``stop_reason``; read it as OpenAI's."""
    for choice in choices if isinstance(choices, list) else ():
        if isinstance(choice, dict) and choice.get("finish_reason") is None and "stop_reason" in choice:
            choice["finish_reason"] = choice["stop_reason"]


def _embedding_body(data: dict[str, Any]) -> ResponseInfo:
    """Titan / Cohere embeddings."""
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


def parse_invoke_body(data: dict[str, Any], capture: bool) -> ResponseInfo | None:
    """A model-native InvokeModel response body, recognised by its keys."""
    if data.get("type") == "message" or ("content" in data and "stop_reason" in data):  # Anthropic Messages
        return anthropic_messages.response_info(data, capture)
    if "output" in data and "stopReason" in data:  # Amazon Nova (Converse shapes)
        return parse_converse_response(data, capture)
    if "choices" in data:  # OpenAI-style chat bodies (Mistral Large, gpt-oss, DeepSeek)
        _with_finish_reasons(data["choices"])
        return chat_response_info(data, capture)
    if "embedding" in data or "embeddings" in data:
        return _embedding_body(data)
    return _completion_body(data, capture)


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


class _ConverseBlock:
    __slots__ = ("json", "reasoning", "start", "text")

    def __init__(self) -> None:
        self.start: dict[str, Any] = {}
        self.text: list[str] = []
        self.json: list[str] = []
        self.reasoning: list[str] = []

    def parts(self) -> list[MessagePart]:
        parts: list[MessagePart] = []
        if self.reasoning:
            parts.append({"type": "reasoning", "content": "".join(self.reasoning)})
        use = _dict(self.start.get("toolUse"))
        if use:
            raw = "".join(self.json)
            parts.append(
                {
                    "type": "tool_call",
                    "id": use.get("toolUseId"),
                    "name": field(use, "name"),
                    "arguments": maybe_json(raw) if raw else {},
                }
            )
        elif self.text:
            parts.append(text_part("".join(self.text)))
        return parts


class ConverseStreamAccumulator:
    """ConverseStream events (one-key dicts: ``messageStart``, ``contentBlockDelta``, ``messageStop``,
    ``metadata``, ...; Nova's InvokeModel stream chunks too) -> ResponseInfo. Text is kept only when capturing."""

    __slots__ = ("_blocks", "_capture", "_started", "_stop", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._started = False
        self._stop: Any = None
        self._usage: Any = None
        self._blocks: dict[int, _ConverseBlock] = {}

    def add(self, event: Any) -> bool:
        delta = event.get("contentBlockDelta")
        if delta is not None:
            if self._capture:
                self._delta(delta)
            return True
        self._started = True
        if "messageStop" in event:
            self._stop = _dict(event["messageStop"]).get("stopReason")
        elif "metadata" in event:
            self._usage = _dict(event["metadata"]).get("usage")
        elif "contentBlockStart" in event and self._capture:
            start = _dict(event["contentBlockStart"])
            self._block(start.get("contentBlockIndex")).start = _dict(start.get("start"))
        return False

    def _block(self, index: Any) -> _ConverseBlock:
        key = index if isinstance(index, int) else 0
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = _ConverseBlock()
        return block

    def _delta(self, delta: dict[str, Any]) -> None:
        block = self._block(delta.get("contentBlockIndex"))
        content = _dict(delta.get("delta"))
        if "text" in content:
            block.text.append(content["text"])
        elif "toolUse" in content:
            block.json.append(_dict(content["toolUse"]).get("input") or "")
        elif "reasoningContent" in content:
            block.reasoning.append(_dict(content["reasoningContent"]).get("text") or "")

    def _parts(self) -> list[MessagePart]:
        return [part for index in sorted(self._blocks) for part in self._blocks[index].parts()]

    def result(self) -> ResponseInfo:
        started = self._started or bool(self._blocks)
        return _response(self._stop, converse_usage(self._usage), self._capture and started, self._parts)


class CompletionStreamAccumulator:
    """The prompt-style families' InvokeModelWithResponseStream chunks -> ResponseInfo: Llama
    ``generation``, Titan ``outputText``, Mistral ``outputs`` and Cohere Command R ``event_type`` pieces."""

    __slots__ = ("_capture", "_input", "_output", "_stop", "_text")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._input: Any = None
        self._output: Any = None
        self._stop: Any = None
        self._text: list[str] = []

    def add(self, data: dict[str, Any]) -> bool:
        if "generation" in data:  # Llama
            input_tokens, output_tokens = data.get("prompt_token_count"), data.get("generation_token_count")
            return self._piece(data["generation"], input_tokens, output_tokens, data.get("stop_reason"))
        if "outputText" in data:  # Titan
            input_tokens, output_tokens = data.get("inputTextTokenCount"), data.get("totalOutputTextTokenCount")
            return self._piece(data["outputText"], input_tokens, output_tokens, data.get("completionReason"))
        if "outputs" in data:  # Mistral
            first = _first_of(data, "outputs")
            return self._piece(first.get("text"), None, None, first.get("stop_reason"))
        if "event_type" in data:  # Cohere Command R
            text = data.get("text") if data["event_type"] == "text-generation" else None
            return self._piece(text, None, None, data.get("finish_reason"))
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
            self._text.append(str(text))
        return True

    def result(self) -> ResponseInfo:
        usage = None if self._input is None and self._output is None else Usage(self._input, self._output)
        text = "".join(self._text)
        return _response(self._stop, usage, self._capture, lambda: [text_part(text)] if text else [])


class _ChatChunksAccumulator(ChatCompletionsStreamAccumulator):
    """OpenAI-style chat chunks (Mistral Large, gpt-oss), whose choices may name the reason ``stop_reason``."""

    __slots__ = ()

    def add(self, chunk: Any) -> bool:
        _with_finish_reasons(chunk.get("choices"))
        return bool(super().add(chunk))


_CONVERSE_EVENTS = (
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
)


def _invoke_stream_accumulator(data: dict[str, Any], capture: bool) -> tuple[Any, bool]:
    """The accumulator for an InvokeModelWithResponseStream body format, recognised by its first chunk, and
    whether it reads events by attribute (the shared Chat Completions accumulator does)."""
    if "type" in data:
        return anthropic_messages.AnthropicJsonEventAccumulator(capture), False
    if "choices" in data:
        return _ChatChunksAccumulator(capture), True
    if any(key in data for key in _CONVERSE_EVENTS):  # Amazon Nova
        return ConverseStreamAccumulator(capture), False
    if any(key in data for key in ("generation", "outputText", "outputs", "event_type")):
        return CompletionStreamAccumulator(capture), False
    return None, False


# One decoder for all streams: json.loads(..., object_hook=...) would build a decoder for every chunk.
_JSON_OBJECTS = json.JSONDecoder(object_hook=anthropic_messages.JsonObject)


def _json_objects(raw: bytes | str) -> Any:
    """Parse JSON into ``JsonObject``s (dicts whose keys read as attributes too)."""
    return _JSON_OBJECTS.decode(raw.decode() if isinstance(raw, (bytes, bytearray)) else raw)


class BedrockStreamAccumulator:
    """ConverseStream events and InvokeModelWithResponseStream chunks -> ResponseInfo.

    Invoke chunks are ``{"chunk": {"bytes": b"<model-native JSON>"}}``; the first one decides which
    body format's accumulator reads the rest (and how the rest is parsed), and the last one carries
    ``amazon-bedrock-invocationMetrics``: integer counts, preferred over the prompt-style families' own
    (Titan's are JSON floats) and used by every family whose events carry none.
    """

    __slots__ = ("_capture", "_decode", "_delegate", "_metrics")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._delegate: Any = None
        self._decode: Any = json.loads
        self._metrics: Usage | None = None

    def add(self, event: Any) -> bool:
        payload = event.get("chunk")
        if payload is None:  # a ConverseStream event
            if self._delegate is None:
                self._delegate = ConverseStreamAccumulator(self._capture)
            return bool(self._delegate.add(event))
        raw = payload.get("bytes") if isinstance(payload, dict) else None
        if not raw:
            return False
        data = self._decode(raw)
        if not isinstance(data, dict):
            return False
        metrics = data.get("amazon-bedrock-invocationMetrics")
        if metrics is not None:
            self._metrics = _metrics_usage(metrics)
        if self._delegate is None:
            self._delegate, by_attribute = _invoke_stream_accumulator(data, self._capture)
            if self._delegate is None:
                return False
            if by_attribute:
                self._decode = _json_objects
                data = _json_objects(raw)
        return bool(self._delegate.add(data))

    def result(self) -> ResponseInfo:
        delegate = self._delegate
        info: ResponseInfo = delegate.result() if delegate is not None else ResponseInfo()
        metrics = self._metrics
        if metrics is None:
            return info
        body = info.usage
        if body is None:
            info.usage = metrics
        elif isinstance(delegate, CompletionStreamAccumulator):
            info.usage = Usage(
                input_tokens=metrics.input_tokens if metrics.input_tokens is not None else body.input_tokens,
                output_tokens=metrics.output_tokens if metrics.output_tokens is not None else body.output_tokens,
            )
        return info


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
    if type(result) is dict and (
        isinstance(result.get("stream"), EventStream) or isinstance(result.get("body"), EventStream)
    ):
        return ResultKind.EMBEDDED_STREAM
    return ResultKind.VALUE


def embedded_stream_key(result: Any) -> str:
    return "stream" if isinstance(result.get("stream"), EventStream) else "body"


# --------------------------------------------------------------------------- wrap table


def spec() -> ProviderSpec:
    return ProviderSpec(
        sdk="bedrock",
        endpoints=(
            Endpoint(
                "botocore.client",
                "BaseClient._make_api_call",
                False,
                parse_request=parse_request,
                parse_response=parse_response,
                parse_content=parse_content,
                parse_template=parse_template,
                accumulator=BedrockStreamAccumulator,
                params=bind_params,
            ),
        ),
        classify=classify,
        error_type=error_type,
        embedded_stream_key=embedded_stream_key,
    )
