"""What sentence-transformers itself uses for a directory it saved (one with `modules.json`).

sentence-transformers does not take a saved model's length from `tokenizer_config.json` alone: its
Transformer module passes `sentence_bert_config.json`'s `max_seq_length` (or its `tokenizer_args` /
`processor_kwargs` `model_max_length`) to the tokenizer as `model_max_length`, which all-MiniLM-L6-v2
uses to cut at 256 tokens while its tokenizer says 512; a CrossEncoder saved with `max_length=N` keeps N
in its tokenizer config. A CrossEncoder's activation lives in `config_sentence_transformers.json`
(`activation_fn`, 6.x), config.json's `sentence_transformers` (4.x-5.x) or
`sbert_ce_default_activation_function` (before 4). Rather than re-implement those rules (and their
order, which has moved between versions), the export asks the library: it loads the directory as
`CrossEncoder` or `SentenceTransformer` and reads `max_seq_length`, `activation_fn` and the pooling module.

A directory without `modules.json` is not one sentence-transformers saved; for it the library caps the
tokenizer's `model_max_length` at `max_position_embeddings`, which `model_dir.effective_max_length` does
too (more precisely for RoBERTa-style position offsets), so nothing is read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from .model_dir import ToolError

MODULES_JSON = "modules.json"

_ACTIVATIONS = (("sigmoid", torch.nn.Sigmoid), ("identity", torch.nn.Identity), ("softmax", torch.nn.Softmax))


@dataclass(frozen=True)
class SentenceTransformersChoice:
    """The settings sentence-transformers uses for one saved directory."""

    max_length: Optional[int]
    activation: Optional[str] = None  # CrossEncoder: the name of its activation_fn
    pooling: Optional[str] = None  # SentenceTransformer: its Pooling module's mode

    def describe(self) -> str:
        parts = [f"max_length {self.max_length}"]
        if self.activation is not None:
            parts.append(f"activation {self.activation}")
        if self.pooling is not None:
            parts.append(f"pooling {self.pooling}")
        return ", ".join(parts)


def is_saved_by_sentence_transformers(model_dir: Path) -> bool:
    return (Path(model_dir) / MODULES_JSON).is_file()


_CACHE: dict[tuple[str, str, bool], Optional[SentenceTransformersChoice]] = {}


def choice(model_dir: Path, kind: str, trust_remote_code: bool = False) -> Optional[SentenceTransformersChoice]:
    """None for directories sentence-transformers did not save, and for kinds it does not serve
    (decoder, causal-lm). Loads the model once per directory (export and golden both ask)."""
    if kind not in ("cross-encoder", "bi-encoder") or not is_saved_by_sentence_transformers(model_dir):
        return None
    key = (str(Path(model_dir).resolve()), kind, trust_remote_code)
    if key not in _CACHE:
        _CACHE[key] = _load(Path(model_dir), kind, trust_remote_code)
    return _CACHE[key]


def _load(model_dir: Path, kind: str, trust_remote_code: bool) -> SentenceTransformersChoice:
    hub = dict(device="cpu", local_files_only=True, trust_remote_code=trust_remote_code)
    if kind == "cross-encoder":
        from sentence_transformers import CrossEncoder

        model = CrossEncoder(str(model_dir), **hub)
        result = SentenceTransformersChoice(max_length=_length(model.max_seq_length),
                                            activation=_activation_name(model.activation_fn, model_dir))
    else:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_dir), **hub)
        result = SentenceTransformersChoice(max_length=_length(model.max_seq_length), pooling=_pooling(model, model_dir))
    del model
    return result


def _length(value) -> Optional[int]:
    # A tokenizer without a limit reports 1e30; the caller then falls back to the model's positions.
    return int(value) if value is not None and value < 10**9 else None


def _activation_name(module, model_dir: Path) -> str:
    for name, cls in _ACTIVATIONS:
        if isinstance(module, cls):
            return name
    raise ToolError(f"{model_dir}: sentence-transformers scores this CrossEncoder with {module!r}, which the Java "
                    f"side cannot mirror (sigmoid, identity or softmax); pass --activation to choose one")


def _pooling(model, model_dir: Path) -> Optional[str]:
    from sentence_transformers import models

    for module in model:
        if isinstance(module, models.Pooling):
            mode = module.pooling_mode if hasattr(module, "pooling_mode") else module.get_pooling_mode_str()
            modes = [mode] if isinstance(mode, str) else list(mode)
            if len(modes) != 1 or modes[0] not in ("cls", "mean"):
                raise ToolError(f"{model_dir}: its Pooling module pools with {mode!r}; the Java side pools with cls "
                                f"or mean only")
            return modes[0]
    return None
