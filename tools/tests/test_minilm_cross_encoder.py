"""The MiniLM build's head fitting on MED, on a tiny SMART collection (no MiniLM weights needed)."""

from pathlib import Path

import pytest
import torch

from reranker_tools import minilm_cross_encoder as mce


def _med(tmp_path: Path) -> Path:
    (tmp_path / "MED.ALL").write_text(".I 1\n.W\nfatty acids cross the placental barrier\n"
                                      ".I 2\n.W\nthe crystalline lens of vertebrates\n"
                                      ".I 3\n.W\nlens opacity and crystalline proteins in cataract\n"
                                      ".I 4\n.W\nblood pressure in patients\n")
    (tmp_path / "MED.QRY").write_text(".I 1\n.W\n the crystalline lens in vertebrates,\nincluding humans.\n"
                                      ".I 2\n.W\n placental fatty acids\n")
    (tmp_path / "MED.REL").write_text("1 2 1\n2 1 1\n")
    return tmp_path


def test_smart_records_join_their_text_lines(tmp_path):
    docs, queries, relevant = mce.read_med(_med(tmp_path))
    assert queries["1"] == "the crystalline lens in vertebrates, including humans."
    assert docs["2"] == "the crystalline lens of vertebrates"
    assert relevant == {"1": {"2"}, "2": {"1"}}


def test_a_missing_med_file_is_named(tmp_path):
    _med(tmp_path)
    (tmp_path / "MED.REL").unlink()
    with pytest.raises(SystemExit, match="MED.REL"):
        mce.read_med(tmp_path)


def test_bm25_ranks_the_abstract_sharing_the_rare_terms_first(tmp_path):
    docs, queries, _ = mce.read_med(_med(tmp_path))
    ranked = mce.bm25_rank(docs, queries["1"])
    assert ranked[0] == "2"
    assert ranked[1] == "3"  # shares "crystalline lens" but not "vertebrates"
    assert sorted(ranked) == ["1", "2", "3", "4"]


def test_training_pairs_are_the_relevant_abstracts_and_bm25_negatives_drawn_by_seed(tmp_path):
    docs, queries, relevant = mce.read_med(_med(tmp_path))
    pairs = mce.training_pairs(docs, queries, relevant, seed=15, negatives=1)
    assert [(q, label) for q, _, label in pairs] == [(queries["1"], 1.0), (queries["1"], 0.0),
                                                     (queries["2"], 1.0), (queries["2"], 0.0)]
    negatives = {(q, p) for q, p, label in pairs if label == 0.0}
    # A query's relevant abstract is never its negative.
    assert (queries["1"], docs["2"]) not in negatives and (queries["2"], docs["1"]) not in negatives
    assert pairs == mce.training_pairs(docs, queries, relevant, seed=15, negatives=1)


def test_the_fitted_head_separates_separable_features_and_is_deterministic():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 8, generator=g)
    y = (x[:, 2] - 0.5 * x[:, 5] > 0).float()
    w, b = mce.fit_head(x, y.tolist(), seed=3)
    accuracy = float((((x @ w + b) > 0).float() == y).float().mean())
    assert accuracy > 0.97  # linearly separable by construction; the ridge only keeps the weights finite
    w2, b2 = mce.fit_head(x, y.tolist(), seed=3)
    assert torch.equal(w, w2) and torch.equal(b, b2)


def _weight_scales(path: Path):
    import onnx

    proto = onnx.load(str(path))
    return [list(t.dims) for t in proto.graph.initializer if t.name.endswith("_scale")]


def test_per_channel_int8_gives_each_weight_column_its_scale_and_default_stays_per_tensor(tmp_path):
    import numpy as np
    import onnxruntime as ort

    from conftest import TOOLS
    from reranker_tools import onnx_export

    fp32 = TOOLS / "fixtures" / "bert-cross-encoder" / "model.onnx"
    onnx_export.export_int8(fp32, tmp_path / "tensor.onnx")
    onnx_export.export_int8(fp32, tmp_path / "channel.onnx", per_channel=True)
    assert all(dims in ([], [1]) for dims in _weight_scales(tmp_path / "tensor.onnx"))
    assert any(len(dims) == 1 and dims[0] > 1 for dims in _weight_scales(tmp_path / "channel.onnx"))
    session = ort.InferenceSession(str(tmp_path / "channel.onnx"), providers=["CPUExecutionProvider"])
    feed = {i.name: np.array([[1, 20, 2, 30, 2]], dtype=np.int64) for i in session.get_inputs()}
    feed["attention_mask"] = np.ones((1, 5), dtype=np.int64)
    if "token_type_ids" in feed:
        feed["token_type_ids"] = np.array([[0, 0, 0, 1, 1]], dtype=np.int64)
    assert session.run(None, feed)[0].shape == (1, 1)
