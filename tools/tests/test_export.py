"""export: round trips with parity, LoRA merging, failure modes."""

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest

from conftest import FIXTURES_DIR, PARITY_ATOL, TOOLS
from replay import replay
from reranker_tools import onnx_export, parity
from reranker_tools.cli import main
from reranker_tools.pairs import english_pairs


def _inputs(path):
    return [i.name for i in onnx.load(str(path), load_external_data=False).graph.input]


def _export(model, out, *extra, adapter=None):
    argv = ["export", "--model", str(model), "--out", str(out), *extra]
    if adapter is not None:
        argv += ["--adapter", str(adapter)]
    return main(argv)


def test_bert_cross_encoder_round_trip(sources, tmp_path, capsys):
    model, _ = sources["bert-cross-encoder"]
    out = tmp_path / "bert"
    assert _export(model, out, "--kind", "cross-encoder", "--int8", "--fp16") == 0
    printed = capsys.readouterr().out
    assert "fp32     max abs diff" in printed and "parity check failed" not in printed

    for name in ("model.onnx", "model.fp16.onnx", "model.int8.onnx", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "config.json", "reranker.json", "golden.json"):
        assert (out / name).is_file(), name
    assert not (out / "hf").exists()  # only with --save-hf
    assert _inputs(out / "model.onnx") == ["input_ids", "attention_mask", "token_type_ids"]
    settings = json.loads((out / "reranker.json").read_text())
    assert settings["kind"] == "cross-encoder" and settings["activation"] is None and settings["pad_token_id"] == 0
    golden = json.loads((out / "golden.json").read_text())
    assert golden["activation"] == "sigmoid" and golden["max_length"] == 64 and len(golden["pairs"]) == 16

    # The directory alone (tokenizer.json + ONNX Runtime, as Java does it) reproduces golden.json.
    logits, scores = replay(out)
    assert np.max(np.abs(logits - np.array([p["logits"] for p in golden["pairs"]]))) < PARITY_ATOL
    assert np.max(np.abs(scores - np.array([p["score"] for p in golden["pairs"]]))) < PARITY_ATOL


def test_lora_adapter_round_trip_and_matters(sources, tmp_path):
    base, adapter = sources["roberta-lora"]
    merged_out, base_out = tmp_path / "merged", tmp_path / "base"
    assert _export(base, merged_out, "--kind", "cross-encoder", adapter=adapter) == 0
    assert _export(base, base_out, "--kind", "cross-encoder", "--no-golden") == 0
    assert _inputs(merged_out / "model.onnx") == ["input_ids", "attention_mask"]  # RoBERTa: no segment ids

    golden = json.loads((merged_out / "golden.json").read_text())
    merged_logits, _ = replay(merged_out)
    assert np.max(np.abs(merged_logits - np.array([p["logits"] for p in golden["pairs"]]))) < PARITY_ATOL
    # Same tokenizer, same inputs: the base export without the adapter must score differently.
    (base_out / "golden.json").write_text(json.dumps(golden))
    base_logits, _ = replay(base_out)
    assert np.max(np.abs(merged_logits - base_logits)) > 0.05


def _peft_07_config(adapter_dir):
    """adapter_config.json as PEFT 0.7.x wrote it (no use_dora/layer_replication/... keys)."""
    current = json.loads((adapter_dir / "adapter_config.json").read_text())
    return {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "roberta-tiny",
        "bias": "none", "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
        "layers_pattern": None, "layers_to_transform": None, "loftq_config": {},
        "lora_alpha": current["lora_alpha"], "lora_dropout": 0.0, "megatron_config": None,
        "megatron_core": "megatron.core", "modules_to_save": current["modules_to_save"], "peft_type": "LORA",
        "r": current["r"], "rank_pattern": {}, "revision": None, "target_modules": ["query", "value"],
        "task_type": "SEQ_CLS", "use_rslora": False,
    }


@pytest.mark.parametrize("weights_file", ["adapter_model.bin", "adapter_model.safetensors"])
def test_peft_07_adapter_layout_loads_and_merges(sources, tmp_path, weights_file):
    import torch
    from safetensors.torch import load_file, save_file

    from reranker_tools.loading import load_model, load_tokenizer

    base, adapter = sources["roberta-lora"]
    old = tmp_path / "adapter-0.7"
    old.mkdir()
    (old / "adapter_config.json").write_text(json.dumps(_peft_07_config(adapter), indent=2))
    state = load_file(str(adapter / "adapter_model.safetensors"))
    if weights_file.endswith(".bin"):
        torch.save(state, old / weights_file)  # PEFT <= 0.6 default / safe_serialization=False
    else:
        save_file(state, str(old / weights_file), metadata={"format": "pt"})

    tokenizer = load_tokenizer(base)
    enc = tokenizer(["what is kafka streams"] * 2, ["Kafka Streams is a library.", "Bread dough"], padding=True,
                    return_tensors="pt")
    with torch.no_grad():
        expected = load_model(base, "cross-encoder", adapter)(**enc).logits
        got = load_model(base, "cross-encoder", old)(**enc).logits
        plain = load_model(base, "cross-encoder")(**enc).logits
    # Both computed here, in this process: only the merge order of the same weights differs.
    assert torch.allclose(got, expected, atol=1e-6)
    assert not torch.allclose(got, plain, atol=1e-3)


def test_adapter_for_another_model_is_rejected(sources, tmp_path, capsys):
    bert, _ = sources["bert-cross-encoder"]
    _, roberta_adapter = sources["roberta-lora"]
    assert _export(bert, tmp_path / "x", "--kind", "cross-encoder", adapter=roberta_adapter) == 1
    assert "do not match the base model" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_export_fails_loudly_when_onnx_is_corrupted(sources, tmp_path, monkeypatch, capsys):
    model, _ = sources["bert-cross-encoder"]
    real_save = onnx_export.save_model

    def corrupting_save(proto, path, threshold):
        if path.name == "model.onnx":  # nudge one weight matrix of the fp32 graph
            init = max(proto.graph.initializer, key=lambda t: len(t.raw_data))
            array = onnx.numpy_helper.to_array(init)
            # Noise, not a constant shift: LayerNorm right after the embeddings would cancel a shift.
            array = array + np.random.default_rng(0).normal(0.0, 0.05, array.shape)
            init.CopyFrom(onnx.numpy_helper.from_array(array.astype(np.float32), init.name))
        real_save(proto, path, threshold)

    monkeypatch.setattr(onnx_export, "save_model", corrupting_save)
    out = tmp_path / "broken"
    assert _export(model, out, "--kind", "cross-encoder") == 1
    err = capsys.readouterr().err
    assert "parity check failed: fp32 max abs diff" in err and "left in" in err
    assert not out.exists()  # nothing loadable-looking at --out
    assert (tmp_path / ".broken.partial" / "model.onnx").is_file()


def test_export_fails_when_tolerance_is_not_met(sources, tmp_path, monkeypatch, capsys):
    model, _ = sources["bert-cross-encoder"]
    monkeypatch.setattr(parity, "FP32_TOLERANCE", 1e-12)
    assert _export(model, tmp_path / "strict", "--kind", "cross-encoder", "--no-golden") == 1
    assert "parity check failed" in capsys.readouterr().err


def test_decoder_requires_pad_token(sources, tmp_path, capsys):
    model, _ = sources["llama-decoder"]
    templates = ["--query-template", "query: {query}", "--document-template", "document: {document}"]
    assert _export(model, tmp_path / "nopad", "--kind", "decoder", *templates) == 1
    assert "needs a pad token" in capsys.readouterr().err
    assert not (tmp_path / "nopad").exists()

    # A pad id that is also real input (bos, 1) would make the HF head pool the wrong token.
    assert _export(model, tmp_path / "bospad", "--kind", "decoder", "--pad-token-id", "1", *templates) == 1
    assert "occurs inside real input" in capsys.readouterr().err

    out = tmp_path / "pad0"
    assert _export(model, out, "--kind", "decoder", "--pad-token-id", "0", "--max-length", "80", *templates) == 0
    config = json.loads((out / "config.json").read_text())
    tok_config = json.loads((out / "tokenizer_config.json").read_text())
    assert config["pad_token_id"] == 0 and tok_config["pad_token"] == "<unk>"
    assert tok_config["model_max_length"] == 96  # clamped from the 1e30 "unlimited" sentinel
    assert _inputs(out / "model.onnx") == ["input_ids", "attention_mask"]
    golden = json.loads((out / "golden.json").read_text())
    logits, _ = replay(out)
    assert np.max(np.abs(logits - np.array([p["logits"] for p in golden["pairs"]]))) < PARITY_ATOL


def test_external_data_for_large_models(sources, tmp_path):
    """The >2 GB path, forced with a 0 MB threshold: one .data file per graph, loadable, parity intact."""
    model, _ = sources["bert-cross-encoder"]
    out = tmp_path / "ext"
    assert _export(model, out, "--kind", "cross-encoder", "--fp16", "--int8", "--no-golden",
                   "--external-data-threshold-mb", "0") == 0
    for name in ("model.onnx", "model.fp16.onnx", "model.int8.onnx"):
        assert (out / f"{name}.data").is_file(), name
        assert (out / name).stat().st_size < 100_000  # graph only, weights are in the .data file
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_golden_command_on_plain_hf_dir(sources, tmp_path):
    model, _ = sources["bert-cross-encoder"]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in english_pairs(64)[:5]) + "\n")
    out = tmp_path / "golden.json"
    assert main(["golden", "--model-dir", str(model), "--kind", "cross-encoder", "--activation", "identity",
                 "--pairs", str(pairs), "--out", str(out)]) == 0
    golden = json.loads(out.read_text())
    assert len(golden["pairs"]) == 5 and golden["activation"] == "identity"
    assert all(p["score"] == p["logits"][0] for p in golden["pairs"])


def test_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "reranker_tools", "export", "--help"], cwd=TOOLS,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--adapter" in result.stdout


def test_alibaba_new_directory_exports_as_native_gte(tmp_path, capsys):
    """A directory shaped like the Vietnamese seed's (model_type "new", Alibaba's config keys and fused
    weight names, remote code that is not available offline), written from the gte-vi-legal fixture,
    exports as native GTE with the fixture's own scores."""
    from reranker_tools.gte_new import to_alibaba_new

    fixture = FIXTURES_DIR / "gte-vi-legal"
    seed = to_alibaba_new(fixture / "hf", tmp_path / "seed")
    config = json.loads((seed / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "new" and "rope_theta" in config and "auto_map" in config
    golden = json.loads((fixture / "golden.json").read_text(encoding="utf-8"))
    picked = [golden["pairs"][i] for i in (0, 2, 8, 9)]  # short, cut at 1,024, far longer, 567 tokens whole
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": p["query"], "document": p["document"]}) + "\n" for p in picked),
                     encoding="utf-8")
    out = tmp_path / "out"
    code = main(["export", "--model", str(seed), "--out", str(out), "--kind", "cross-encoder", "--activation",
                 "sigmoid", "--max-length", "1024", "--pairs", str(pairs)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "converted to native GTE" in captured.out
    exported = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert exported["model_type"] == "gte" and exported["rope_parameters"]["rope_theta"] == 160000.0
    again = json.loads((out / "golden.json").read_text(encoding="utf-8"))["pairs"]
    assert [abs(a["score"] - b["score"]) for a, b in zip(again, picked)] == pytest.approx([0, 0, 0, 0], abs=1e-6)


def test_causal_lm_base_plus_lora_exports_two_label_logits(tmp_path, capsys):
    """MedAlpaca's case through the CLI: a LLaMA causal LM and its LoRA adapter, merged; the graph returns
    [batch, 2] (the label words' logits at the last position), the ids come from the tokenizer, and the
    adapter changes the scores."""
    from reranker_tools.fixtures import build_source
    from reranker_tools.model_dir import MEDALPACA_PREFIX, MEDALPACA_SUFFIX, MEDALPACA_TEMPLATE

    base, adapter = build_source("llama-causal-lm", tmp_path / "src")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(p) + "\n" for p in english_pairs(40)[:6]), encoding="utf-8")
    prompt = ["--kind", "causal-lm", "--prompt-prefix", MEDALPACA_PREFIX, "--prompt-template", MEDALPACA_TEMPLATE,
              "--prompt-suffix", MEDALPACA_SUFFIX, "--max-length", "256", "--pairs", str(pairs)]
    assert _export(base, tmp_path / "merged", *prompt, adapter=adapter) == 0, capsys.readouterr().err
    assert _export(base, tmp_path / "base", *prompt) == 0, capsys.readouterr().err
    settings = json.loads((tmp_path / "merged" / "reranker.json").read_text(encoding="utf-8"))
    assert settings["padding_side"] == "left" and settings["label_words"] == ["yes", "no"]
    output = onnx.load(str(tmp_path / "merged" / "model.onnx")).graph.output[0]
    assert [d.dim_value or d.dim_param for d in output.type.tensor_type.shape.dim] == ["batch", 2]
    merged, plain = (json.loads((tmp_path / d / "golden.json").read_text(encoding="utf-8"))["pairs"]
                     for d in ("merged", "base"))
    assert max(abs(a["score"] - b["score"]) for a, b in zip(merged, plain)) > 1e-3, "the adapter matters"
    logits, scores = replay(tmp_path / "merged")
    assert np.max(np.abs(scores - np.array([p["score"] for p in merged]))) < 1e-4


@pytest.mark.parametrize("layout", ["safetensors", "bin"])
def test_adapter_written_by_peft_071_merges_in_export(sources, tmp_path, layout, capsys):
    """An adapter directory as the real PEFT 0.7.1 wrote it (tests/data/peft-0.7.1: its config fields,
    `modules_to_save: null` with the classifier saved under its plain name, .safetensors or .bin) merges in
    `export` exactly as LoRA defines it: every targeted weight becomes W + (lora_alpha / r) * B @ A, the
    classifier is the adapter's, everything else is the base's. The expected model is computed here from
    the adapter file's tensors by hand, not by PEFT; the export of it replays within parity."""
    import torch
    from peft.utils import load_peft_weights

    from reranker_tools.loading import load_model

    adapter = TOOLS / "tests" / "data" / "peft-0.7.1" / layout
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    assert config["modules_to_save"] is None and "use_dora" not in config
    base, _ = sources["roberta-lora"]
    base_state = load_model(base, "cross-encoder").state_dict()
    merged_state = load_model(base, "cross-encoder", adapter).state_dict()

    scale = config["lora_alpha"] / config["r"]
    expected = {k: v.clone() for k, v in base_state.items()}
    tensors = load_peft_weights(str(adapter), device="cpu")
    lora_a = {k: v for k, v in tensors.items() if ".lora_A." in k}
    for key, a in lora_a.items():
        b = tensors[key.replace(".lora_A.", ".lora_B.")]
        target = key.replace("base_model.model.", "", 1).replace(".lora_A.weight", ".weight")
        expected[target] += scale * (b @ a)
    heads = {k.replace("base_model.model.", "", 1): v for k, v in tensors.items() if ".lora_" not in k}
    assert sorted(heads) == ["classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias",
                             "classifier.out_proj.weight"]
    expected.update(heads)
    assert len(lora_a) == 4  # query and value of both layers
    assert sorted(merged_state) == sorted(expected)
    for key, value in expected.items():
        assert torch.allclose(merged_state[key], value, atol=1e-6, rtol=0), key
    changed = [k for k in expected if not torch.equal(base_state[k], expected[k])]
    assert len(changed) == len(lora_a) + len(heads), "the adapter changes its targets and the head"

    out = tmp_path / "out"
    assert _export(base, out, "--kind", "cross-encoder", adapter=adapter) == 0, capsys.readouterr().err
    golden = json.loads((out / "golden.json").read_text(encoding="utf-8"))
    logits, _ = replay(out)
    assert np.max(np.abs(logits - np.array([p["logits"] for p in golden["pairs"]]))) < PARITY_ATOL
