"""The bench's peers (phase f): the same pairs and model through sentence-transformers'
CrossEncoder.predict (PyTorch) and through raw ONNX Runtime from Python, on the same number of threads.

Both get the pairs globally sorted by token length and cut into batches of --batch-size, the fairest
order for either (least padding), and both are timed with their tokenizing, as the Java side is.

Usage: python -m reranker_tools.bench_peers --model-dir DIR --pairs PAIRS.json --threads N --out OUT.json
PAIRS.json: {"queries": [{"query": str, "passages": [str, ...]}, ...]}. DIR: an export with hf/,
model.onnx and (optionally) model.int8.onnx. OUT.json: one entry per peer with pairs, seconds and pairs_per_second.
"""
import argparse
import json
import sys
import time
from pathlib import Path


def _sorted_pairs(tokenizer, queries, max_length):
    pairs = [(q["query"].strip(), p.strip()) for q in queries for p in q["passages"]]
    lengths = [len(ids) for ids in tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=True,
                                             max_length=max_length)["input_ids"]]
    order = sorted(range(len(pairs)), key=lambda i: lengths[i])
    return [pairs[i] for i in order], sum(lengths)


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sentence_transformers_peer(hf_dir, pairs, batch_size, max_length):
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(hf_dir), max_length=max_length, device="cpu")
    model.predict(pairs[:2 * batch_size], batch_size=batch_size, show_progress_bar=False)  # warm-up
    return _timed(lambda: model.predict(pairs, batch_size=batch_size, show_progress_bar=False))


def onnxruntime_peer(onnx_file, tokenizer, pairs, batch_size, max_length, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}

    def run(subset):
        for start in range(0, len(subset), batch_size):
            batch = subset[start:start + batch_size]
            enc = tokenizer([a for a, _ in batch], [b for _, b in batch], padding=True, truncation=True,
                            max_length=max_length, return_tensors="np")
            session.run(None, {k: v.astype("int64") for k, v in enc.items() if k in names})

    run(pairs[:2 * batch_size])  # warm-up
    return _timed(lambda: run(pairs))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", type=Path, required=True)
    p.add_argument("--pairs", type=Path, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=512)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)

    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    hf = args.model_dir / "hf"
    tokenizer = AutoTokenizer.from_pretrained(hf)
    queries = json.loads(args.pairs.read_text())["queries"]
    pairs, tokens = _sorted_pairs(tokenizer, queries, args.max_length)
    report = {"pairs": len(pairs), "tokens": tokens, "threads": args.threads, "batch_size": args.batch_size,
              "torch": torch.__version__}

    def entry(seconds):
        return {"pairs": len(pairs), "seconds": seconds, "pairs_per_second": len(pairs) / seconds}

    report["sentence_transformers"] = entry(sentence_transformers_peer(hf, pairs, args.batch_size, args.max_length))
    print(f"bench_peers: sentence-transformers {report['sentence_transformers']['pairs_per_second']:.1f} pairs/s", flush=True)
    for variant, name in (("fp32", "model.onnx"), ("int8", "model.int8.onnx")):
        if (args.model_dir / name).is_file():
            report[f"onnxruntime_python_{variant}"] = entry(onnxruntime_peer(
                args.model_dir / name, tokenizer, pairs, args.batch_size, args.max_length, args.threads))
            print(f"bench_peers: onnxruntime (python) {variant} "
                  f"{report[f'onnxruntime_python_{variant}']['pairs_per_second']:.1f} pairs/s", flush=True)
    args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
