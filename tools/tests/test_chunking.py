"""chunking.py, the reference for long documents: the window arithmetic, the committed chunked goldens
(fixtures/chunked/NAME.json) recomputed from the fixtures' PyTorch models, and the `chunked` command."""

import json

import pytest

from conftest import FIXTURES_DIR
from reranker_tools import chunked_goldens, chunking
from reranker_tools.chunking import LongDocuments
from reranker_tools.cli import main
from reranker_tools.model_dir import ToolError, read_settings

# As test_fixtures.py: the same float32 code on another CPU rounds differently by about 1e-6.
CROSS_MACHINE_ATOL = 2e-5


def _tokens(n):
    """n one-letter tokens at characters 0, 2, 4, ... with a space between them."""
    return " ".join(chr(ord("a") + i % 26) for i in range(n)), [(2 * i, 2 * i + 1) for i in range(n)]


def _ranges(plan):
    return [(w.first_token, w.end_token) for w in plan.windows]


def test_windows_overlap_by_the_stride_and_mirror_from_the_left():
    text, offsets = _tokens(25)
    right = chunking.plan(text, offsets, 10, 3, 16, LongDocuments("chunk"))
    assert _ranges(right) == [(0, 10), (7, 17), (14, 24), (21, 25)]
    assert (right.scored, right.cut, right.whole) == (25, 0, False)
    assert (right.windows[1].start, right.windows[1].end) == (14, 33)
    left = chunking.plan(text, offsets, 10, 3, 2, LongDocuments("chunk", truncation_side="left"))
    assert _ranges(left) == [(8, 18), (15, 25)]
    assert (left.scored, left.cut, left.chunks_cut) == (17, 8, True)


def test_the_token_cap_comes_first_and_a_passage_that_fits_is_whole():
    text, offsets = _tokens(25)
    capped = chunking.plan(text, offsets, 10, 2, 16, LongDocuments("chunk", max_document_tokens=12))
    assert _ranges(capped) == [(0, 10), (8, 12)] and capped.cut == 13
    text, offsets = _tokens(6)
    fits = chunking.plan(text, offsets, 10, 2, 16, LongDocuments("chunk"))
    assert fits.whole and _ranges(fits) == [(0, 6)]
    assert chunking.plan("", [], 10, 2, 16, LongDocuments("chunk")).whole


def test_edge_whitespace_is_left_out_of_a_window():
    text = "a\u00a0b\u2003c\u0085d e"
    plan = chunking.plan(text, [(0, 1), (1, 3), (3, 5), (5, 7), (7, 9)], 2, 0, 16, LongDocuments("chunk"))
    assert [(w.start, w.end) for w in plan.windows] == [(0, 3), (4, 7), (8, 9)]


def test_a_stride_not_smaller_than_the_smallest_window_is_refused():
    d = FIXTURES_DIR / "roberta-lora"
    with pytest.raises(ToolError, match="chunk_stride 40 must be less than"):
        chunking.Chunker(d, read_settings(d), LongDocuments("chunk", chunk_stride=40), 64)


@pytest.mark.parametrize("name", sorted(chunked_goldens.SETS))
def test_committed_chunked_goldens_recompute_from_hf(name):
    committed = json.loads((FIXTURES_DIR / "chunked" / f"{name}.json").read_text(encoding="utf-8"))
    for expected, golden_set in zip(committed["sets"], chunked_goldens.SETS[name], strict=True):
        again = chunked_goldens.build_set(FIXTURES_DIR / name, golden_set)
        assert again["name"] == expected["name"] and again["settings"] == expected["settings"]
        for got, want in zip(again["passages"], expected["passages"], strict=True):
            assert got["document"] == want["document"], "the passages are built the same way"
            assert (got["tokens"], got["tokens_scored"], got["tokens_cut"], got["best_chunk"], got["chunks_cut"]) == \
                   (want["tokens"], want["tokens_scored"], want["tokens_cut"], want["best_chunk"], want["chunks_cut"])
            assert [(c["start"], c["end"]) for c in got["chunks"]] == [(c["start"], c["end"]) for c in want["chunks"]]
            for key in ("logit", "score"):
                assert got[key] == pytest.approx(want[key], abs=CROSS_MACHINE_ATOL)
                assert [c[key] for c in got["chunks"]] == pytest.approx([c[key] for c in want["chunks"]], abs=CROSS_MACHINE_ATOL)


def test_committed_sets_hold_3_to_10_windows_and_hit_max_chunks():
    for name in ("gte-vi-legal", "roberta-lora"):
        committed = json.loads((FIXTURES_DIR / "chunked" / f"{name}.json").read_text(encoding="utf-8"))
        chunked = [p for s in committed["sets"] if s["settings"]["long_documents"] == "chunk" for p in s["passages"]]
        counts = [len(p["chunks"]) + (1 if p["chunks_cut"] else 0) for p in chunked]
        assert any(3 <= c <= 10 for c in counts) and max(len(p["chunks"]) for p in chunked) >= 8, counts
        assert any(p["chunks_cut"] for p in chunked), f"{name}: no passage hit max_chunks"
    gte = json.loads((FIXTURES_DIR / "chunked" / "gte-vi-legal.json").read_text(encoding="utf-8"))
    assert any(s["max_length"] == 512 and any(2900 <= (p["tokens"] or 0) <= 3100 for p in s["passages"]) for s in gte["sets"]), \
        "a 3,000-token passage for a 512-token model"


def test_chunked_command_scores_a_users_pairs(tmp_path):
    d = FIXTURES_DIR / "roberta-lora"
    golden = json.loads((FIXTURES_DIR / "chunked" / "roberta-lora.json").read_text(encoding="utf-8"))["sets"][0]
    long = golden["passages"][1]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"query": long["query"], "document": long["document"]}) + "\n", encoding="utf-8")
    out = tmp_path / "out.json"
    assert main(["chunked", "--model-dir", str(d), "--pairs", str(pairs), "--max-length", "64", "--max-chunks", "8",
                 "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    scored = result["passages"][0]
    assert result["max_length"] == 64 and len(scored["chunks"]) == len(long["chunks"])
    assert scored["score"] == max(c["score"] for c in scored["chunks"])
    assert scored["score"] == pytest.approx(long["score"], abs=CROSS_MACHINE_ATOL)
