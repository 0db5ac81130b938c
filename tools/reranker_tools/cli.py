"""python -m reranker_tools export|golden|fixtures ..."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

from .model_dir import ACTIVATIONS, GOLDEN_JSON, HF_SUBDIR, KINDS, POOLINGS, RERANKER_JSON, RerankerSettings, \
    ToolError, read_settings, write_json


def _settings_arguments(p: argparse.ArgumentParser, kind_required: bool) -> None:
    p.add_argument("--kind", choices=KINDS, required=kind_required)
    p.add_argument("--activation", choices=ACTIVATIONS, default=None,
                   help="score activation; default: as sentence-transformers decides (sigmoid for 1 label, "
                        "identity otherwise, or config.json's sbert_ce_default_activation_function)")
    p.add_argument("--label-index", type=int, default=None, help="which logit is the score (multi-label heads)")
    p.add_argument("--max-length", type=int, default=None, help="extra cap on the sequence length")
    p.add_argument("--pad-token-id", type=int, default=None,
                   help="pad id; decoders without a pad token need it (RankLLaMA: 0, the unk id)")
    p.add_argument("--padding-side", choices=("right", "left"), default=None,
                   help="default right (causal-lm: left, the only side it takes)")
    p.add_argument("--query-template", default=None, help='e.g. "query: {query}"')
    p.add_argument("--document-template", default=None, help='e.g. "document: {document}"')
    p.add_argument("--pooling", choices=POOLINGS, default=None, help="bi-encoder pooling (default mean)")
    p.add_argument("--no-normalize", action="store_true", help="bi-encoder: do not L2-normalize embeddings")
    p.add_argument("--num-labels", type=int, default=None,
                   help="override config num_labels (a base LM checkpoint defaults to 2; RankLLaMA needs 1)")
    p.add_argument("--prompt-prefix", default=None, help="causal-lm: text before the query and document")
    p.add_argument("--prompt-template", default=None,
                   help='causal-lm: the question with {query} and {document}, e.g. "<Query>: {query}\\n<Document>: {document}"')
    p.add_argument("--prompt-suffix", default=None, help="causal-lm: text after them, up to the answer")
    p.add_argument("--label-words", nargs=2, default=None, metavar=("YES", "NO"),
                   help="causal-lm: the positive and negative answer words (default yes no), one token each")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow custom modeling code shipped with the model (e.g. gte-multilingual's "
                        "NewForSequenceClassification); only for models you have read")


def _settings_from_args(args, name: str) -> RerankerSettings:
    bi = args.kind == "bi-encoder"
    causal = args.kind == "causal-lm"
    return RerankerSettings(
        prompt_prefix=args.prompt_prefix, prompt_template=args.prompt_template, prompt_suffix=args.prompt_suffix,
        label_words=args.label_words,
        kind=args.kind, activation=args.activation, label_index=args.label_index, max_length=args.max_length,
        padding_side="left" if causal and args.padding_side is None else args.padding_side or "right",
        pad_token_id=args.pad_token_id, query_template=args.query_template,
        document_template=args.document_template, pooling=(args.pooling or "mean") if bi else args.pooling,
        normalize=bi and not args.no_normalize, name=getattr(args, "name", None) or name,
        version=getattr(args, "version", None) or "1",
    ).validate()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reranker_tools",
                                     description="Export rerankers to the ONNX model directory the Java app loads.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("export", help="HF model dir (+ LoRA adapter) -> ONNX model dir with parity check")
    p.add_argument("--model", type=Path, required=True, help="HF model directory (the base model with --adapter)")
    p.add_argument("--adapter", type=Path, default=None, help="PEFT LoRA adapter directory, merged into --model")
    p.add_argument("--tokenizer", type=Path, default=None, help="tokenizer directory (default: --model)")
    p.add_argument("--out", type=Path, required=True)
    _settings_arguments(p, kind_required=True)
    p.add_argument("--fp16", action="store_true", help="also write model.fp16.onnx")
    p.add_argument("--int8", action="store_true", help="also write model.int8.onnx (dynamic QInt8)")
    p.add_argument("--name", default=None)
    p.add_argument("--version", default=None)
    p.add_argument("--pairs", type=Path, default=None, help="JSONL of {query, document} for parity and golden")
    p.add_argument("--no-golden", action="store_true", help="skip golden.json (e.g. for 7B models on small hosts)")
    p.add_argument("--save-hf", action="store_true", help=f"also save the merged PyTorch model to OUT/{HF_SUBDIR}")
    p.add_argument("--strict-variants", action="store_true", help="fail when fp16 exceeds its tolerance (int8 is always report-only)")
    p.add_argument("--external-data-threshold-mb", type=int, default=1800,
                   help="save ONNX weights as external data (<file>.onnx.data) above this size (protobuf: 2 GB)")

    p = sub.add_parser("golden", help="reference scores with PyTorch (sentence-transformers / transformers)")
    p.add_argument("--model-dir", type=Path, required=True,
                   help=f"an exported dir (settings from {RERANKER_JSON}, weights from {HF_SUBDIR}/) or an HF model dir")
    p.add_argument("--adapter", type=Path, default=None)
    p.add_argument("--pairs", type=Path, default=None,
                   help=f"JSONL of {{query, document}}; default: the pairs of MODEL_DIR/{GOLDEN_JSON} if present")
    p.add_argument("--out", type=Path, default=None, help="output file (default: stdout)")
    p.add_argument("--reranker-json", type=Path, default=None,
                   help=f"take the settings from this {RERANKER_JSON} (e.g. an export's, for its source model)")
    _settings_arguments(p, kind_required=False)

    p = sub.add_parser("chunked", help="reference scores of long documents cut into chunks (the Java app's long_documents)")
    p.add_argument("--fixtures", type=Path, default=None,
                   help="write FIXTURES/chunked/NAME.json for the fixtures chunked_goldens.py defines sets for")
    p.add_argument("--only", nargs="*", default=None, help="with --fixtures: fixture names (default: all with sets)")
    p.add_argument("--model-dir", type=Path, default=None,
                   help=f"an exported dir (tokenizer.json and {RERANKER_JSON} here, weights from {HF_SUBDIR}/)")
    p.add_argument("--pairs", type=Path, default=None, help="with --model-dir: JSONL of {query, document}")
    p.add_argument("--max-length", type=int, default=None, help="with --model-dir: tokens per row (default: the model's)")
    p.add_argument("--long-documents", choices=("truncate", "chunk"), default="chunk")
    p.add_argument("--chunk-stride", type=int, default=None)
    p.add_argument("--max-chunks", type=int, default=16)
    p.add_argument("--chunk-pooling", choices=("max", "mean", "first"), default="max")
    p.add_argument("--max-document-tokens", type=int, default=None)
    p.add_argument("--truncation-side", choices=("right", "left"), default="right")
    p.add_argument("--out", type=Path, default=None, help="with --model-dir: output file (default: stdout)")

    p = sub.add_parser("fixtures", help="tiny random-weight test models, exported with golden.json")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--only", nargs="*", default=None, help="fixture names (default: all)")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "export":
            return _export(args)
        if args.command == "golden":
            return _golden(args)
        if args.command == "chunked":
            return _chunked(args)
        return _fixtures(args)
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _export(args) -> int:
    from .export import ExportOptions, export
    from .pairs import read_pairs

    settings = _settings_from_args(args, name=args.out.name)
    export(ExportOptions(
        model=args.model, out=args.out, settings=settings, adapter=args.adapter, tokenizer=args.tokenizer,
        fp16=args.fp16, int8=args.int8, trust_remote_code=args.trust_remote_code, num_labels=args.num_labels,
        pairs=read_pairs(args.pairs) if args.pairs else None, golden=not args.no_golden, save_hf=args.save_hf,
        strict_variants=args.strict_variants, external_threshold_bytes=args.external_data_threshold_mb << 20))
    return 0


def _golden(args) -> int:
    from .golden import compute_golden
    from .loading import load_config, load_tokenizer, require_dir
    from .model_dir import effective_max_length
    from .pairs import default_pairs, read_pairs

    model_dir = require_dir(args.model_dir, "--model-dir")
    require_dir(args.adapter, "--adapter")
    weights = model_dir / HF_SUBDIR if (model_dir / HF_SUBDIR).is_dir() else model_dir
    if not any((weights / name).is_file() for name in _WEIGHT_FILES):
        raise ToolError(f"{weights} holds no PyTorch weights; an export made without --save-hf cannot be "
                        f"re-scored from itself: pass the source model as --model-dir (and --adapter) with "
                        f"--reranker-json {model_dir / RERANKER_JSON}")
    if args.reranker_json is not None:
        settings = RerankerSettings.from_json(json.loads(args.reranker_json.read_text(encoding="utf-8")))
    elif (model_dir / RERANKER_JSON).is_file():
        settings = read_settings(model_dir)  # an exported directory: its own settings win
    else:
        if args.kind is None:
            raise ToolError(f"{model_dir} has no {RERANKER_JSON}; pass --kind (and the other reranker settings) "
                            f"or --reranker-json")
        settings = _settings_from_args(args, name=model_dir.name)
    if args.pairs:
        pairs = read_pairs(args.pairs)
    elif (model_dir / GOLDEN_JSON).is_file():
        pairs = [{"query": p["query"], "document": p["document"]}
                 for p in json.loads((model_dir / GOLDEN_JSON).read_text(encoding="utf-8"))["pairs"]]
    else:
        config = load_config(weights, args.trust_remote_code, args.num_labels)
        pairs = default_pairs(effective_max_length(config, load_tokenizer(weights, args.trust_remote_code),
                                                   settings.max_length))
    golden = compute_golden(weights, settings, pairs, adapter=args.adapter, trust_remote_code=args.trust_remote_code,
                            num_labels=args.num_labels)
    if args.out:
        write_json(args.out, golden)
    else:
        print(json.dumps(golden, indent=2, ensure_ascii=False))
    return 0


_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                 "pytorch_model.bin.index.json")


def _chunked(args) -> int:
    import dataclasses
    import json

    from . import chunked_goldens, chunking
    from .loading import load_config, load_tokenizer
    from .model_dir import effective_max_length, read_settings
    from .pairs import read_pairs

    if args.fixtures is not None:
        for path in chunked_goldens.write(args.fixtures, args.only or list(chunked_goldens.SETS)):
            print(f"wrote {path}")
        return 0
    if args.model_dir is None or args.pairs is None:
        raise ToolError("chunked needs --fixtures DIR, or --model-dir DIR and --pairs FILE")
    settings = read_settings(args.model_dir)
    weights = args.model_dir / HF_SUBDIR if (args.model_dir / HF_SUBDIR).is_dir() else args.model_dir
    cap = args.max_length if args.max_length is not None else settings.max_length
    max_length = effective_max_length(load_config(weights), load_tokenizer(args.model_dir), cap)
    long = chunking.LongDocuments(args.long_documents, args.chunk_stride, args.max_chunks, args.chunk_pooling,
                                  args.max_document_tokens, args.truncation_side)
    reference, scored = chunking.score(args.model_dir, weights, settings, long, max_length, read_pairs(args.pairs))
    text = json.dumps({"reference": reference, "max_length": max_length, "settings": dataclasses.asdict(long),
                       "passages": [dataclasses.asdict(s) for s in scored]}, indent=2, ensure_ascii=False)
    if args.out is None:
        print(text)
    else:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


def _fixtures(args) -> int:
    from .fixtures import FIXTURES, build_all

    names = args.only or list(FIXTURES)
    unknown = set(names) - set(FIXTURES)
    if unknown:
        raise ToolError(f"unknown fixtures {sorted(unknown)}; known: {list(FIXTURES)}")
    build_all(args.out, names)
    return 0
