"""ONNX Runtime (CPU) vs PyTorch on the same tokenized, padded batch.

Checks, in order:
  fp32    max |ORT - torch| over the outputs <= 1e-4 (fatal).
  padding every pair run alone (no padding) through ORT equals its row of the padded batch (fatal):
          Java batches pairs of different lengths, so padding must not leak into the scores.
  fp16    max abs diff <= 1e-2 * max(1, max |torch output|), top-1 agreement per query reported;
          beyond tolerance warns, or fails with --strict-variants.
  int8    max abs diff and top-1 agreement per query against the tolerance
          0.1 * max(1, max |torch output|); never fatal: dynamic int8 error depends on the weights.
  Non-finite outputs of any variant are always fatal.

A variant that ends beyond its tolerance is written all the same (for inspection, or for a user who has
judged its ranking on their own data), but the report says plainly that it is not fit to serve, and
`verdicts` records it in reranker.json (`variants`), where the Java side reads it: model.variant=auto
never picks such a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import causal_lm
from .model_dir import ToolError
from .pairs import Pair, query_groups
from .scoring import activate, cosine, pool

FP32_TOLERANCE = 1e-4
FP16_RELATIVE_TOLERANCE = 1e-2
INT8_RELATIVE_TOLERANCE = 0.1


@dataclass
class Result:
    check: str
    max_abs_diff: float
    tolerance: float
    passed: bool
    fatal: bool  # a failed fatal check fails the export
    detail: str = ""

    def line(self) -> str:
        status = "ok" if self.passed else ("FAILED" if self.fatal else "beyond tolerance")
        extra = f"; {self.detail}" if self.detail else ""
        return f"  {self.check:<8} max abs diff {self.max_abs_diff:.3e} (tolerance {self.tolerance:.1e}) {status}{extra}"

    def verdict(self, file_name: str) -> str:
        """One plain sentence for a reduced-precision variant: serve it or not."""
        if self.passed:
            return (f"{file_name}: fit to serve ({self.check} within {self.tolerance:.1e} of PyTorch fp32: "
                    f"max abs diff {self.max_abs_diff:.1e})")
        return (f"{file_name}: NOT fit to serve ({self.check} differs from PyTorch fp32 by {self.max_abs_diff:.1e}, "
                f"more than its tolerance {self.tolerance:.1e}). Kept for inspection and recorded in reranker.json, "
                f"so model.variant=auto never picks it; serve model.onnx" + (" (or the fp16 variant on a GPU)"
                                                                            if self.check == "int8" else ""))


@dataclass
class Batch:
    """Tokenized inputs plus how to turn outputs into one score per pair."""

    inputs: dict[str, np.ndarray]
    n_pairs: int


def encode(tokenizer, settings, pairs: list[Pair], max_length: int) -> Batch:
    if settings.kind == "causal-lm":
        rows = causal_lm.prompt_ids(tokenizer, settings, pairs, max_length)
        return Batch(causal_lm.left_padded(rows, settings.pad_token_id), len(pairs))
    queries = [settings.format_query(p["query"]) for p in pairs]
    documents = [settings.format_document(p["document"]) for p in pairs]
    if settings.kind == "bi-encoder":
        # Queries and documents are embedded separately: rows [0, n) queries, [n, 2n) documents.
        enc = tokenizer(queries + documents, padding=True, truncation=True, max_length=max_length,
                        return_tensors="np")
    else:
        enc = tokenizer(queries, documents, padding=True, truncation="longest_first", max_length=max_length,
                        return_tensors="np")
    return Batch({k: np.asarray(v, dtype=np.int64) for k, v in enc.items()}, len(pairs))


def ort_session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_ort(session, inputs: dict[str, np.ndarray]) -> np.ndarray:
    feed = {i.name: inputs[i.name] for i in session.get_inputs()}
    return np.asarray(session.run(None, feed)[0], dtype=np.float32)


def run_torch(model, inputs: dict[str, np.ndarray], input_names: list[str], output_name: str,
              decoder: bool) -> np.ndarray:
    kwargs = {n: torch.from_numpy(inputs[n]) for n in input_names}
    if decoder:
        kwargs["use_cache"] = False
    with torch.no_grad():
        return getattr(model(**kwargs, return_dict=True), output_name).float().numpy()


def scores(settings, activation: str, outputs: np.ndarray, batch: Batch) -> np.ndarray:
    if settings.kind == "causal-lm":
        return causal_lm.scores(outputs)[1]
    if settings.kind == "bi-encoder":
        emb = pool(outputs, batch.inputs["attention_mask"], settings.pooling, settings.normalize)
        return cosine(emb[: batch.n_pairs], emb[batch.n_pairs:])
    return activate(outputs, activation, settings.label_index)


def _diff(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None) -> float:
    """Max abs difference; for hidden states only over real (unmasked) tokens."""
    if a.ndim == 3 and mask is not None:
        keep = mask.astype(bool)
        return float(np.max(np.abs(a[keep] - b[keep])))
    return float(np.max(np.abs(a - b)))


def _rank_agreement(ref: np.ndarray, got: np.ndarray, pairs: list[Pair]) -> str:
    groups = query_groups(pairs)
    if not groups:
        return ""
    same = sum(int(np.argmax(ref[g]) == np.argmax(got[g])) for g in groups)
    return f"top-1 agreement {same}/{len(groups)} queries"


def check(model, tokenizer, settings, activation: str, out_dir: Path, variants: dict[str, Path],
          pairs: list[Pair], max_length: int, input_names: list[str], output_name: str,
          strict_variants: bool = False) -> list[Result]:
    """Run all checks; returns the results (the caller decides how to report and whether to fail)."""
    batch = encode(tokenizer, settings, pairs, max_length)
    mask = batch.inputs["attention_mask"]
    decoder = settings.kind == "decoder"
    if settings.kind == "causal-lm":
        # The whole CausalLM forward and its [batch, seq, vocab] logits: checks the graph's gather too.
        reference = causal_lm.full_forward_label_logits(model, batch.inputs, settings.label_token_ids)
    else:
        reference = run_torch(model, batch.inputs, input_names, output_name, decoder)
    ref_scores = scores(settings, activation, reference, batch)
    scale = max(1.0, float(np.max(np.abs(reference[mask.astype(bool)] if reference.ndim == 3 else reference))))
    results = []

    fp32 = ort_session(out_dir / variants["fp32"])
    got = run_ort(fp32, batch.inputs)
    results.append(Result("fp32", _diff(reference, got, mask), FP32_TOLERANCE,
                          _diff(reference, got, mask) <= FP32_TOLERANCE, fatal=True))
    results.append(_padding_check(fp32, batch, got, settings.padding_side))

    tolerances = {"fp16": FP16_RELATIVE_TOLERANCE, "int8": INT8_RELATIVE_TOLERANCE}
    for name in ("fp16", "int8"):
        if name not in variants:
            continue
        out = run_ort(ort_session(out_dir / variants[name]), batch.inputs)
        if not np.all(np.isfinite(out)):
            results.append(Result(name, float("nan"), 0.0, False, fatal=True, detail="non-finite outputs"))
            continue
        diff = _diff(reference, out, mask)
        tolerance = tolerances[name] * scale
        agreement = _rank_agreement(ref_scores, scores(settings, activation, out, batch), pairs)
        fatal = strict_variants and name == "fp16"
        results.append(Result(name, diff, tolerance, diff <= tolerance, fatal=fatal, detail=agreement))
    return results


def _padding_check(session, batch: Batch, batched: np.ndarray, padding_side: str) -> Result:
    mask = batch.inputs["attention_mask"]
    worst = 0.0
    for row in range(mask.shape[0]):
        length = int(mask[row].sum())
        cut = slice(0, length) if padding_side == "right" else slice(mask.shape[1] - length, mask.shape[1])
        alone = run_ort(session, {k: v[row:row + 1, cut] for k, v in batch.inputs.items()})
        expected = batched[row:row + 1, cut] if batched.ndim == 3 else batched[row:row + 1]
        worst = max(worst, float(np.max(np.abs(alone - expected))))
    return Result("padding", worst, FP32_TOLERANCE, worst <= FP32_TOLERANCE, fatal=True,
                  detail="each pair alone vs. inside the padded batch")


REDUCED_PRECISION = ("fp16", "int8")


def report(results: list[Result], files: dict[str, str]) -> list[str]:
    """Lines to print; raises ToolError when a fatal check failed. `files`: check name -> variant file name."""
    lines = ["parity (ONNX Runtime CPU vs PyTorch fp32):"] + [r.line() for r in results]
    failed = [r for r in results if r.fatal and not r.passed]
    if failed:
        raise ToolError("\n".join(lines) + "\nparity check failed: " + ", ".join(
            f"{r.check} max abs diff {r.max_abs_diff:.3e} > {r.tolerance:.1e}" for r in failed))
    return lines + [r.verdict(files[r.check]) for r in results if r.check in REDUCED_PRECISION]


def verdicts(results: list[Result]) -> dict:
    """reranker.json's `variants`: per reduced-precision variant, whether it is fit to serve and the figures."""
    return {r.check: {"fit_to_serve": bool(r.passed), "max_abs_diff": float(f"{r.max_abs_diff:.3e}"),
                      "tolerance": float(f"{r.tolerance:.3e}"), **({"top1_agreement": r.detail} if r.detail else {})}
            for r in results if r.check in REDUCED_PRECISION}
