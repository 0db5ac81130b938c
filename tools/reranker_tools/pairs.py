"""Sample (query, document) pairs for parity checks and golden files.

The sets deliberately mix: short pairs, pairs far longer than max_length (so HF's longest-first
pair truncation is exercised on the query side, the document side, and both), non-ASCII text
(accents, Vietnamese with diacritics, CJK, emoji), odd whitespace, and queries with several
documents (so rank agreement can be checked). They are ordered so that every batch of 4 mixes
short and long pairs, i.e. batches carry padding.

The edge-whitespace sets hold queries and documents that begin or end with spaces, a tab or a newline,
which byte-level BPE (and SentencePiece without a whitespace split) turns into tokens of their own: the
reference libraries read texts as given, so a scorer that strips them scores these pairs differently. They
are kept apart from the sets above, which the fixtures' tokenizers are trained on.
"""

from __future__ import annotations

import json
from itertools import cycle
from pathlib import Path

from .model_dir import ToolError

Pair = dict  # {"query": str, "document": str}

ENGLISH_SENTENCES = [
    "Kafka Streams is a client library for building applications whose input and output live in Kafka topics.",
    "A cross-encoder reads the query and the passage together and outputs a single relevance score.",
    "Rerankers are applied to the top candidates returned by a cheaper first-stage retriever.",
    "The consumer group rebalances whenever a member joins or leaves the group.",
    "State stores are backed by changelog topics so that they can be restored after a crash.",
    "Bread dough should rest for an hour before it is shaped and baked in a hot oven.",
    "The river floods every spring when the snow in the mountains starts to melt.",
    "ONNX Runtime executes exported graphs on the CPU or on a GPU with the same numerical results.",
    "Tokenizers split text into sub-word units that the model looks up in its vocabulary.",
    "The museum café serves a naïve but charming crème brûlée on Sundays.",
]

VIETNAMESE_SENTENCES = [
    "Điều 1. Phạm vi điều chỉnh: Luật này quy định về hợp đồng lao động và quyền của người lao động.",
    "Người sử dụng lao động phải trả lương đầy đủ và đúng hạn cho người lao động.",
    "Thời hiệu khởi kiện về hợp đồng là ba năm kể từ ngày người có quyền biết quyền lợi bị xâm phạm.",
    "Tòa án nhân dân có thẩm quyền giải quyết tranh chấp về quyền sử dụng đất.",
    "Hợp đồng mua bán nhà ở phải được lập thành văn bản và có công chứng hoặc chứng thực.",
    "Người thừa kế theo pháp luật được chia phần di sản bằng nhau.",
    "Doanh nghiệp phải đăng ký thay đổi nội dung đăng ký doanh nghiệp trong thời hạn mười ngày.",
    "Cơ quan thuế có quyền kiểm tra hồ sơ khai thuế của người nộp thuế.",
    "Vợ chồng có quyền và nghĩa vụ ngang nhau về mọi mặt trong gia đình.",
    "Hành vi vi phạm hành chính bị xử phạt cảnh cáo hoặc phạt tiền.",
]


def long_text(sentences: list[str], min_words: int, start: int = 0) -> str:
    """Concatenate sentences (cycling) until the text has at least min_words words; every word is at
    least one token, so the tokenized text is at least that long."""
    out, words = [], 0
    rotated = sentences[start:] + sentences[:start]
    for sentence in cycle(rotated):
        out.append(sentence)
        words += len(sentence.split())
        if words >= min_words:
            return " ".join(out)
    raise AssertionError("unreachable")


def english_pairs(max_length: int) -> list[Pair]:
    e = ENGLISH_SENTENCES
    far = 2 * max_length  # "far exceeds": at least twice the effective max length in tokens
    return _interleave(
        short=[
            ("what is kafka streams", e[0]),
            ("what is kafka streams", e[5]),
            ("how does a reranker score a passage", e[1]),
            ("how does a reranker score a passage", e[6]),
            ("crème brûlée café", e[9]),
            ("consumer   group\trebalance", e[3]),
            ("東京 tokenizer 🙂", e[8]),
            ("restore state after a crash", e[4]),
        ],
        long=[
            ("what is kafka streams", long_text(e, far, 0)),               # document truncated
            (long_text(e, far, 3), e[1]),                                 # query truncated
            (long_text(e, far, 5), long_text(e, 3 * max_length, 7)),      # both truncated
            ("how does a reranker score a passage", long_text(e, far, 1)),
        ],
    )


def vietnamese_pairs(max_length: int) -> list[Pair]:
    v, e = VIETNAMESE_SENTENCES, ENGLISH_SENTENCES
    far = 2 * max_length
    # The same question in decomposed (NFD) form: the tokenizer's normalizer must fold it to NFC/NFKC.
    import unicodedata

    nfd_query = unicodedata.normalize("NFD", "thời hiệu khởi kiện hợp đồng")
    return _interleave(
        short=[
            ("thời hiệu khởi kiện hợp đồng là bao lâu", v[2]),
            ("thời hiệu khởi kiện hợp đồng là bao lâu", v[5]),
            ("ai giải quyết tranh chấp đất đai", v[3]),
            ("ai giải quyết tranh chấp đất đai", v[8]),
            ("hợp đồng mua bán nhà có cần công chứng không", v[4]),
            (nfd_query, v[2]),
            ("employer must pay wages on time", v[1]),
            ("xử phạt vi phạm hành chính", e[1]),
        ],
        long=[
            ("thời hiệu khởi kiện hợp đồng là bao lâu", long_text(v, far, 0)),
            (long_text(v, far, 4), v[6]),
            (long_text(v, far, 2), long_text(v + e, 3 * max_length, 5)),
            ("người thừa kế được chia di sản thế nào", long_text(v, far, 5)),
        ],
    )


def english_whitespace_pairs(max_length: int) -> list[Pair]:
    return _edge_whitespace(ENGLISH_SENTENCES, ("what is kafka streams", "how does a reranker score a passage",
                                                "restore state after a crash"), (0, 1, 4), max_length)


def vietnamese_whitespace_pairs(max_length: int) -> list[Pair]:
    return _edge_whitespace(VIETNAMESE_SENTENCES, ("thời hiệu khởi kiện hợp đồng là bao lâu",
                                                   "ai giải quyết tranh chấp đất đai",
                                                   "người thừa kế được chia di sản thế nào"), (2, 3, 5), max_length)


def _edge_whitespace(sentences: list[str], queries: tuple[str, str, str], picks: tuple[int, int, int],
                     max_length: int) -> list[Pair]:
    """Three pairs with whitespace at both edges of query and document (spaces, a tab, newlines): two short
    ones, and one whose document is far longer than max_length (cut, so only its leading whitespace is read)."""
    a, b, c = queries
    return [{"query": f"  {a}\n", "document": "\t" + sentences[picks[0]] + "  "},
            {"query": f"\t{b} ", "document": "\n" + sentences[picks[1]] + "\n"},
            {"query": f" {c}\t", "document": " \n" + long_text(sentences, 2 * max_length, picks[2])}]


def default_pairs(max_length: int) -> list[Pair]:
    """English and Vietnamese together (what `export` checks parity on unless --pairs is given)."""
    en, vi = english_pairs(max_length), vietnamese_pairs(max_length)
    return en[:8] + vi[:8]


def _interleave(short: list[tuple[str, str]], long: list[tuple[str, str]]) -> list[Pair]:
    """Two short, one long, ...: every batch of 4 holds long and short pairs (padding)."""
    out, shorts, longs = [], list(short), list(long)
    while shorts or longs:
        for _ in range(2):
            if shorts:
                out.append(shorts.pop(0))
        if longs:
            out.append(longs.pop(0))
    return [{"query": q, "document": d} for q, d in out]


def read_pairs(path: Path) -> list[Pair]:
    """JSON lines, each {"query": ..., "document": ...} (other keys ignored)."""
    pairs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            pairs.append({"query": str(item["query"]), "document": str(item["document"])})
        except (ValueError, KeyError, TypeError) as exc:
            raise ToolError(f"{path}:{number}: expected a JSON object with query and document ({exc})") from exc
    if not pairs:
        raise ToolError(f"{path}: no pairs")
    return pairs


def query_groups(pairs: list[Pair]) -> list[list[int]]:
    """Indices of pairs sharing a query, for groups with at least two documents (rank checks)."""
    groups: dict[str, list[int]] = {}
    for i, pair in enumerate(pairs):
        groups.setdefault(pair["query"], []).append(i)
    return [idx for idx in groups.values() if len(idx) > 1]
