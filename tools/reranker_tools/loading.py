"""Loading HF models (optionally with a PEFT LoRA adapter merged in) and their fast tokenizers.

Everything is loaded from local directories (local_files_only=True): the tools never fetch from
the Hugging Face hub on their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from .model_dir import ToolError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")


def require_dir(path: Optional[Path], what: str) -> Optional[Path]:
    if path is not None and not Path(path).is_dir():
        raise ToolError(f"{what} {path} is not a directory (the tools only read local model directories)")
    return None if path is None else Path(path)


def load_tokenizer(path: Path, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=trust_remote_code)
    if not tokenizer.is_fast:
        # Java tokenizes with tokenizer.json (HF tokenizers), which only fast tokenizers have.
        raise ToolError(f"{path}: no fast tokenizer (tokenizer.json) could be loaded or converted")
    return tokenizer


def load_config(path: Path, trust_remote_code: bool = False, num_labels: Optional[int] = None):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path, local_files_only=True, trust_remote_code=trust_remote_code)
    if num_labels is not None and config.num_labels != num_labels:
        # A base LM checkpoint (e.g. Llama-2-7b) defaults to 2 labels; RankLLaMA's head has 1.
        config.num_labels = num_labels
    return config


def load_model(model_dir: Path, kind: str, adapter: Optional[Path] = None, *, trust_remote_code: bool = False,
               num_labels: Optional[int] = None, eager_attention: bool = True):
    """fp32 model in eval mode; the adapter (if any) merged into the weights.

    Eager attention by default: the SDPA code paths are harder to trace to ONNX, and eager is the
    plain math the exported graph should contain.
    """
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification

    config = load_config(model_dir, trust_remote_code, num_labels)
    cls = {"bi-encoder": AutoModel, "causal-lm": AutoModelForCausalLM}.get(kind, AutoModelForSequenceClassification)
    kwargs = dict(config=config, local_files_only=True, trust_remote_code=trust_remote_code,
                  torch_dtype=torch.float32, output_loading_info=True)
    if eager_attention:
        kwargs["attn_implementation"] = "eager"
    model, info = cls.from_pretrained(model_dir, **kwargs)
    missing = info.get("missing_keys", [])
    if kind == "bi-encoder":
        # The exported graph returns last_hidden_state; an absent (random) pooler is never used.
        missing = [k for k in missing if not k.split(".")[0] == "pooler"]
    adapter_keys = adapter_weight_keys(adapter) if adapter is not None else set()
    _check_no_random_weights(model_dir, missing, adapter_keys)
    if adapter is not None:
        model = merge_adapter(model, adapter)
    return model.eval()


def adapter_weight_keys(adapter: Path) -> set[str]:
    from peft.utils import load_peft_weights

    _check_adapter_layout(adapter)
    return set(load_peft_weights(str(adapter), device="cpu"))


def _check_no_random_weights(model_dir: Path, missing_keys: list[str], adapter_keys: set[str]) -> None:
    """A base checkpoint without a classification head gets a randomly initialised one; that is only
    acceptable when the adapter carries the head (PEFT modules_to_save, e.g. classifier/score)."""
    uncovered = [k for k in missing_keys if not any(a.endswith("." + k) for a in adapter_keys)]
    if uncovered:
        hint = " and the adapter does not provide them" if adapter_keys else "; pass the adapter that holds them"
        raise ToolError(f"{model_dir}: weights missing from the checkpoint would be randomly initialised "
                        f"({', '.join(uncovered[:6])}{' ...' if len(uncovered) > 6 else ''}){hint}")


def _check_adapter_layout(adapter: Path) -> None:
    if not (adapter / ADAPTER_CONFIG).is_file():
        raise ToolError(f"{adapter}: not a PEFT adapter directory (no {ADAPTER_CONFIG})")
    if not any((adapter / name).is_file() for name in ADAPTER_WEIGHT_FILES):
        raise ToolError(f"{adapter}: no adapter weights ({' or '.join(ADAPTER_WEIGHT_FILES)})")


def merge_adapter(model, adapter: Path):
    """PeftModel.from_pretrained(base, adapter).merge_and_unload(), after checking every tensor in the
    adapter file really landed in the model: PEFT silently skips keys whose module names do not match
    the base (e.g. an adapter trained on a different architecture), which would export the base alone."""
    from peft import PeftModel
    from peft.utils import load_peft_weights

    _check_adapter_layout(adapter)
    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
    except KeyError as e:
        # PEFT >= 0.14 looks up every wrapped module's tensors (e.g. the classifier it wraps for SEQ_CLS)
        # in the adapter file and fails on the first one missing: an adapter for another architecture.
        raise ToolError(f"{adapter}: adapter tensors do not match the base model ({e} is not in the adapter "
                        f"file). Is this the adapter for this base model?") from e
    file_weights = load_peft_weights(str(adapter), device="cpu")
    if not any(".lora_" in k for k in file_weights):
        raise ToolError(f"{adapter}: the adapter holds no LoRA weights (only LoRA adapters are supported)")
    modules_to_save = peft_model.peft_config["default"].modules_to_save or []
    loaded = peft_model.state_dict()
    problems = []
    for key, value in file_weights.items():
        target = _loaded_name(key, modules_to_save)
        if target not in loaded:
            problems.append(f"{key} (not in the model)")
        elif not torch.equal(loaded[target].float(), value.float()):
            problems.append(f"{key} (not loaded)")
    if problems:
        raise ToolError(f"{adapter}: {len(problems)} adapter tensors do not match the base model, e.g. "
                        f"{'; '.join(problems[:4])}. Is this the adapter for this base model?")
    return peft_model.merge_and_unload()


def _loaded_name(key: str, modules_to_save: list[str]) -> str:
    """Name under which PEFT keeps a tensor of the adapter file once loaded as adapter 'default'."""
    for part in (".lora_A.", ".lora_B.", ".lora_embedding_A", ".lora_embedding_B", ".lora_magnitude_vector"):
        if part in key:
            if part.endswith("."):
                return key.replace(part, f"{part}default.", 1)
            return key.replace(part, f"{part}.default", 1)
    for module in modules_to_save:
        marker = f".{module}."
        if marker in key:
            return key.replace(marker, f"{marker}modules_to_save.default.", 1)
    return key


def apply_pad_token(model, tokenizer, pad_token_id: int) -> None:
    """Make tokenizer and config agree on the pad id (decoders usually ship without one)."""
    if not 0 <= pad_token_id < len(tokenizer):
        raise ToolError(f"pad token id {pad_token_id} is outside the vocabulary (size {len(tokenizer)})")
    if tokenizer.pad_token_id != pad_token_id:
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(pad_token_id)
    if model is not None:
        model.config.pad_token_id = pad_token_id


def set_padding_side(tokenizer, side: str) -> None:
    tokenizer.padding_side = side
    # init_kwargs is what save_pretrained writes to tokenizer_config.json.
    tokenizer.init_kwargs["padding_side"] = side


def uses_token_type_ids(model, tokenizer) -> bool:
    """BERT-style models take segment ids; RoBERTa/XLM-R/LLaMA tokenizers do not produce them."""
    import inspect

    return ("token_type_ids" in tokenizer.model_input_names
            and "token_type_ids" in inspect.signature(model.forward).parameters)
