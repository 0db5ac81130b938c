"""From raw model outputs to scores, the way the Java side does it (numpy, no torch).

Used by the parity check (rank agreement of fp16/int8) and by the tests that replay golden.json
through tokenizer.json + ONNX Runtime alone.
"""

from __future__ import annotations

import numpy as np


def activate(logits: np.ndarray, activation: str, label_index: int | None) -> np.ndarray:
    """logits [n, labels] -> scores [n]: activation over the row, then the label_index column (0 if None)."""
    logits = np.asarray(logits, dtype=np.float64)
    if activation == "sigmoid":
        values = 1.0 / (1.0 + np.exp(-logits))
    elif activation == "softmax":
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        values = shifted / shifted.sum(axis=1, keepdims=True)
    elif activation == "identity":
        values = logits
    else:
        raise ValueError(f"unknown activation {activation!r}")
    return values[:, label_index or 0]


def pool(hidden: np.ndarray, attention_mask: np.ndarray, pooling: str, normalize: bool) -> np.ndarray:
    """last_hidden_state [n, seq, h] -> embeddings [n, h], as sentence-transformers' Pooling/Normalize."""
    hidden = np.asarray(hidden, dtype=np.float64)
    if pooling == "cls":
        emb = hidden[:, 0]
    elif pooling == "mean":
        mask = np.asarray(attention_mask, dtype=np.float64)[:, :, None]
        emb = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    else:
        raise ValueError(f"unknown pooling {pooling!r}")
    if normalize:
        emb = emb / np.clip(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12, None)
    return emb


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two [n, h] arrays."""
    a = a / np.clip(np.linalg.norm(a, axis=1, keepdims=True), 1e-12, None)
    b = b / np.clip(np.linalg.norm(b, axis=1, keepdims=True), 1e-12, None)
    return (a * b).sum(axis=1)
