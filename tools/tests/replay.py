"""Score golden.json's pairs the way the Java side does: only tokenizer.json (HF `tokenizers`, the
same Rust library Java binds), the JSON files of the contract, and ONNX Runtime. No transformers.

If this matches golden.json, the directory holds everything Java needs, and the rules Java must
implement (max length formula, templates, strip, padding, activation, pooling) are the ones below.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from reranker_tools.scoring import activate, cosine, pool

_ST_ACTIVATIONS = {"torch.nn.modules.activation.Sigmoid": "sigmoid", "torch.nn.modules.linear.Identity": "identity"}


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def java_max_length(model_dir: Path) -> int:
    settings, config = _read(model_dir / "reranker.json"), _read(model_dir / "config.json")
    tok_config = _read(model_dir / "tokenizer_config.json")
    positions = config.get("max_position_embeddings")
    if positions is not None and config["model_type"] in ("roberta", "xlm-roberta"):
        positions -= config["pad_token_id"] + 1  # position ids start after the pad id
    values = [tok_config.get("model_max_length"), positions, settings["max_length"]]
    return min(v for v in values if v is not None)


def _replay_causal_lm(settings, golden, tokenizer, max_length, session):
    """Prefix with special tokens, the templated middle cut to what is left, the suffix; left padding;
    logit = yes - no. The label ids come from the tokenizer and must be the ones the graph was exported for."""
    tokenizer.no_truncation()
    labels = [tokenizer.encode(w, add_special_tokens=False).ids for w in settings["label_words"]]
    assert [ids[0] for ids in labels] == settings["label_token_ids"] and all(len(ids) == 1 for ids in labels)
    prefix = tokenizer.encode(settings["prompt_prefix"] or "", add_special_tokens=True).ids
    suffix = tokenizer.encode(settings["prompt_suffix"], add_special_tokens=False).ids if settings["prompt_suffix"] else []
    room = max_length - len(prefix) - len(suffix)
    rows = []
    for p in golden["pairs"]:
        template = settings["prompt_template"]
        at = template.index("{document}")
        body = template[:at].replace("{query}", p["query"]) + p["document"] + template[at + 10:].replace("{query}", p["query"])
        rows.append(prefix + tokenizer.encode(body, add_special_tokens=False).ids[:room] + suffix)
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), settings["pad_token_id"], dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, width - len(row):] = row
        mask[i, width - len(row):] = 1
    two = session.run(None, {"input_ids": ids, "attention_mask": mask})[0].astype(np.float64)
    logit = two[:, 0] - two[:, 1]
    return logit.reshape(-1, 1), 1.0 / (1.0 + np.exp(-logit))


def java_activation(model_dir: Path) -> str:
    settings, config = _read(model_dir / "reranker.json"), _read(model_dir / "config.json")
    if settings["activation"] is not None:
        return settings["activation"]
    if config.get("sbert_ce_default_activation_function"):
        return _ST_ACTIVATIONS[config["sbert_ce_default_activation_function"]]
    return "sigmoid" if config["num_labels"] == 1 else "identity"


def replay(model_dir: Path, onnx_file: str = "model.onnx") -> tuple[np.ndarray, np.ndarray]:
    """(logits [n, labels], scores [n]) for golden.json's pairs, all pairs in one padded batch."""
    settings = _read(model_dir / "reranker.json")
    golden = _read(model_dir / "golden.json")
    max_length = java_max_length(model_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length, strategy="longest_first")
    tokenizer.enable_padding(direction=settings["padding_side"], pad_id=settings["pad_token_id"],
                             pad_token=tokenizer.id_to_token(settings["pad_token_id"]))
    session = ort.InferenceSession(str(model_dir / onnx_file), providers=["CPUExecutionProvider"])
    wanted = [i.name for i in session.get_inputs()]
    if settings["kind"] == "causal-lm":
        return _replay_causal_lm(settings, golden, Tokenizer.from_file(str(model_dir / "tokenizer.json")), max_length,
                                 session)
    strip = golden["text_preprocessing"] == "strip"

    def text(value: str, template: str | None, slot: str) -> str:
        value = value if template is None else template.replace(slot, value)
        return value.strip() if strip else value  # sentence-transformers strips the final text

    queries = [text(p["query"], settings["query_template"], "{query}") for p in golden["pairs"]]
    documents = [text(p["document"], settings["document_template"], "{document}") for p in golden["pairs"]]
    if settings["kind"] == "bi-encoder":
        encodings = tokenizer.encode_batch(queries + documents)
    else:
        encodings = tokenizer.encode_batch(list(zip(queries, documents)))
    feed = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
    output = session.run(None, {name: feed[name] for name in wanted})[0]
    if settings["kind"] == "bi-encoder":
        n = len(queries)
        emb = pool(output, feed["attention_mask"], settings["pooling"], settings["normalize"])
        cos = cosine(emb[:n], emb[n:])
        return cos.reshape(-1, 1), cos
    return output, activate(output, java_activation(model_dir), settings["label_index"])
