"""instrument() before the application imports an SDK: nothing is imported then, and the SDK is
patched the moment the application imports it (what opentelemetry-instrument relies on)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, sys
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    import opentelemetry_instrumentation_llm as llm
    from opentelemetry_instrumentation_llm.testing import FakeLLMServer

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    done = llm.instrument(tracer_provider=provider)
    report = {"instrumented": done, "imported_after_instrument": sorted(
        m for m in ("ollama", "groq", "litellm", "google.genai", "botocore", "mistralai", "cohere",
                    "agents", "mcp", "langchain_core", "llama_index.core")
        if m in sys.modules)}
    import ollama  # the application's import: patched now
    report["wrapped_on_import"] = hasattr(ollama.Client.__dict__["chat"], "__wrapped__")
    with FakeLLMServer() as server:
        ollama.Client(host=server.url).chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
    report["spans"] = [span.name for span in exporter.get_finished_spans()]
    llm.uninstrument()
    report["unwrapped"] = not hasattr(ollama.Client.__dict__["chat"], "__wrapped__")
    print(json.dumps(report))
""")


def test_sdks_are_patched_when_the_application_imports_them():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    frameworks = {"openai_agents", "mcp", "langchain", "llama_index"}
    assert {"ollama", "litellm", "groq"} | frameworks <= set(report["instrumented"])
    # instrumenting imports no SDK or framework: llama-index-core alone is about 70 MB of RSS
    assert report["imported_after_instrument"] == []
    assert report["wrapped_on_import"] is True
    assert report["spans"] == ["chat llama3.2"]
    assert report["unwrapped"] is True
