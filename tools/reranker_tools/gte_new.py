"""Alibaba's `model_type: "new"` directories (gte-multilingual-*, NewForSequenceClassification, remote code)
to transformers' native GTE (`model_type: "gte"`, GteForSequenceClassification, transformers 5).

The seed reranker (fine-tuned from gte-multilingual-reranker-base) ships Alibaba's config keys and weight
names and needs `trust_remote_code` for code that is not available offline. transformers 5 implements the
same architecture natively and, for `model_type: "gte"`, renames Alibaba's weights while loading
(conversion_mapping.py: the `new.` prefix, `encoder.layer` -> `layers`, `attention.qkv_proj` split into
q/k/v, `mlp.up_gate_proj` into up/gate, `attn_ln`/`mlp_ln`). What is left to do here is the config, as
Hugging Face's own conversion of these checkpoints does: `model_type` new -> gte, `rope_theta` /
`rope_scaling` -> `rope_parameters`, Alibaba-only keys dropped, `auto_map` removed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .model_dir import CONFIG_JSON, ToolError

# NewConfig keys with no GteConfig counterpart; each is checked to hold the value native GTE implements.
_IMPLEMENTED_AS = {
    "position_embedding_type": "rope",
    "layer_norm_type": "layer_norm",
    "logn_attention_scale": False,
    "logn_attention_clip1": False,
}
_DROPPED = ("auto_map", "pack_qkv", "unpad_inputs", "use_memory_efficient_attention", "rope_theta", "rope_scaling",
            *_IMPLEMENTED_AS)
_ARCHITECTURES = {"NewForSequenceClassification": "GteForSequenceClassification", "NewModel": "GteModel",
                  "NewForMaskedLM": "GteForMaskedLM", "NewForTokenClassification": "GteForTokenClassification"}


def is_alibaba_new(model_dir: Path) -> bool:
    path = Path(model_dir) / CONFIG_JSON
    return path.is_file() and json.loads(path.read_text(encoding="utf-8")).get("model_type") == "new"


def native_config(config: dict) -> dict:
    """Alibaba's NewConfig dict -> a GteConfig dict."""
    for key, expected in _IMPLEMENTED_AS.items():
        if key in config and config[key] != expected:
            raise ToolError(f"config.json {key}={config[key]!r}: native GTE implements only {expected!r}; this "
                            f"checkpoint cannot be converted")
    rope = {"rope_type": "default", "rope_theta": float(config.get("rope_theta", 10000.0))}
    scaling = config.get("rope_scaling")
    if scaling:
        kind = scaling.get("type") or scaling.get("rope_type")
        rope = {**{k: v for k, v in scaling.items() if k != "type"}, "rope_type": kind, "rope_theta": rope["rope_theta"]}
    out = {k: v for k, v in config.items() if k not in _DROPPED}
    out["model_type"] = "gte"
    out["rope_parameters"] = rope
    out["architectures"] = [_ARCHITECTURES.get(a, a) for a in config.get("architectures", [])]
    return out


def convert(model_dir: Path, out_dir: Path) -> Path:
    """A copy of `model_dir` whose config.json is native GTE's; weights and tokenizer files as they are."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in Path(model_dir).iterdir():
        if item.is_file() and item.suffix != ".py":  # the remote code is what this replaces
            shutil.copy2(item, out_dir / item.name)
    config = json.loads((Path(model_dir) / CONFIG_JSON).read_text(encoding="utf-8"))
    (out_dir / CONFIG_JSON).write_text(json.dumps(native_config(config), indent=2) + "\n", encoding="utf-8")
    return out_dir


def to_alibaba_new(gte_dir: Path, out_dir: Path) -> Path:
    """The reverse, for tests: write a native GTE checkpoint as Alibaba's remote-code layout (config keys,
    weight names, fused qkv and up_gate projections), i.e. shaped like the seed's directory."""
    import torch
    from safetensors.torch import load_file, save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    for item in Path(gte_dir).iterdir():
        if item.is_file() and item.name not in (CONFIG_JSON, "model.safetensors"):
            shutil.copy2(item, out_dir / item.name)
    config = json.loads((Path(gte_dir) / CONFIG_JSON).read_text(encoding="utf-8"))
    rope = config.pop("rope_parameters")
    config.update(model_type="new", rope_theta=rope["rope_theta"], rope_scaling=None, position_embedding_type="rope",
                  layer_norm_type="layer_norm", logn_attention_scale=False, logn_attention_clip1=False, pack_qkv=True,
                  unpad_inputs=False, use_memory_efficient_attention=False,
                  architectures=["NewForSequenceClassification"],
                  auto_map={"AutoConfig": "Alibaba-NLP/new-impl--configuration.NewConfig",
                            "AutoModelForSequenceClassification":
                                "Alibaba-NLP/new-impl--modeling.NewForSequenceClassification"})
    config.pop("transformers_version", None)
    (out_dir / CONFIG_JSON).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    weights = load_file(str(Path(gte_dir) / "model.safetensors"))
    out, fused = {}, {}
    for name, tensor in weights.items():
        new = "new." + name[len("gte."):] if name.startswith("gte.") else name
        new = new.replace(".layers.", ".encoder.layer.").replace("self_attn.o_proj", "attention.o_proj")
        new = new.replace("post_attention_layernorm", "attn_ln").replace("post_mlp_layernorm", "mlp_ln")
        for part, target in (("self_attn.q_proj", 0), ("self_attn.k_proj", 1), ("self_attn.v_proj", 2)):
            if part in new:
                fused.setdefault(new.replace(part, "attention.qkv_proj"), [None] * 3)[target] = tensor
                break
        else:
            for part, target in (("mlp.up_proj", 0), ("mlp.gate_proj", 1)):
                if part in new:
                    fused.setdefault(new.replace(part, "mlp.up_gate_proj"), [None] * 2)[target] = tensor
                    break
            else:
                out[new] = tensor
    for name, parts in fused.items():
        out[name] = torch.cat(parts, dim=0).contiguous()
    save_file(out, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    return out_dir
