"""The bench's helpers: the near-zero-cost graph keeps the serving contract, and the committed copy is what
the tool writes; the peers script measures both peers on a real (fixture) model."""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from conftest import TOOLS
from reranker_tools import bench_peers, null_model

COMMITTED = TOOLS.parent / "streams-app" / "src" / "main" / "resources" / "dev" / "kafkareranker" / "bench" / "null-cross-encoder.onnx"


def test_null_model_takes_the_contract_inputs_and_gives_one_logit_per_row():
    model = null_model.build()
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=np.int64)
    (logits,) = session.run(None, {"input_ids": mask * 7, "attention_mask": mask, "token_type_ids": mask * 0})
    assert logits.shape == (3, 1)
    assert logits.dtype == np.float32
    assert np.array_equal(logits, np.ones((3, 1), dtype=np.float32))


def test_the_committed_null_model_is_the_tools_output():
    assert onnx.load(str(COMMITTED)).graph == null_model.build().graph, \
        "regenerate it: python -m reranker_tools.null_model " + str(COMMITTED)


def test_peers_measure_sentence_transformers_and_onnxruntime_on_the_same_pairs(tmp_path: Path):
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps({"queries": [{"query": "what causes anemia",
                                              "passages": ["iron deficiency", "a cat purrs", "blood loss and low iron"]},
                                             {"query": "kafka", "passages": ["exactly once", "transactions commit offsets"]}]}))
    out = tmp_path / "peers.json"
    fixture = TOOLS / "fixtures" / "bert-cross-encoder"
    assert bench_peers.main(["--model-dir", str(fixture), "--pairs", str(pairs), "--threads", "1", "--batch-size", "2",
                             "--max-length", "64", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["pairs"] == 5
    for peer in ("sentence_transformers", "onnxruntime_python_fp32", "onnxruntime_python_int8"):
        assert report[peer]["pairs"] == 5
        assert report[peer]["pairs_per_second"] > 0
