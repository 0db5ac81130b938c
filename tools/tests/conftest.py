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


@pytest.fixture(scope="session")
def sources(tmp_path_factory):
    """name -> (model dir, adapter dir or None) for the fixture sources the tests export again."""
    from reranker_tools.fixtures import build_source

    root = tmp_path_factory.mktemp("sources")
    built = {}
    for name in ("bert-cross-encoder", "roberta-lora", "llama-decoder"):
        built[name] = build_source(name, root / name)
    return built
