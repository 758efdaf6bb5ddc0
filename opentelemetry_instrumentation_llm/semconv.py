"""Semantic-convention names used by this package, in one place.

Names that ``opentelemetry-semantic-conventions`` still ships (as deprecated-moved constants whose
string values are right) are imported from it; names the package lacks are defined here. Every
other module imports names from here, never spells them out.
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_DESCRIPTION as GEN_AI_AGENT_DESCRIPTION,
    GEN_AI_AGENT_ID as GEN_AI_AGENT_ID,
    GEN_AI_AGENT_NAME as GEN_AI_AGENT_NAME,
    GEN_AI_AGENT_VERSION as GEN_AI_AGENT_VERSION,
    GEN_AI_CONVERSATION_ID as GEN_AI_CONVERSATION_ID,
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT as GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    GEN_AI_EVALUATION_EXPLANATION as GEN_AI_EVALUATION_EXPLANATION,
    GEN_AI_EVALUATION_NAME as GEN_AI_EVALUATION_NAME,
    GEN_AI_EVALUATION_SCORE_LABEL as GEN_AI_EVALUATION_SCORE_LABEL,
    GEN_AI_EVALUATION_SCORE_VALUE as GEN_AI_EVALUATION_SCORE_VALUE,
    GEN_AI_INPUT_MESSAGES as GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME as GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES as GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE as GEN_AI_OUTPUT_TYPE,
    GEN_AI_PROMPT_NAME as GEN_AI_PROMPT_NAME,
    GEN_AI_PROVIDER_NAME as GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_CHOICE_COUNT as GEN_AI_REQUEST_CHOICE_COUNT,
    GEN_AI_REQUEST_ENCODING_FORMATS as GEN_AI_REQUEST_ENCODING_FORMATS,
    GEN_AI_REQUEST_FREQUENCY_PENALTY as GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_MAX_TOKENS as GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL as GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_PRESENCE_PENALTY as GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_SEED as GEN_AI_REQUEST_SEED,
    GEN_AI_REQUEST_STOP_SEQUENCES as GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM as GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE as GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_K as GEN_AI_REQUEST_TOP_K,
    GEN_AI_REQUEST_TOP_P as GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS as GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID as GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL as GEN_AI_RESPONSE_MODEL,
    GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK as GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    GEN_AI_SYSTEM_INSTRUCTIONS as GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOKEN_TYPE as GEN_AI_TOKEN_TYPE,
    GEN_AI_TOOL_CALL_ARGUMENTS as GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_ID as GEN_AI_TOOL_CALL_ID,
    GEN_AI_TOOL_CALL_RESULT as GEN_AI_TOOL_CALL_RESULT,
    GEN_AI_TOOL_DEFINITIONS as GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_TOOL_DESCRIPTION as GEN_AI_TOOL_DESCRIPTION,
    GEN_AI_TOOL_NAME as GEN_AI_TOOL_NAME,
    GEN_AI_TOOL_TYPE as GEN_AI_TOOL_TYPE,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS as GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS as GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS as GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS as GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    GEN_AI_WORKFLOW_NAME as GEN_AI_WORKFLOW_NAME,
)
from opentelemetry.semconv._incubating.attributes.jsonrpc_attributes import (
    JSONRPC_PROTOCOL_VERSION as JSONRPC_PROTOCOL_VERSION,
    JSONRPC_REQUEST_ID as JSONRPC_REQUEST_ID,
)
from opentelemetry.semconv._incubating.attributes.mcp_attributes import (
    MCP_METHOD_NAME as MCP_METHOD_NAME,
    MCP_PROTOCOL_VERSION as MCP_PROTOCOL_VERSION,
    MCP_RESOURCE_URI as MCP_RESOURCE_URI,
    MCP_SESSION_ID as MCP_SESSION_ID,
)
from opentelemetry.semconv._incubating.attributes.openai_attributes import (
    OPENAI_API_TYPE as OPENAI_API_TYPE,
    OPENAI_REQUEST_SERVICE_TIER as OPENAI_REQUEST_SERVICE_TIER,
    OPENAI_RESPONSE_SERVICE_TIER as OPENAI_RESPONSE_SERVICE_TIER,
    OPENAI_RESPONSE_SYSTEM_FINGERPRINT as OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE as ERROR_TYPE
from opentelemetry.semconv.attributes.server_attributes import (
    SERVER_ADDRESS as SERVER_ADDRESS,
    SERVER_PORT as SERVER_PORT,
)
from opentelemetry.semconv.schemas import Schemas

# ----------------------------------------------------------------- attributes the package lacks
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
GEN_AI_REQUEST_REASONING_LEVEL: Final = "gen_ai.request.reasoning.level"
GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID: Final = "gen_ai.request.previous_response.id"
GEN_AI_PROMPT_VERSION: Final = "gen_ai.prompt.version"
GEN_AI_TOKEN_MODALITY: Final = "gen_ai.token.modality"
GEN_AI_CONVERSATION_COMPACTED: Final = "gen_ai.conversation.compacted"

GEN_AI_USAGE_COST_AMOUNT: Final = "gen_ai.usage.cost.amount"  # draft (semantic-conventions-genai #443)
GEN_AI_USAGE_COST_CURRENCY: Final = "gen_ai.usage.cost.currency"
GEN_AI_USAGE_COST_SOURCE: Final = "gen_ai.usage.cost.source"

EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"

# ----------------------------------------------------------------- operation names
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_EMBEDDINGS: Final = "embeddings"
OP_GENERATE_CONTENT: Final = "generate_content"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
OP_CREATE_AGENT: Final = "create_agent"
OP_RETRIEVAL: Final = "retrieval"
OP_APPLY_GUARDRAIL: Final = "apply_guardrail"  # draft (semantic-conventions-genai gen-ai-guardrails.md)
OP_HANDOFF: Final = "handoff"  # ours: the conventions define no handoff (docs/agents.md)

# ----------------------------------------------------------------- retrieval (genai main, not in the package yet)
GEN_AI_DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
GEN_AI_RETRIEVAL_TOP_K: Final = "gen_ai.retrieval.top_k"
GEN_AI_RETRIEVAL_QUERY_TEXT: Final = "gen_ai.retrieval.query.text"  # opt-in content
GEN_AI_RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"  # opt-in content

# ----------------------------------------------------------------- agents, tools, MCP (docs/agents.md)
TOOL_TYPE_FUNCTION: Final = "function"
TOOL_TYPE_EXTENSION: Final = "extension"
MCP_TOOLS_CALL: Final = "tools/call"
MCP_PROMPTS_GET: Final = "prompts/get"
MCP_TOOL_ERROR: Final = "tool_error"  # error.type of a CallToolResult with isError (mcp.md)
NETWORK_TRANSPORT: Final = "network.transport"
NETWORK_PROTOCOL_NAME: Final = "network.protocol.name"
RPC_RESPONSE_STATUS_CODE: Final = "rpc.response.status_code"

# ----------------------------------------------------------------- guardrails (draft), handoffs (ours)
GEN_AI_GUARDRAIL_COMPONENT_NAME: Final = "gen_ai.guardrail.component.name"
GEN_AI_GUARDRAIL_RESULT_TYPE: Final = "gen_ai.guardrail.result.type"
GEN_AI_GUARDRAIL_RESULT_VALUE: Final = "gen_ai.guardrail.result.value"
GUARDRAIL_RESULT_TRIPWIRE: Final = "tripwire_triggered"  # the Agents SDK's result, as the draft names it
LLM_HANDOFF_TARGET_AGENT_NAME: Final = "llm.handoff.target_agent.name"

# ----------------------------------------------------------------- token types (gen_ai.token.type)
TOKEN_INPUT: Final = "input"
TOKEN_OUTPUT: Final = "output"

# ----------------------------------------------------------------- events
EVENT_INFERENCE_DETAILS: Final = "gen_ai.client.inference.operation.details"
EVENT_OPERATION_EXCEPTION: Final = "gen_ai.client.operation.exception"
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
EVENT_GUARDRAIL_RESULT: Final = "gen_ai.guardrail.result"  # draft (gen-ai-guardrails.md)

# ----------------------------------------------------------------- metrics (default names)
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"
METRIC_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.operation.time_per_output_chunk"
METRIC_OPERATION_COST: Final = "gen_ai.client.operation.cost"  # draft (semantic-conventions-genai #443)

# ----------------------------------------------------------------- metrics (latest draft names, opt-in)
METRIC_INFERENCE_DURATION: Final = "gen_ai.client.inference.duration"
METRIC_INFERENCE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.inference.time_to_first_chunk"
METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.inference.time_per_output_chunk"
METRIC_INFERENCE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.input_tokens"
METRIC_INFERENCE_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.output_tokens"
METRIC_INFERENCE_CACHE_READ_TOKENS: Final = "gen_ai.client.inference.usage.cache_read.input_tokens"
METRIC_INFERENCE_CACHE_WRITE_TOKENS: Final = "gen_ai.client.inference.usage.cache_write.input_tokens"
METRIC_INFERENCE_REASONING_TOKENS: Final = "gen_ai.client.inference.usage.reasoning.output_tokens"
METRIC_INFERENCE_OPERATION_INPUT_TOKENS: Final = "gen_ai.client.inference.operation.input_tokens"
METRIC_INFERENCE_OPERATION_OUTPUT_TOKENS: Final = "gen_ai.client.inference.operation.output_tokens"

# ----------------------------------------------------------------- metrics above single calls (docs/agents.md)
METRIC_INVOKE_AGENT_DURATION: Final = "gen_ai.invoke_agent.duration"
METRIC_INVOKE_AGENT_INFERENCE_CALLS: Final = "gen_ai.invoke_agent.inference_calls"
METRIC_INVOKE_AGENT_TOOL_CALLS: Final = "gen_ai.invoke_agent.tool_calls"
METRIC_EXECUTE_TOOL_DURATION: Final = "gen_ai.execute_tool.duration"
METRIC_INVOKE_WORKFLOW_DURATION: Final = "gen_ai.invoke_workflow.duration"  # was gen_ai.workflow.duration
METRIC_MCP_CLIENT_OPERATION_DURATION: Final = "mcp.client.operation.duration"
METRIC_MCP_SERVER_OPERATION_DURATION: Final = "mcp.server.operation.duration"
AGENT_DURATION_BUCKETS: Final = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)
WORKFLOW_DURATION_BUCKETS: Final = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)
CALL_COUNT_BUCKETS: Final = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
MCP_DURATION_BUCKETS: Final = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

# Advised explicit bucket boundaries (gen-ai-metrics.md).
DURATION_BUCKETS: Final = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

# ----------------------------------------------------------------- provider names
PROVIDER_OPENAI: Final = "openai"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
PROVIDER_GCP_VERTEX_AI: Final = "gcp.vertex_ai"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
PROVIDER_GCP_GEN_AI: Final = "gcp.gen_ai"
PROVIDER_MISTRAL_AI: Final = "mistral_ai"
PROVIDER_COHERE: Final = "cohere"
PROVIDER_GROQ: Final = "groq"
PROVIDER_OLLAMA: Final = "ollama"  # not a well-known value; custom values are allowed

# ----------------------------------------------------------------------------- schema URLs
# The semantic-conventions version our names follow, on every tracer, meter and logger we create.
# The GenAI names moved to the (untagged) semantic-conventions-genai repository in core v1.42.0;
# v1.41.0 is the last core release in which they were normative, and our span, metric and event
# names are those of that release plus the later genai-repo additions (docs/architecture.md, "Conventions").
SCHEMA_URL: Final = Schemas.V1_41_0.value
# hw.* (GPU) names follow core v1.44.0.
HW_SCHEMA_URL: Final = Schemas.V1_44_0.value
