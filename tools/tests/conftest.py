"""Shared setup: offline hub, import path, and tiny source models built once per session."""

import os
import sys
from pathlib import Path

# Before anything imports huggingface_hub/transformers: nothing in the tests may reach the hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402


FIXTURES_DIR = TOOLS / "fixtures"

# ONNX Runtime here against PyTorch goldens (often computed on another CPU): the project's fp32 parity
# target. Two runtimes on two CPUs differ by about 1e-6 on these fixtures, so 1e-4 never fails for that
# reason, while a wrong input, padding or truncation moves these logits by 1e-2 or more.
PARITY_ATOL = 1e-4


@pytest.fixture(scope="session")
def sources(tmp_path_factory):
    """name -> (model dir, adapter dir or None) for the fixture sources the tests export again."""
    from reranker_tools.fixtures import build_source

    root = tmp_path_factory.mktemp("sources")
    built = {}
    for name in ("bert-cross-encoder", "roberta-lora", "llama-decoder"):
        built[name] = build_source(name, root / name)
    return built
