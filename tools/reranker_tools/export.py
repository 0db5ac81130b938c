"""`export`: HF model directory (+ optional LoRA adapter) -> the model directory Java loads.

Everything is written to a staging directory next to --out and moved into place only after the
parity check passed, so a failed export never leaves a loadable-looking directory behind
(the staging directory is kept for inspection and its path printed).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from . import causal_lm, gte_new, onnx_export, parity, st_config
from .golden import compute_golden
from .loading import (apply_pad_token, load_model, load_tokenizer, require_dir, set_padding_side,
                      uses_token_type_ids)
from .model_dir import (CONFIG_JSON, GOLDEN_JSON, HF_SUBDIR, MODEL_FP16_ONNX, MODEL_INT8_ONNX, MODEL_ONNX,
                        RERANKER_JSON, RerankerSettings, ToolError, check_head, default_activation,
                        effective_max_length, model_position_limit, tokenizer_limit, write_json)
from .pairs import Pair, default_pairs


@dataclass
class ExportOptions:
    model: Path
    out: Path
    settings: RerankerSettings
    adapter: Optional[Path] = None
    tokenizer: Optional[Path] = None  # defaults to --model
    fp16: bool = False
    int8: bool = False
    int8_per_channel: bool = False  # one weight scale per output channel (onnx_export.export_int8)
    trust_remote_code: bool = False
    num_labels: Optional[int] = None
    pairs: Optional[list[Pair]] = None  # parity + golden pairs; default_pairs(max_length) if None
    golden: bool = True
    save_hf: bool = False  # also write the merged PyTorch model to OUT/hf (lets `golden` re-run on OUT)
    strict_variants: bool = False
    external_threshold_bytes: int = onnx_export.DEFAULT_EXTERNAL_THRESHOLD_BYTES
    log: Callable[[str], None] = field(default=print)


def export(opts: ExportOptions) -> Path:
    if gte_new.is_alibaba_new(opts.model):
        # The seed's layout (model_type "new", Alibaba's remote code, not available offline): export the
        # native-GTE equivalent instead, from a converted copy.
        import dataclasses
        import tempfile

        with tempfile.TemporaryDirectory(prefix="gte-native-") as scratch:
            native = gte_new.convert(opts.model, Path(scratch) / "model")
            opts.log(f"{opts.model}: model_type 'new' (Alibaba NewForSequenceClassification, remote code) converted "
                     f"to native GTE (model_type 'gte', GteForSequenceClassification; rope_theta -> rope_parameters); "
                     f"transformers renames the weights while loading")
            return _export(dataclasses.replace(opts, model=native, tokenizer=opts.tokenizer or opts.model,
                                               trust_remote_code=False))
    return _export(opts)


def _export(opts: ExportOptions) -> Path:
    started = time.monotonic()
    log = opts.log
    require_dir(opts.model, "--model")
    require_dir(opts.adapter, "--adapter")
    require_dir(opts.tokenizer, "--tokenizer")
    settings = opts.settings.validate()
    out = Path(opts.out)
    _check_out(out)

    tokenizer = load_tokenizer(opts.tokenizer or opts.model, opts.trust_remote_code)
    model = load_model(opts.model, settings.kind, opts.adapter, trust_remote_code=opts.trust_remote_code,
                       num_labels=opts.num_labels)
    log(f"loaded {model.__class__.__name__} from {opts.model}" + (f" + adapter {opts.adapter} (merged)"
                                                                   if opts.adapter else ""))
    if settings.kind == "decoder":
        settings.pad_token_id = _decoder_pad_id(model, tokenizer, settings.pad_token_id)
    elif settings.kind == "causal-lm":
        # Left padding under the attention mask: the pad id never reaches a score, so eos may serve.
        pad = settings.pad_token_id
        pad = pad if pad is not None else tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
            else tokenizer.eos_token_id
        if pad is None:
            raise ToolError("causal-lm export needs a pad id: the tokenizer has neither pad nor eos; pass --pad-token-id")
        apply_pad_token(model, tokenizer, pad)
        settings.pad_token_id = pad
        settings.label_words = settings.words
        settings.label_token_ids = causal_lm.label_token_ids(tokenizer, settings.label_words)
    elif settings.pad_token_id is not None:
        apply_pad_token(model, tokenizer, settings.pad_token_id)
    else:
        settings.pad_token_id = tokenizer.pad_token_id
    set_padding_side(tokenizer, settings.padding_side)
    _follow_sentence_transformers(opts, settings, tokenizer)
    # config.json would otherwise record the (often temporary) source path.
    model.config._name_or_path = settings.name
    check_head(settings, model.config)
    if settings.kind == "causal-lm":
        activation = "sigmoid"
    else:
        activation = "identity" if settings.kind == "bi-encoder" else settings.activation or default_activation(
            model.config)

    max_length = effective_max_length(model.config, tokenizer, settings.max_length)
    # Java takes min(tokenizer_config model_max_length, max_position_embeddings, reranker.json max_length);
    # write the tokenizer limit already reduced by the position offset (RoBERTa 514 -> 512), and never
    # the 1e30 "unlimited" sentinel, which does not fit a Java int.
    limits = [x for x in (tokenizer_limit(tokenizer), model_position_limit(model.config)) if x is not None]
    tokenizer.model_max_length = min(limits) if limits else max_length
    pairs = opts.pairs or default_pairs(max_length)
    if settings.kind == "decoder":
        _check_pad_not_in_inputs(tokenizer, settings, pairs, max_length)
    with_tti = settings.kind != "causal-lm" and uses_token_type_ids(model, tokenizer)
    names = onnx_export.input_names(with_tti)
    output_name = "last_hidden_state" if settings.kind == "bi-encoder" else "logits"
    log(f"kind {settings.kind}; inputs {names}; output {output_name}; effective max_length {max_length}; "
        f"activation {activation}; label_index {settings.label_index}; pad id {settings.pad_token_id}"
        + (f"; label words {settings.label_words} = ids {settings.label_token_ids}" if settings.kind == "causal-lm" else ""))

    stage = out.parent / f".{out.name}.partial"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    _save_tokenizer(tokenizer, stage)
    _save_config(model.config, stage / CONFIG_JSON)
    write_json(stage / RERANKER_JSON, settings.to_json())

    sample = parity.encode(tokenizer, settings, pairs[:3], max_length).inputs
    variants = {"fp32": MODEL_ONNX}
    onnx_export.export_fp32(model, sample, stage / MODEL_ONNX, output_name=output_name, with_token_type_ids=with_tti,
                            decoder=settings.kind == "decoder", external_threshold_bytes=opts.external_threshold_bytes,
                            module=causal_lm.LabelLogits(model, settings.label_token_ids)
                            if settings.kind == "causal-lm" else None)
    if opts.fp16:
        onnx_export.export_fp16(stage / MODEL_ONNX, stage / MODEL_FP16_ONNX, opts.external_threshold_bytes)
        variants["fp16"] = MODEL_FP16_ONNX
    if opts.int8:
        onnx_export.export_int8(stage / MODEL_ONNX, stage / MODEL_INT8_ONNX, per_channel=opts.int8_per_channel)
        variants["int8"] = MODEL_INT8_ONNX
    if onnx_export.is_external(stage / MODEL_ONNX):
        log(f"weights above {opts.external_threshold_bytes >> 20} MiB: saved as external data (<file>.onnx.data)")

    results = parity.check(model, tokenizer, settings, activation, stage, variants, pairs, max_length, names,
                           output_name, strict_variants=opts.strict_variants)
    try:
        for line in parity.report(results, variants):
            log(line)
    except ToolError as exc:
        raise ToolError(f"{exc}\nthe rejected export is left in {stage} for inspection") from None
    settings.variants = parity.verdicts(results) or None
    write_json(stage / RERANKER_JSON, settings.to_json())  # now with the variants' verdicts

    if opts.save_hf:
        model.save_pretrained(stage / HF_SUBDIR, safe_serialization=True)
        _save_tokenizer(tokenizer, stage / HF_SUBDIR)
    del model
    gc.collect()  # a 7B model should not be held twice while golden loads its own copy

    if opts.golden:
        if opts.save_hf:  # same code path as `golden --model-dir OUT`
            golden = compute_golden(stage / HF_SUBDIR, settings, pairs, trust_remote_code=opts.trust_remote_code)
        else:
            golden = compute_golden(opts.model, settings, pairs, adapter=opts.adapter,
                                    trust_remote_code=opts.trust_remote_code, num_labels=opts.num_labels)
        write_json(stage / GOLDEN_JSON, golden)
        log(f"golden: {len(pairs)} pairs via {golden['reference']}")

    if out.exists():
        shutil.rmtree(out)
    os.replace(stage, out)
    log(f"wrote {out} ({_size(out) / 1e6:.2f} MB) in {time.monotonic() - started:.1f}s")
    return out


def _follow_sentence_transformers(opts: ExportOptions, settings: RerankerSettings, tokenizer) -> None:
    """A directory saved by sentence-transformers is exported with the length, activation and pooling the
    library itself uses for it (st_config), so Java scores what sentence-transformers scores: the length
    goes into the tokenizer's model_max_length (written to tokenizer_config.json, which Java reads), the
    activation into reranker.json."""
    st = st_config.choice(opts.model, settings.kind, opts.trust_remote_code)
    if st is None:
        return
    said = tokenizer_limit(tokenizer)
    if st.max_length is not None:
        tokenizer.model_max_length = st.max_length
    if st.activation is not None and settings.activation is None:
        settings.activation = st.activation
    if st.pooling is not None and settings.pooling != st.pooling:
        raise ToolError(f"{opts.model}: sentence-transformers pools this model with {st.pooling} (its Pooling module), "
                        f"the export was asked for {settings.pooling}; pass --pooling {st.pooling}")
    opts.log(f"{opts.model} was saved by sentence-transformers, which uses {st.describe()} for it; the export "
             f"uses the same" + (f" (tokenizer_config.json says max length {said})" if said != st.max_length else ""))


def _check_out(out: Path) -> None:
    """Only an empty directory or a previous export may be replaced."""
    if out.exists() and any(out.iterdir()) and not (out / RERANKER_JSON).is_file():
        raise ToolError(f"--out {out} exists and is not a previous export (no {RERANKER_JSON}); refusing to replace it")


def _decoder_pad_id(model, tokenizer, requested: Optional[int]) -> int:
    """Decoders often ship without a pad token. We refuse to guess (eos would be pooled as content and
    unk is a real token in some vocabularies): the caller must name one unless the model already has it."""
    if requested is None:
        tok_pad, cfg_pad = tokenizer.pad_token_id, model.config.pad_token_id
        if tok_pad is None and cfg_pad is None:
            raise ToolError("decoder export needs a pad token: the tokenizer and config.json define none; pass "
                            "--pad-token-id (RankLLaMA pads with the unk id, 0 for LLaMA-2)")
        if tok_pad is not None and cfg_pad is not None and tok_pad != cfg_pad:
            raise ToolError(f"tokenizer pad id {tok_pad} != config.json pad_token_id {cfg_pad}; pass --pad-token-id")
        requested = tok_pad if tok_pad is not None else cfg_pad
    apply_pad_token(model, tokenizer, requested)
    return requested


def _check_pad_not_in_inputs(tokenizer, settings, pairs, max_length) -> None:
    """The HF head pools the token before the *first* pad id; a pad id that also occurs in real input
    (e.g. pad = bos) would silently score the wrong position."""
    for pair in pairs:
        ids = tokenizer(settings.format_query(pair["query"]), settings.format_document(pair["document"]),
                        truncation=True, max_length=max_length)["input_ids"]
        if settings.pad_token_id in ids:
            token = tokenizer.convert_ids_to_tokens(settings.pad_token_id)
            raise ToolError(f"pad id {settings.pad_token_id} ({token!r}) occurs inside real input "
                            f"({pair['query'][:40]!r}...); choose a pad id that the tokenizer never emits")


def _save_tokenizer(tokenizer, directory: Path) -> None:
    # The HF wrapper leaves its last call's padding/truncation on the backend tokenizer; Java must read
    # a tokenizer.json without them (it pads and truncates itself, from reranker.json).
    backend = tokenizer.backend_tokenizer
    backend.no_padding()
    backend.no_truncation()
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(directory, legacy_format=False)  # tokenizer.json + configs, no slow vocab files
    special = directory / "special_tokens_map.json"
    if not special.exists():
        # transformers 5 folds it into tokenizer_config.json; the directory contract keeps the file.
        write_json(special, {k: (v if isinstance(v, (str, list)) else str(v))
                             for k, v in tokenizer.special_tokens_map.items()})


def _save_config(config, path: Path) -> None:
    data = config.to_diff_dict()
    data["num_labels"] = config.num_labels  # explicit for Java (HF writes only id2label)
    data.pop("_attn_implementation_autoset", None)  # loader bookkeeping, not model config
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
