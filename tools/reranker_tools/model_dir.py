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

KINDS = ("cross-encoder", "bi-encoder", "decoder", "causal-lm")
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


CAUSAL_LM_KEYS = ("prompt_prefix", "prompt_template", "prompt_suffix", "label_words", "label_token_ids")
DEFAULT_LABEL_WORDS = ("yes", "no")

# Documented examples (README "causal-lm"). Qwen3-Reranker's model card prompt, instruction included:
QWEN3_RERANKER_PREFIX = ("<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
                         "and the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n"
                         "<|im_start|>user\n")
QWEN3_RERANKER_TEMPLATE = ("<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n"
                           "<Query>: {query}\n<Document>: {document}")
QWEN3_RERANKER_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
# A MedAlpaca-style (Alpaca instruction format) relevance question for a medical QA LoRA:
MEDALPACA_PREFIX = ("Below is an instruction that describes a task, paired with an input that provides further "
                    "context. Write a response that appropriately completes the request.\n\n")
MEDALPACA_TEMPLATE = ("### Instruction:\nDoes the passage answer the medical question? Answer yes or no.\n\n"
                      "### Input:\nQuestion: {query}\nPassage: {document}\n\n")
MEDALPACA_SUFFIX = "### Response:\n"


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
    # causal-lm only (written only for that kind, so other kinds' reranker.json stay as they were):
    # prompt = prompt_prefix (with the tokenizer's special tokens) + prompt_template(query, document)
    # (truncated from its end) + prompt_suffix; score = sigmoid(logit(label_words[0]) - logit(label_words[1])).
    prompt_prefix: Optional[str] = None
    prompt_template: Optional[str] = None
    prompt_suffix: Optional[str] = None
    label_words: Optional[list] = None
    label_token_ids: Optional[list] = None
    # Written by export after its parity check (absent when it wrote no fp16/int8 variant):
    # {"fp16"|"int8": {"fit_to_serve": bool, "max_abs_diff", "tolerance", "top1_agreement"}}. Java's
    # model.variant=auto never picks a variant whose fit_to_serve is false.
    variants: Optional[dict] = None

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
        if self.kind == "causal-lm":
            if self.prompt_template is None or "{query}" not in self.prompt_template \
                    or "{document}" not in self.prompt_template:
                raise ToolError(f"causal-lm needs a prompt_template with {{query}} and {{document}}, got "
                                f"{self.prompt_template!r}")
            if self.padding_side != "left":
                raise ToolError("causal-lm rerankers use left padding (the graph reads the last position)")
            if self.activation not in (None, "sigmoid") or self.label_index is not None:
                raise ToolError("causal-lm scores are sigmoid(logit_yes - logit_no); activation/label_index do not apply")
            if self.label_words is not None and (len(self.label_words) != 2 or not all(self.label_words)):
                raise ToolError(f"label_words must be two words (positive, negative), got {self.label_words!r}")
        elif any(v is not None for v in (self.prompt_prefix, self.prompt_template, self.prompt_suffix,
                                         self.label_words, self.label_token_ids)):
            raise ToolError("prompt_* and label_* settings only apply to kind causal-lm")
        for name, verdict in (self.variants or {}).items():
            if name not in ("fp16", "int8") or not isinstance((verdict or {}).get("fit_to_serve"), bool):
                raise ToolError(f"variants must map fp16/int8 to {{\"fit_to_serve\": true|false, ...}}, got "
                                f"{name!r}: {verdict!r}")
        if self.kind == "decoder" and self.padding_side != "right":
            # LlamaForSequenceClassification pools the token before the first pad id; with left
            # padding that index points at the wrong token.
            raise ToolError("decoder rerankers must use right padding (the HF head reads the last non-pad token)")
        return self

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.kind != "causal-lm":
            for key in CAUSAL_LM_KEYS:
                data.pop(key)
        if self.variants is None:
            data.pop("variants")
        return data

    @property
    def words(self) -> list[str]:
        return list(self.label_words or DEFAULT_LABEL_WORDS)

    def prompt_body(self, query: str, document: str) -> str:
        """prompt_template with the (templated) query and document; the document is put in last, as Java does."""
        template = self.prompt_template
        at = template.index("{document}")
        return (template[:at].replace("{query}", query) + document
                + template[at + len("{document}"):].replace("{query}", query))

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
    # sentence-transformers 4-5 keep it in config.json's "sentence_transformers", older ones under
    # sbert_ce_default_activation_function (6 writes config_sentence_transformers.json, which export reads
    # through the library: st_config).
    stored = (getattr(config, "sentence_transformers", None) or {}).get("activation_fn") \
        or getattr(config, "sbert_ce_default_activation_function", None)
    if stored is not None:
        if stored not in _ST_ACTIVATION_NAMES:
            raise ToolError(f"config.json sets sbert_ce_default_activation_function={stored!r}, which the "
                            f"Java side cannot mirror; pass --activation explicitly")
        return _ST_ACTIVATION_NAMES[stored]
    return "sigmoid" if config.num_labels == 1 else "identity"


def check_head(settings: RerankerSettings, config) -> None:
    """Reject activation/label_index combinations that do not pick one score out of the logits."""
    if settings.kind == "causal-lm":
        return  # two label words, validated with the tokenizer (causal_lm.label_token_ids)
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
