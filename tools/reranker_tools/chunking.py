"""Long documents: the reference for the Java app's `long_documents=chunk` (and `max_document_tokens`,
`truncation_side`).

A passage is tokenized alone, without special tokens and without truncation, by the model's own
tokenizer.json (HF tokenizers, the library the Java app's tokenizer wraps); its tokens' character offsets
(Unicode code points, a Python string's indexes) cut it into windows:

- `max_document_tokens` keeps the first (truncation_side right) or last (left) tokens;
- the window is what the query's row leaves of max_length: max_length minus the tokens of the row made with
  an empty passage (special tokens, templates, the query; a causal-lm prompt), but never less than half of
  what an empty query would leave (a longer query is cut instead, longest-first);
- windows of that many tokens overlap by `chunk_stride` (default a quarter of the window), from the first
  token on (right) or back from the last (left); at most `max_chunks` are kept (the first ones, or the last
  ones cut from the left); a passage that fits one window is scored whole;
- each window's text is the passage from its first token's start to its last token's end, less whitespace at
  either edge (tokens carry the space before a word, so a window can begin or end with one: the cut is ours,
  not the user's text, and a chunk without edge whitespace reads the same whether or not a library strips),
  scored as an ordinary pair by the fixtures' reference (golden.py: sentence-transformers / transformers);
  a passage that goes in whole keeps its own whitespace, as every text does (no reference strips one);
- the passage's score is the `chunk_pooling` of its chunks' scores: max (the best chunk; the first of equal
  ones), mean (scores and logits averaged apart), first.

Java does the same arithmetic (inference/DocumentWindows, PassageCutter), so the two agree by construction;
the goldens written here (tools/fixtures/chunked/NAME.json) check that they do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .model_dir import RerankerSettings, ToolError

MODES = ("truncate", "chunk")
POOLINGS = ("max", "mean", "first")
SIDES = ("right", "left")
DEFAULT_MAX_CHUNKS = 16
_NO_WINDOW = 2**62


@dataclass
class LongDocuments:
    """The long-document settings of reranker.json (and the Java app's model.NAME.* keys)."""

    long_documents: str = "truncate"
    chunk_stride: Optional[int] = None
    max_chunks: int = DEFAULT_MAX_CHUNKS
    chunk_pooling: str = "max"
    max_document_tokens: Optional[int] = None
    truncation_side: str = "right"

    def validate(self) -> "LongDocuments":
        if self.long_documents not in MODES or self.chunk_pooling not in POOLINGS or self.truncation_side not in SIDES:
            raise ToolError(f"long-document settings out of range: {self}")
        if self.max_chunks < 1 or (self.chunk_stride is not None and self.chunk_stride < 0) \
                or (self.max_document_tokens is not None and self.max_document_tokens < 1):
            raise ToolError(f"max_chunks >= 1, chunk_stride >= 0, max_document_tokens >= 1: {self}")
        return self

    @property
    def chunked(self) -> bool:
        return self.long_documents == "chunk"


@dataclass
class Window:
    first_token: int
    end_token: int
    start: int  # characters, code points
    end: int


@dataclass
class Plan:
    windows: list[Window]
    tokens: int
    scored: int
    whole: bool
    chunks_cut: bool

    @property
    def cut(self) -> int:
        return self.tokens - self.scored


def plan(text: str, offsets: list[tuple[int, int]], window: int, stride: int, max_chunks: int,
         settings: LongDocuments) -> Plan:
    """The windows of passage `text`, whose tokens (alone) have these character offsets."""
    n = len(offsets)
    first, last = 0, n
    cap = settings.max_document_tokens
    if cap is not None and n > cap:
        if settings.truncation_side == "left":
            first = n - cap
        else:
            last = cap
    if n == 0:
        return Plan([Window(0, 0, 0, 0)], 0, 0, True, False)
    step = window - stride
    ranges = []
    if settings.truncation_side == "left":
        end = last
        while True:
            start = max(first, end - window)
            ranges.append((start, end))
            if start == first:
                break
            end -= step
        ranges.reverse()
    else:
        start = first
        while True:
            end = min(last, start + window)
            ranges.append((start, end))
            if end == last:
                break
            start += step
    chunks_cut = len(ranges) > max_chunks
    if chunks_cut:
        ranges = ranges[-max_chunks:] if settings.truncation_side == "left" else ranges[:max_chunks]
    windows = []
    for a, b in ranges:
        start = min(offsets[i][0] for i in range(a, b))
        end = min(max(max(offsets[i][1] for i in range(a, b)), start), len(text))
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        windows.append(Window(a, b, start, end))
    scored = ranges[-1][1] - ranges[0][0]
    return Plan(windows, n, scored, len(ranges) == 1 and scored == n, chunks_cut)


class Chunker:
    """The windows of passages for one model directory, max length and settings, as the Java app cuts them."""

    def __init__(self, model_dir: Path, settings: RerankerSettings, long: LongDocuments, max_length: int):
        from tokenizers import Tokenizer

        self.settings = settings
        self.long = long.validate()
        self.max_length = max_length
        # The tokenizer.json itself, not transformers' wrapper: transformers treats an empty text_pair as no pair
        # at all, while the row of a query with an empty passage (what the window is measured by) is a pair.
        self.tk = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tk.no_truncation()
        self.tk.no_padding()
        kind = settings.kind
        if kind == "causal-lm":
            self.prefix = len(self.tk.encode(settings.prompt_prefix or "", add_special_tokens=True).ids)
            self.suffix = len(self.tk.encode(settings.prompt_suffix, add_special_tokens=False).ids) if settings.prompt_suffix else 0
            fixed = self.query_row("")
        elif kind == "bi-encoder":
            fixed = len(self.tk.encode(settings.format_document("")).ids)
        else:
            fixed = self.query_row("")
        room = max_length - fixed
        self.smallest = room if kind == "bi-encoder" else room // 2
        if self.long.chunked and self.smallest < 1:
            raise ToolError(f"max_length {max_length} leaves no window for chunks ({fixed} fixed tokens)")
        if self.long.chunked and self.long.chunk_stride is not None and self.long.chunk_stride >= self.smallest:
            raise ToolError(f"chunk_stride {self.long.chunk_stride} must be less than {self.smallest}")

    def query_row(self, query: str) -> int:
        """Tokens of the row of `query` with an empty passage, its texts as the tokenizer reads them (unstripped)."""
        s = self.settings
        if s.kind == "causal-lm":
            body = s.prompt_body(s.format_query(query), s.format_document(""))
            return self.prefix + self.suffix + len(self.tk.encode(body, add_special_tokens=False).ids)
        if s.kind == "bi-encoder":
            return self.max_length  # the query has a row of its own: every chunk gets the whole room
        return len(self.tk.encode(s.format_query(query), s.format_document("")).ids)

    def window(self, query: str) -> int:
        return max(self.max_length - self.query_row(query), self.smallest)

    def offsets(self, passage: str) -> list[tuple[int, int]]:
        return [tuple(o) for o in self.tk.encode(passage, add_special_tokens=False).offsets]

    def cut(self, query: str, passage: str) -> Optional[Plan]:
        """The passage's windows for `query`; None when it goes in whole and the model's truncation cuts it."""
        long = self.long
        if long.chunked:
            window = self.window(query)
            stride = long.chunk_stride if long.chunk_stride is not None else window // 4
            return plan(passage, self.offsets(passage), window, stride, long.max_chunks, long)
        cut_at_window = self.settings.kind == "causal-lm" and long.truncation_side == "left"
        if cut_at_window:
            return plan(passage, self.offsets(passage), self.window(query), 0, 1, long)
        if long.max_document_tokens is not None:
            return plan(passage, self.offsets(passage), _NO_WINDOW, 0, 1, long)
        return None

    @staticmethod
    def pieces(passage: str, cut: Optional[Plan]) -> list[str]:
        if cut is None or cut.whole:
            return [passage]
        return [passage[w.start:w.end] for w in cut.windows]


@dataclass
class Scored:
    query: str
    document: str
    logit: float
    score: float
    best_chunk: int
    chunks: list[dict] = field(default_factory=list)
    tokens: Optional[int] = None
    tokens_scored: Optional[int] = None
    tokens_cut: Optional[int] = None
    chunks_cut: bool = False


def score(model_dir: Path, weights_dir: Path, settings: RerankerSettings, long: LongDocuments, max_length: int,
          pairs: list[dict]) -> tuple[str, list[Scored]]:
    """Each pair's passage cut as the Java app cuts it, its pieces scored by golden.py's reference, and pooled.

    `model_dir` gives the tokenizer.json the windows come from; `weights_dir` the PyTorch model (a fixture's hf/)."""
    from .golden import compute_golden

    settings = dataclasses.replace(settings, max_length=max_length)
    chunker = Chunker(model_dir, settings, long, max_length)
    flat, owners, cuts = [], [], []
    for i, pair in enumerate(pairs):
        cut = chunker.cut(pair["query"], pair["document"])
        cuts.append(cut)
        for piece in chunker.pieces(pair["document"], cut):
            flat.append({"query": pair["query"], "document": piece})
            owners.append(i)
    # Cut from the left, a causal-lm passage was cut to its window above; its prompt is then cut at its end as usual.
    side = "right" if settings.kind == "causal-lm" else long.truncation_side
    golden = compute_golden(weights_dir, settings, flat, truncation_side=side)
    label = settings.label_index or 0
    out = []
    for i, pair in enumerate(pairs):
        rows = [g for g, owner in zip(golden["pairs"], owners) if owner == i]
        cut = cuts[i]
        chunks = []
        for c, row in enumerate(rows):
            window = cut.windows[c] if cut is not None else None
            chunks.append({"start": window.start if window else None, "end": window.end if window else None,
                           "logit": row["logits"][label], "score": row["score"]})
        scores = [c["score"] for c in chunks]
        best = max(range(len(chunks)), key=lambda c: (scores[c], -c))
        if long.chunk_pooling == "first":
            best = 0
        if long.chunk_pooling == "mean":
            logit = sum(c["logit"] for c in chunks) / len(chunks)
            value = sum(scores) / len(chunks)
        else:
            logit, value = chunks[best]["logit"], chunks[best]["score"]
        scored = Scored(pair["query"], pair["document"], float(logit), float(value), best, chunks)
        if cut is not None and long.chunked:
            scored.tokens, scored.tokens_scored, scored.tokens_cut = cut.tokens, cut.scored, cut.cut
            scored.chunks_cut = cut.chunks_cut
        out.append(scored)
    return golden["reference"], out
