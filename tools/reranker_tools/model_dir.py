"""The model directory contract shared with the Java side: file names, reranker.json, and the
rules both sides must agree on (effective max length, activation, templates).

Java reads exactly these names; renaming anything here breaks the runtime.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Optional

MODEL_ONNX = "model.onnx"
MODEL_FP16_ONNX = "model.fp16.onnx"
MODEL_INT8_ONNX = "model.int8.onnx"
RERANKER_JSON = "reranker.json"
GOLDEN_JSON = "golden.json"
CONFIG_JSON = "config.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
# Optional copy of the (merged) PyTorch model, so `golden` can be re-run on an exported directory.
HF_SUBDIR = "hf"

KINDS = ("cross-encoder", "bi-encoder", "decoder")
ACTIVATIONS = ("sigmoid", "identity", "softmax")
POOLINGS = ("cls", "mean")

# Tokenizers without a limit report this sentinel (transformers' VERY_LARGE_INTEGER is 1e30);
# anything at or above it means "no limit" and must never reach a Java int.
_NO_LIMIT = 10**9

# Models whose position ids start at padding_idx + 1, so they can embed only
# max_position_embeddings - (pad_token_id + 1) tokens (RoBERTa: 514 positions -> 512 tokens).
_POSITION_OFFSET_MODEL_TYPES = frozenset(
    {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "data2vec-text", "mpnet", "longformer"}
)

# sentence-transformers stores the CrossEncoder activation as a class path in config.json.
_ST_ACTIVATION_NAMES = {
    "torch.nn.modules.activation.Sigmoid": "sigmoid",
    "torch.nn.modules.linear.Identity": "identity",
    "torch.nn.modules.activation.Softmax": "softmax",
}


class ToolError(Exception):
    """A problem the user must fix (bad arguments, broken parity, ...); the CLI prints it and exits 1."""


@dataclass
class RerankerSettings:
    """reranker.json. Field order is the key order written to disk."""

    kind: str
    activation: Optional[str] = None
    label_index: Optional[int] = None
    max_length: Optional[int] = None
    padding_side: str = "right"
    pad_token_id: Optional[int] = None
    query_template: Optional[str] = None
    document_template: Optional[str] = None
    pooling: Optional[str] = None
    normalize: bool = False
    name: str = ""
    version: str = ""

    def validate(self) -> "RerankerSettings":
        if self.kind not in KINDS:
            raise ToolError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise ToolError(f"activation must be one of {ACTIVATIONS} or null, got {self.activation!r}")
        if self.padding_side not in ("right", "left"):
            raise ToolError(f"padding_side must be 'right' or 'left', got {self.padding_side!r}")
        if self.max_length is not None and self.max_length < 4:
            raise ToolError(f"max_length must be at least 4, got {self.max_length}")
        if self.label_index is not None and self.label_index < 0:
            raise ToolError(f"label_index must be >= 0, got {self.label_index}")
        if self.query_template is not None and "{query}" not in self.query_template:
            raise ToolError(f"query_template must contain '{{query}}': {self.query_template!r}")
        if self.document_template is not None and "{document}" not in self.document_template:
            raise ToolError(f"document_template must contain '{{document}}': {self.document_template!r}")
        if self.kind == "bi-encoder":
            if self.pooling not in POOLINGS:
                raise ToolError(f"bi-encoder needs pooling in {POOLINGS}, got {self.pooling!r}")
        elif self.pooling is not None:
            raise ToolError("pooling only applies to kind bi-encoder")
        if self.kind == "decoder" and self.padding_side != "right":
            # LlamaForSequenceClassification pools the token before the first pad id; with left
            # padding that index points at the wrong token.
            raise ToolError("decoder rerankers must use right padding (the HF head reads the last non-pad token)")
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RerankerSettings":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ToolError(f"unknown keys in {RERANKER_JSON}: {sorted(unknown)}")
        return cls(**data).validate()

    def format_query(self, query: str) -> str:
        # Plain substitution (not str.format) so braces elsewhere in a template behave like the Java side.
        return query if self.query_template is None else self.query_template.replace("{query}", query)

    def format_document(self, document: str) -> str:
        if self.document_template is None:
            return document
        return self.document_template.replace("{document}", document)


def read_settings(model_dir: Path) -> RerankerSettings:
    return RerankerSettings.from_json(json.loads((model_dir / RERANKER_JSON).read_text(encoding="utf-8")))


def write_json(path: Path, data: Any) -> None:
    # ensure_ascii=False keeps Vietnamese readable in golden.json; sort_keys=False keeps contract order.
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def tokenizer_limit(tokenizer) -> Optional[int]:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if limit is not None and limit < _NO_LIMIT else None


def model_position_limit(config) -> Optional[int]:
    """How many tokens the model can embed, or None when positions are unbounded."""
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if positions is None:
        return None
    if config.model_type in _POSITION_OFFSET_MODEL_TYPES:
        positions -= (config.pad_token_id if config.pad_token_id is not None else 1) + 1
    return int(positions)


def effective_max_length(config, tokenizer, cap: Optional[int]) -> int:
    """min(tokenizer limit, model positions, reranker.json cap): the length golden/parity truncate to.

    Java computes min(tokenizer_config model_max_length, config max_position_embeddings, cap); export
    clamps model_max_length to the position limit so both formulas give the same number.
    """
    candidates = [c for c in (tokenizer_limit(tokenizer), model_position_limit(config), cap) if c is not None]
    if not candidates:
        raise ToolError("cannot tell the max sequence length (no tokenizer limit, no max_position_embeddings); "
                        "pass --max-length")
    return min(candidates)


def default_activation(config) -> str:
    """What sentence-transformers' CrossEncoder picks when none is configured (reranker.json null)."""
    stored = getattr(config, "sbert_ce_default_activation_function", None)
    if stored is not None:
        if stored not in _ST_ACTIVATION_NAMES:
            raise ToolError(f"config.json sets sbert_ce_default_activation_function={stored!r}, which the "
                            f"Java side cannot mirror; pass --activation explicitly")
        return _ST_ACTIVATION_NAMES[stored]
    return "sigmoid" if config.num_labels == 1 else "identity"


def check_head(settings: RerankerSettings, config) -> None:
    """Reject activation/label_index combinations that do not pick one score out of the logits."""
    if settings.kind == "bi-encoder":
        if settings.activation not in (None, "identity") or settings.label_index is not None:
            raise ToolError("bi-encoder scores are cosine similarities; activation/label_index do not apply")
        return
    num_labels = config.num_labels
    if settings.label_index is not None and settings.label_index >= num_labels:
        raise ToolError(f"label_index {settings.label_index} out of range for {num_labels} labels")
    if num_labels > 1 and settings.label_index is None:
        labels = getattr(config, "id2label", None)
        raise ToolError(f"the head has {num_labels} labels {labels}; pass --label-index to say which is the score")
    if settings.activation == "softmax" and num_labels < 2:
        raise ToolError("softmax over a single logit is always 1.0; use sigmoid or identity")
