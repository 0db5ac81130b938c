"""golden.json: reference scores from the reference libraries, PyTorch fp32 on CPU.

  cross-encoder  sentence-transformers CrossEncoder.predict (its truncation, its activation rules when
                 reranker.json says null).
  decoder        transformers AutoModelForSequenceClassification, tokenizer(query_template(q),
                 document_template(d), truncation=True, max_length, padding=True), right padding;
                 the HF head pools the last non-pad token.
  bi-encoder     sentence-transformers SentenceTransformer(Transformer, Pooling[, Normalize]);
                 score = logit = cosine(query embedding, document embedding).

Batches deliberately mix short and long pairs (see pairs.py), so the numbers include padding.

Every reference reads each (templated) text as given: sentence-transformers 6 no longer strips texts at
inference (CrossEncoder.predict and SentenceTransformer.encode hand them to the tokenizer unchanged; only
CrossEncoder's training collate in fit_mixin.py strips), and the decoder and causal-lm references call the
tokenizer directly. golden.json's `text_preprocessing` says so ("none"); replay and the Java app do the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import torch

from . import st_config
from .loading import apply_pad_token, load_config, load_model, load_tokenizer, merge_adapter, set_padding_side
from .model_dir import RerankerSettings, ToolError, check_head, default_activation, effective_max_length
from .pairs import Pair

BATCH_SIZE = 4
# What every reference does to a text before its tokenizer reads it: nothing (see the module docstring).
TEXT_PREPROCESSING = "none"

_ACTIVATION_MODULES = {"sigmoid": torch.nn.Sigmoid, "identity": torch.nn.Identity}


def compute_golden(model_dir: Path, settings: RerankerSettings, pairs: list[Pair], *, adapter: Optional[Path] = None,
                   trust_remote_code: bool = False, num_labels: Optional[int] = None,
                   batch_size: int = BATCH_SIZE, truncation_side: str = "right") -> dict:
    """`truncation_side` is transformers' tokenizer truncation_side: which end of a text is cut (chunking.py's
    reference for the Java app's truncation_side; causal-lm prompts are always cut at their end)."""
    torch.manual_seed(0)  # nothing here should be random; this just removes any doubt
    config = load_config(model_dir, trust_remote_code, num_labels)
    tokenizer = load_tokenizer(model_dir, trust_remote_code)
    if settings.pad_token_id is not None:
        apply_pad_token(None, tokenizer, settings.pad_token_id)
    st = st_config.choice(model_dir, settings.kind, trust_remote_code)
    if st is not None and st.max_length is not None:
        tokenizer.model_max_length = st.max_length  # as export does: the length sentence-transformers uses
    max_length = effective_max_length(config, tokenizer, settings.max_length)
    check_head(settings, config)
    common = dict(adapter=adapter, trust_remote_code=trust_remote_code, num_labels=num_labels)
    if truncation_side not in ("right", "left"):
        raise ToolError(f"truncation_side must be right or left, got {truncation_side!r}")
    if settings.kind != "causal-lm":
        tokenizer.truncation_side = truncation_side
    if settings.kind in ("cross-encoder", "bi-encoder"):
        common["truncation_side"] = truncation_side
    if settings.kind == "cross-encoder":
        reference, activation, logits, scores = _cross_encoder(model_dir, settings, pairs, max_length, batch_size,
                                                               **common)
    elif settings.kind == "causal-lm":
        reference, activation, logits, scores = _causal_lm(model_dir, settings, pairs, max_length, batch_size,
                                                           tokenizer=tokenizer, **common)
    elif settings.kind == "decoder":
        reference, activation, logits, scores = _decoder(model_dir, settings, pairs, max_length, batch_size,
                                                         tokenizer=tokenizer, **common)
    else:
        reference, activation, logits, scores = _bi_encoder(model_dir, settings, pairs, max_length, **common)
        batch_size = 2 * len(pairs)
    return {
        "reference": f"{reference}; transformers {_version('transformers')}, torch {torch.__version__}, fp32 CPU",
        "kind": settings.kind,
        "activation": activation,
        "label_index": settings.label_index,
        "max_length": max_length,
        "batch_size": batch_size,
        "text_preprocessing": TEXT_PREPROCESSING,
        "pairs": [{"query": p["query"], "document": p["document"],
                   "logits": [float(x) for x in row], "score": float(s)}
                  for p, row, s in zip(pairs, logits, scores)],
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _formatted(settings: RerankerSettings, pairs: list[Pair]) -> tuple[list[str], list[str]]:
    return ([settings.format_query(p["query"]) for p in pairs],
            [settings.format_document(p["document"]) for p in pairs])


def _cross_encoder(model_dir, settings, pairs, max_length, batch_size, *, adapter, trust_remote_code, num_labels,
                   truncation_side="right"):
    from sentence_transformers import CrossEncoder

    ce = CrossEncoder(str(model_dir), num_labels=num_labels, max_length=max_length, device="cpu",
                      trust_remote_code=trust_remote_code, local_files_only=True,
                      automodel_args={"torch_dtype": torch.float32})
    if adapter is not None:
        _replace_transformers_model(ce, merge_adapter(ce.model, adapter))
    set_padding_side(ce.tokenizer, settings.padding_side)
    ce.tokenizer.truncation_side = truncation_side
    queries, documents = _formatted(settings, pairs)
    inputs = [[q, d] for q, d in zip(queries, documents)]

    def predict(**kwargs) -> np.ndarray:
        out = ce.predict(inputs, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True, **kwargs)
        return np.asarray(out, dtype=np.float32).reshape(len(pairs), -1)

    logits = predict(activation_fct=torch.nn.Identity())
    if settings.activation is None:
        activation = _st_activation_name(ce.default_activation_function)
        if activation != default_activation(ce.config):
            raise ToolError(f"sentence-transformers chose {activation}, the Java rule says "
                            f"{default_activation(ce.config)}; set --activation explicitly")
        activated = predict()  # CrossEncoder's own default activation
    elif settings.activation == "softmax":
        activation = "softmax"
        activated = predict(activation_fct=torch.nn.Identity(), apply_softmax=True)
    else:
        activation = settings.activation
        activated = predict(activation_fct=_ACTIVATION_MODULES[activation]())
    scores = activated[:, settings.label_index or 0]
    import sentence_transformers

    return f"sentence-transformers {sentence_transformers.__version__} CrossEncoder", activation, logits, scores


def _replace_transformers_model(ce, merged) -> None:
    """Puts the merged model where CrossEncoder calls it. sentence-transformers 3 keeps it in a plain
    `model` attribute; from 5 on, CrossEncoder is a module pipeline whose `model` is a read-only view of
    the transformers model inside its first module, and assigning to it appends `merged` as one more
    pipeline step (which is then called with the previous step's output)."""
    old = ce.model
    if merged is old:  # merge_and_unload usually returns the same, now merged, model
        return
    if not isinstance(ce, torch.nn.Module):
        ce.model = merged
        return
    for module in ce.modules():
        for name, child in module.named_children():
            if child is old:
                setattr(module, name, merged)
                return
    raise ToolError("could not find the transformers model inside the CrossEncoder to replace it with the merged "
                    "one (sentence-transformers version not supported)")


def _st_activation_name(module) -> str:
    for name, cls in (("sigmoid", torch.nn.Sigmoid), ("identity", torch.nn.Identity), ("softmax", torch.nn.Softmax)):
        if isinstance(module, cls):
            return name
    raise ToolError(f"unsupported CrossEncoder activation {module!r}; pass --activation")


def _decoder(model_dir, settings, pairs, max_length, batch_size, *, tokenizer, adapter, trust_remote_code,
             num_labels):
    # Default attention implementation here (not the eager one used for export): an independent reference.
    model = load_model(model_dir, "decoder", adapter, trust_remote_code=trust_remote_code, num_labels=num_labels,
                       eager_attention=False)
    if settings.pad_token_id is not None:
        apply_pad_token(model, tokenizer, settings.pad_token_id)
    if tokenizer.pad_token_id is None or model.config.pad_token_id is None:
        raise ToolError("decoder golden needs a pad token id (reranker.json pad_token_id or --pad-token-id)")
    set_padding_side(tokenizer, "right")
    queries, documents = _formatted(settings, pairs)
    activation = settings.activation or default_activation(model.config)
    logits = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            enc = tokenizer(queries[start:start + batch_size], documents[start:start + batch_size],
                            truncation=True, max_length=max_length, padding=True, return_tensors="pt")
            logits.append(model(**enc).logits.float())
    logits = torch.cat(logits)
    if activation == "sigmoid":
        activated = torch.sigmoid(logits)
    elif activation == "softmax":
        activated = torch.softmax(logits, dim=-1)
    else:
        activated = logits
    scores = activated[:, settings.label_index or 0]
    return ("transformers AutoModelForSequenceClassification", activation, logits.numpy(), scores.numpy())


def _causal_lm(model_dir, settings, pairs, max_length, batch_size, *, tokenizer, adapter, trust_remote_code,
               num_labels):
    """As Qwen3-Reranker's card: AutoModelForCausalLM (default attention, an independent reference to the
    eager export), left-padded batches, logits[:, -1, [yes, no]], score = softmax over the two =
    sigmoid(yes - no); `logits` is [yes - no]. Position ids are counted over real tokens, as generate()
    does for left padding, so each score is the pair's own (see causal_lm.full_forward_label_logits)."""
    from . import causal_lm

    model = load_model(model_dir, "causal-lm", adapter, trust_remote_code=trust_remote_code, eager_attention=False)
    ids = causal_lm.label_token_ids(tokenizer, settings.words)
    if settings.label_token_ids is not None and list(settings.label_token_ids) != ids:
        raise ToolError(f"label_words {settings.words} are ids {ids} for this tokenizer, reranker.json says "
                        f"{settings.label_token_ids}")
    pad = settings.pad_token_id if settings.pad_token_id is not None else tokenizer.pad_token_id
    rows = causal_lm.prompt_ids(tokenizer, settings, pairs, max_length)
    label_logits = []
    for start in range(0, len(rows), batch_size):
        inputs = causal_lm.left_padded(rows[start:start + batch_size], pad)
        mask = torch.from_numpy(inputs["attention_mask"])
        with torch.no_grad():
            out = model(input_ids=torch.from_numpy(inputs["input_ids"]), attention_mask=mask,
                        position_ids=causal_lm.positions(mask), use_cache=False)
        pair_logits = out.logits[:, -1, ids].double()
        label_logits.append(pair_logits)
    label_logits = torch.cat(label_logits)
    two = torch.softmax(label_logits, dim=-1)[:, 0]
    logit = label_logits[:, 0] - label_logits[:, 1]
    return (f"transformers {model.__class__.__name__} next-token logits {settings.words} = ids {ids}", "sigmoid",
            logit.reshape(-1, 1).numpy(), two.numpy())


def _bi_encoder(model_dir, settings, pairs, max_length, *, adapter, trust_remote_code, num_labels, truncation_side="right"):
    import sentence_transformers
    from sentence_transformers import SentenceTransformer, models

    hub = {"trust_remote_code": trust_remote_code, "local_files_only": True}
    transformer = models.Transformer(str(model_dir), max_seq_length=max_length,
                                     model_args={**hub, "torch_dtype": torch.float32},
                                     tokenizer_args=hub, config_args=hub)
    if adapter is not None:
        transformer.auto_model = merge_adapter(transformer.auto_model, adapter)
    set_padding_side(transformer.tokenizer, settings.padding_side)
    transformer.tokenizer.truncation_side = truncation_side
    modules = [transformer, models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode=settings.pooling)]
    if settings.normalize:
        modules.append(models.Normalize())
    st = SentenceTransformer(modules=modules, device="cpu")
    queries, documents = _formatted(settings, pairs)
    # One batch with every text, so short texts are padded to the longest (encode() sorts by length
    # within a call, so smaller batches would hold texts of similar length and little padding).
    emb = st.encode(queries + documents, batch_size=2 * len(pairs), convert_to_tensor=True,
                    show_progress_bar=False).float()
    cos = torch.nn.functional.cosine_similarity(emb[: len(pairs)], emb[len(pairs):], dim=-1).numpy()
    parts = ["Transformer", f"Pooling({settings.pooling})"] + (["Normalize"] if settings.normalize else [])
    reference = f"sentence-transformers {sentence_transformers.__version__} SentenceTransformer({', '.join(parts)})"
    return reference, "identity", cos.reshape(-1, 1), cos
