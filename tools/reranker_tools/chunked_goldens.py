"""fixtures/chunked/NAME.json: reference scores of long documents cut into chunks (chunking.py), for the Java
parity test (streams-app ... parity/ChunkedParityTest) and the Java window test (inference/ChunkWindowsParityTest).

Each file holds sets; a set is the long-document settings (and the max length they run at) and passages of
3 to 10 windows, one short passage scored whole, and in every chunked set a passage that hits max_chunks. Passages
are built from pairs.py's sentences until they reach the number of windows asked for, so the files are
deterministic; regenerating them on another CPU moves the scores by about 1e-6, as the fixtures' goldens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import cycle
from pathlib import Path

from . import chunking
from .chunking import LongDocuments
from .model_dir import ToolError, read_settings, write_json
from .pairs import ENGLISH_SENTENCES, VIETNAMESE_SENTENCES


@dataclass
class GoldenSet:
    name: str
    max_length: int
    long: LongDocuments
    # (query, sentences, windows wanted, first sentence): the passage grows until it has that many windows
    passages: list[tuple[str, str, int, int]]


_VI_QUERY = "Thời hiệu khởi kiện về hợp đồng là bao lâu?"
_EN_QUERY = "How do state stores survive a crash?"

SETS: dict[str, list[GoldenSet]] = {
    "gte-vi-legal": [
        # A 512-token model on passages of 3, 9 (about 3,000 tokens) and 10 windows, and one that fits.
        GoldenSet("chunk-max-512", 512, LongDocuments("chunk"), [
            (_VI_QUERY, "vi", 3, 0), (_VI_QUERY, "vi", 9, 2), (_EN_QUERY, "en", 10, 4), (_EN_QUERY, "en", 1, 1),
            (_VI_QUERY, "en", 5, 3)]),
        # Mean pooling, cut from the left: a token cap, a stride of its own, and max_chunks hit.
        GoldenSet("chunk-mean-left-512", 512, LongDocuments("chunk", chunk_stride=64, max_chunks=4, chunk_pooling="mean",
                                                           max_document_tokens=2500, truncation_side="left"), [
            (_VI_QUERY, "vi", 3, 5), (_VI_QUERY, "vi", 9, 6), (_EN_QUERY, "en", 6, 7), (_EN_QUERY, "vi", 1, 8)]),
        # Truncation from the left (transformers' truncation_side="left"): the passages' ends are what is read.
        GoldenSet("truncate-left-512", 512, LongDocuments("truncate", truncation_side="left"), [
            (_VI_QUERY, "vi", 3, 0), (_EN_QUERY, "en", 2, 3), (_EN_QUERY, "en", 1, 1)]),
    ],
    "roberta-lora": [
        GoldenSet("chunk-max-64", 64, LongDocuments("chunk", max_chunks=8), [
            (_EN_QUERY, "en", 3, 0), (_EN_QUERY, "en", 6, 2), (_VI_QUERY, "vi", 10, 4), (_VI_QUERY, "en", 1, 5),
            (_EN_QUERY, "vi", 4, 6)]),
        GoldenSet("chunk-first-64", 64, LongDocuments("chunk", chunk_stride=4, chunk_pooling="first", max_chunks=5), [
            (_EN_QUERY, "en", 3, 1), (_VI_QUERY, "vi", 7, 3), (_EN_QUERY, "en", 1, 2)]),
    ],
    "llama-causal-lm": [
        # The prompt is cut to 256 tokens here (the fixture serves 2,048) so that chunks are a few hundred tokens.
        GoldenSet("chunk-max-256", 256, LongDocuments("chunk", max_chunks=6), [
            (_EN_QUERY, "en", 3, 0), (_EN_QUERY, "en", 8, 2), (_VI_QUERY, "vi", 5, 4), (_VI_QUERY, "en", 1, 1)]),
        GoldenSet("truncate-left-256", 256, LongDocuments("truncate", truncation_side="left"), [
            (_EN_QUERY, "en", 3, 0), (_VI_QUERY, "vi", 2, 4)]),
    ],
    "bi-encoder": [
        GoldenSet("chunk-mean-64", 64, LongDocuments("chunk", chunk_pooling="mean", max_chunks=6), [
            (_EN_QUERY, "en", 3, 0), (_EN_QUERY, "en", 8, 2), (_EN_QUERY, "en", 1, 1)]),
    ],
}


def _passage(chunker: chunking.Chunker, query: str, language: str, windows: int, start: int) -> str:
    """Sentences, numbered as articles, until the passage has `windows` windows for `query` when chunked."""
    sentences = VIETNAMESE_SENTENCES if language == "vi" else ENGLISH_SENTENCES
    rotated = sentences[start:] + sentences[:start]
    window = chunker.window(query)
    stride = chunker.long.chunk_stride if chunker.long.chunk_stride is not None else window // 4
    counting = LongDocuments("chunk", chunk_stride=stride, max_chunks=10**6)
    words = []
    for k, sentence in enumerate(cycle(rotated)):
        for w, word in enumerate(sentence.split()):
            words.append(f"({k + 1}) {word}" if w == 0 else word)
            text = " ".join(words)
            have = len(chunking.plan(text, chunker.offsets(text), window, stride, 10**6, counting).windows)
            if have == windows and (windows > 1 or len(words) >= 8):
                return text
            if have > windows:
                raise ToolError(f"a passage of {windows} windows could not be built (jumped to {have})")
    raise AssertionError("unreachable")


def build_set(fixture_dir: Path, golden_set: GoldenSet) -> dict:
    settings = read_settings(fixture_dir)
    chunker = chunking.Chunker(fixture_dir, settings, golden_set.long, golden_set.max_length)
    pairs = [{"query": q, "document": _passage(chunker, q, language, windows, start)}
             for q, language, windows, start in golden_set.passages]
    reference, scored = chunking.score(fixture_dir, fixture_dir / "hf", settings, golden_set.long, golden_set.max_length, pairs)
    return {
        "name": golden_set.name,
        "max_length": golden_set.max_length,
        "settings": asdict(golden_set.long),
        "reference": reference,
        "passages": [asdict(s) for s in scored],
    }


def write(fixtures: Path, names: list[str]) -> list[Path]:
    out = fixtures / "chunked"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        if name not in SETS:
            raise ToolError(f"no chunked goldens are defined for {name}; defined: {sorted(SETS)}")
        data = {"fixture": name, "sets": [build_set(fixtures / name, s) for s in SETS[name]]}
        path = out / f"{name}.json"
        write_json(path, data)
        written.append(path)
    return written
