"""A seeded long-document workload for `reranker score` (docs/benchmarks.md, "Long documents"): JSON lines
{"query", "documents"}, each document built from pairs.py's Vietnamese and English sentences until it holds a
number of tokens drawn uniformly from [--min-tokens, --max-tokens], counted with the model's tokenizer.json on the
document alone (no special tokens), as the Java app counts a passage's tokens.

    python -m reranker_tools.long_workload --model-dir fixtures/gte-vi-legal --queries 4 --documents 12 \\
        --min-tokens 1000 --max-tokens 4000 --out long.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from .pairs import ENGLISH_SENTENCES, VIETNAMESE_SENTENCES

QUERIES = ["Thời hiệu khởi kiện về hợp đồng là bao lâu?", "Ai có thẩm quyền giải quyết tranh chấp đất đai?",
           "How do state stores survive a crash?", "What does a cross-encoder read?"]


def document(tokenizer, rng: random.Random, target: int) -> str:
    sentences = VIETNAMESE_SENTENCES + ENGLISH_SENTENCES
    words: list[str] = []
    article = 0
    while True:
        article += 1
        sentence = rng.choice(sentences).split()
        for i, word in enumerate(sentence):
            words.append(f"({article}) {word}" if i == 0 else word)
            if len(words) % 8 == 0 and len(tokenizer.encode(" ".join(words), add_special_tokens=False).ids) >= target:
                return " ".join(words)


def main(argv=None) -> int:
    from tokenizers import Tokenizer

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", type=Path, required=True, help="whose tokenizer.json counts the tokens")
    p.add_argument("--queries", type=int, default=4)
    p.add_argument("--documents", type=int, default=12, help="documents per query")
    p.add_argument("--min-tokens", type=int, default=1000)
    p.add_argument("--max-tokens", type=int, default=4000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    tokenizer = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    rng = random.Random(args.seed)
    lines, counts = [], []
    for q in range(args.queries):
        docs = [document(tokenizer, rng, rng.randint(args.min_tokens, args.max_tokens)) for _ in range(args.documents)]
        counts += [len(tokenizer.encode(d, add_special_tokens=False).ids) for d in docs]
        lines.append(json.dumps({"query": QUERIES[q % len(QUERIES)], "documents": docs}, ensure_ascii=False))
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(counts)} documents of {min(counts)}-{max(counts)} tokens (mean {sum(counts) / len(counts):.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
