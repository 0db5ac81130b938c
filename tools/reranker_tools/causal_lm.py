"""kind causal-lm: a causal LM asked whether the document answers the query (Qwen3-Reranker style).

The prompt of a pair is prompt_prefix + prompt_template(query, document) + prompt_suffix, tokenized
in three parts as Qwen3-Reranker's reference code does: the prefix with the tokenizer's own special
tokens (LLaMA's BOS; Qwen adds none), the middle without and truncated from its end so that
prefix + middle + suffix fit max_length, the suffix without. Rows are padded on the left, so the last
position is every row's last real token. The score is sigmoid(logit_yes - logit_no) of the next-token
logits there (= the softmax over the two label words), and `logit` is logit_yes - logit_no.

The exported graph returns only those two logits, [batch, 2]: the LM head is applied to the last
position's hidden state for the two label rows alone, not [batch, seq, vocab].
"""

from __future__ import annotations

import numpy as np
import torch

from .model_dir import RerankerSettings, ToolError


def label_token_ids(tokenizer, words: list[str]) -> list[int]:
    """Each label word must be exactly one token (tokenized alone, without special tokens)."""
    ids = []
    for word in words:
        pieces = tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(pieces) != 1:
            raise ToolError(f"label word {word!r} is {len(pieces)} tokens {pieces} for this tokenizer; pass "
                            f"--label-words with two words that are one token each")
        ids.append(int(pieces[0]))
    return ids


def prompt_ids(tokenizer, settings: RerankerSettings, pairs, max_length: int) -> list[list[int]]:
    prefix = tokenizer(settings.prompt_prefix or "", add_special_tokens=True)["input_ids"]
    suffix = tokenizer(settings.prompt_suffix, add_special_tokens=False)["input_ids"] if settings.prompt_suffix else []
    room = max_length - len(prefix) - len(suffix)
    if room < 1:
        raise ToolError(f"prompt_prefix and prompt_suffix take {len(prefix) + len(suffix)} tokens of max_length "
                        f"{max_length}; nothing is left for the query and document")
    bodies = [settings.prompt_body(settings.format_query(p["query"]), settings.format_document(p["document"]))
              for p in pairs]
    middle = tokenizer(bodies, add_special_tokens=False, truncation=True, max_length=room)["input_ids"]
    return [list(prefix) + list(m) + list(suffix) for m in middle]


def left_padded(rows: list[list[int]], pad_id: int) -> dict[str, np.ndarray]:
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, width - len(row):] = row
        mask[i, width - len(row):] = 1
    return {"input_ids": ids, "attention_mask": mask}


def positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids counted over real tokens only, so a left-padded row sees the positions it has alone."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


class LabelLogits(torch.nn.Module):
    """input_ids, attention_mask -> [batch, 2]: next-token logits of the two label words at the last position."""

    def __init__(self, model, label_ids: list[int]):
        super().__init__()
        _check_plain_head(model)
        self.decoder = model.get_decoder()
        head = model.get_output_embeddings()
        index = torch.tensor(label_ids, dtype=torch.long)
        self.register_buffer("rows", head.weight.detach()[index].clone())
        self.register_buffer("bias", head.bias.detach()[index].clone() if head.bias is not None else torch.zeros(2))

    def forward(self, input_ids, attention_mask):
        hidden = self.decoder(input_ids=input_ids, attention_mask=attention_mask,
                              position_ids=positions(attention_mask), use_cache=False,
                              return_dict=True).last_hidden_state
        return hidden[:, -1, :] @ self.rows.T + self.bias


def _check_plain_head(model) -> None:
    """Logit soft-capping or scaling (Gemma 2, Cohere) would change the two logits; refuse rather than mis-score."""
    config = model.config
    for key in ("final_logit_softcapping", "logit_scale"):
        value = getattr(config, key, None)
        if value not in (None, 1, 1.0):
            raise ToolError(f"config.json sets {key}={value}; the causal-lm export reads the plain LM head only")


def full_forward_label_logits(model, inputs: dict[str, np.ndarray], label_ids: list[int]) -> np.ndarray:
    """The reference: the whole CausalLM forward, logits[:, -1, label_ids] (left padding), positions counted
    over real tokens as generate() counts them. (Qwen3-Reranker's card passes none, so a short row padded
    to a long one sees positions shifted by the padding: equal in exact arithmetic under RoPE, but in fp32
    the rotation angles of positions near 2,000 differ by ~1e-4 rad, which moved tiny-model logits by
    up to 8e-5, most of the 1e-4 parity budget.)"""
    mask = torch.from_numpy(inputs["attention_mask"])
    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(inputs["input_ids"]), attention_mask=mask,
                    position_ids=positions(mask), use_cache=False, return_dict=True)
    return out.logits[:, -1, label_ids].float().numpy()


def scores(label_logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(logit = yes - no, score = sigmoid(logit)), in float64 like the Java side."""
    logit = label_logits[:, 0].astype(np.float64) - label_logits[:, 1].astype(np.float64)
    return logit, 1.0 / (1.0 + np.exp(-logit))
