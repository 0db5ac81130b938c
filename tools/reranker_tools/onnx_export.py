"""PyTorch -> ONNX (fp32), plus the fp16 and dynamic-int8 variants.

torch.onnx.export (TorchScript tracer, opset 17, dynamic batch/sequence axes) rather than optimum:
it gives direct control over input names (token_type_ids only when the model uses them) and
output names, which is the contract with the Java side.

Models over `external_threshold_bytes` of weights (ONNX protobufs cannot exceed 2 GB) are saved with
external data: all tensors in one `<file>.data` next to the .onnx, which ONNX Runtime (Java too)
loads automatically from the same directory.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from .model_dir import ToolError

OPSET = 17
DEFAULT_EXTERNAL_THRESHOLD_BYTES = 1800 * 1024 * 1024  # below protobuf's hard 2 GiB limit, with headroom


class _Wrapper(torch.nn.Module):
    """Fixes the positional argument order and returns one named tensor, so the traced graph has
    exactly the contract's inputs and output."""

    def __init__(self, model, output_name: str, with_token_type_ids: bool, decoder: bool):
        super().__init__()
        self.model = model
        self.output_name = output_name
        self.with_token_type_ids = with_token_type_ids
        self.decoder = decoder

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask, "return_dict": True}
        if self.with_token_type_ids:
            kwargs["token_type_ids"] = token_type_ids
        if self.decoder:
            kwargs["use_cache"] = False  # no past_key_values outputs in a scoring graph
        return getattr(self.model(**kwargs), self.output_name)


def input_names(with_token_type_ids: bool) -> list[str]:
    return ["input_ids", "attention_mask"] + (["token_type_ids"] if with_token_type_ids else [])


def export_fp32(model, sample: dict[str, np.ndarray], path: Path, *, output_name: str, with_token_type_ids: bool,
                decoder: bool, external_threshold_bytes: int = DEFAULT_EXTERNAL_THRESHOLD_BYTES,
                module: torch.nn.Module | None = None) -> None:
    """Trace `model` on `sample` (a padded tokenized batch) and write `path` (+ external data if big).
    `module`, if given, is traced instead of the standard wrapper (causal-lm's LabelLogits)."""
    names = input_names(with_token_type_ids)
    args = tuple(torch.from_numpy(np.asarray(sample[n], dtype=np.int64)) for n in names)
    dynamic_axes = {n: {0: "batch", 1: "sequence"} for n in names}
    dynamic_axes[output_name] = {0: "batch"} if output_name == "logits" else {0: "batch", 1: "sequence"}
    wrapper = (module if module is not None else _Wrapper(model, output_name, with_token_type_ids, decoder)).eval()
    # torch writes one file per tensor for >2 GB models; trace into a scratch dir and re-save below.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".onnx-trace-") as scratch:
        traced = Path(scratch) / "traced.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            # TracerWarnings about python control flow on shapes are expected (HF code is full of them);
            # the parity check on other batch/sequence sizes is what proves the graph is shape-generic.
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapper, args, str(traced), input_names=names, output_names=[output_name],
                              dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
        proto = onnx.load(str(traced))  # pulls external tensors into memory
        save_model(proto, path, external_threshold_bytes)
    check_io(path, names, output_name)


def weights_bytes(proto: onnx.ModelProto) -> int:
    return sum(len(t.raw_data) if t.HasField("raw_data") else onnx.numpy_helper.to_array(t).nbytes
               for t in proto.graph.initializer)


def save_model(proto: onnx.ModelProto, path: Path, external_threshold_bytes: int) -> None:
    data_file = path.with_name(path.name + ".data")
    if data_file.exists():
        data_file.unlink()
    if weights_bytes(proto) > external_threshold_bytes:
        onnx.save_model(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data_file.name, size_threshold=1024)
        onnx.checker.check_model(str(path))  # path form: works beyond 2 GB
    else:
        onnx.checker.check_model(proto)
        onnx.save_model(proto, str(path))


def is_external(path: Path) -> bool:
    return path.with_name(path.name + ".data").exists()


def check_io(path: Path, expected_inputs: list[str], output_name: str) -> None:
    """The graph must expose exactly the contract's I/O: int64 [batch, sequence] inputs, float32 output."""
    proto = onnx.load(str(path), load_external_data=False)
    inputs = [(i.name, i.type.tensor_type.elem_type, len(i.type.tensor_type.shape.dim)) for i in proto.graph.input]
    got = [name for name, _, _ in inputs]
    if got != expected_inputs:
        raise ToolError(f"{path.name}: graph inputs are {got}, expected {expected_inputs} "
                        f"(an input the model ignores is dropped by the exporter)")
    for name, elem_type, rank in inputs:
        if elem_type != onnx.TensorProto.INT64 or rank != 2:
            raise ToolError(f"{path.name}: input {name} must be int64 [batch, sequence]")
    outputs = [(o.name, o.type.tensor_type.elem_type) for o in proto.graph.output]
    if outputs != [(output_name, onnx.TensorProto.FLOAT)]:
        raise ToolError(f"{path.name}: graph outputs are {outputs}, expected a single float32 {output_name!r}")


# Kept in float32 on top of the converter's own list: the ops of RMSNorm (LLaMA, Qwen) and of a
# decomposed LayerNorm. Mean of squares overflows fp16 (max 65504) once an activation passes 256, which
# large decoders' hidden states do; and with these ops in fp16, ONNX Runtime 1.23's CPU provider fails
# to load the model at all (SimplifiedLayerNormFusion looks for the cast it inserted for an fp16
# constant and does not find it: "InsertedPrecisionFreeCast_... does not exist").
FP16_KEEP_FLOAT32_OPS = ["Pow", "ReduceMean", "Sqrt"]


def export_fp16(fp32_path: Path, path: Path, external_threshold_bytes: int = DEFAULT_EXTERNAL_THRESHOLD_BYTES):
    """fp16 weights and compute, float32/int64 graph inputs and outputs (keep_io_types); normalization
    statistics stay float32 (FP16_KEEP_FLOAT32_OPS)."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    large = is_external(fp32_path)
    source = fp32_path
    if large:
        # In-memory shape inference fails beyond 2 GB; the path-based one does not. Its output refers
        # to the fp32 .data file by relative name, so it has to live next to it.
        source = fp32_path.with_name(".fp16-shape-inferred.onnx")
        onnx.shape_inference.infer_shapes_path(str(fp32_path), str(source))
    try:
        proto = onnx.load(str(source))
    finally:
        if source != fp32_path:
            source.unlink()
    rotary = rotary_nodes(proto.graph)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the model contains values beyond fp16 range" is expected
        fp16 = convert_float_to_float16(proto, keep_io_types=True, disable_shape_infer=large,
                                        op_block_list=DEFAULT_OP_BLOCK_LIST + FP16_KEEP_FLOAT32_OPS,
                                        node_block_list=sorted(rotary))
    drop_float_round_trips(fp16.graph, rotary)
    # The converter appends the casts around blocked ops at the end of the node list; ONNX requires
    # nodes in topological order (onnx.checker refuses the model otherwise).
    from onnxruntime.transformers.onnx_model import OnnxModel

    OnnxModel(fp16).topological_sort()
    save_model(fp16, path, external_threshold_bytes)


def rotary_nodes(graph: onnx.GraphProto) -> set[str]:
    """Names of the rotary embedding's nodes: Cos and Sin and everything they are computed from (position
    ids from the attention mask, the inverse-frequency constant, position x frequency). Kept in float32:
    in fp16 the angle (up to max length x 1 rad) has a step of 2 at 2,048, so RoPE would be wrong by
    whole radians at long positions (0.2 logit at 1,587 tokens on the tiny LLaMA). Only cos and sin,
    which lie in [-1, 1], go to fp16, as in transformers' own fp16 RoPE."""
    producer = {out: node for node in graph.node for out in node.output}
    stack = [node for node in graph.node if node.op_type in ("Cos", "Sin")]
    names: set[str] = set()
    while stack:
        node = stack.pop()
        if node.name in names:
            continue
        names.add(node.name)
        stack.extend(producer[i] for i in node.input if i in producer)
    return names


def drop_float_round_trips(graph: onnx.GraphProto, blocked: set[str]) -> None:
    """The converter casts every blocked node's float32 output to fp16 and back to float32 before the next
    blocked node reads it, which would put the rotary angles through fp16 anyway. Reads of such a
    Cast(fp16) -> Cast(float) pair go straight to the float32 value; casts left unread are removed."""
    producer = {out: node for node in graph.node for out in node.output}

    def cast_to(node, to):
        return node.op_type == "Cast" and any(a.name == "to" and a.i == to for a in node.attribute)

    replace, pairs = {}, set()
    for node in graph.node:
        if not cast_to(node, onnx.TensorProto.FLOAT):
            continue
        first = producer.get(node.input[0])
        if first is None or not cast_to(first, onnx.TensorProto.FLOAT16):
            continue
        source = producer.get(first.input[0])
        if source is not None and source.name in blocked:  # float32 by construction: a blocked node's output
            replace[node.output[0]] = first.input[0]
            pairs.update((node.name, first.name))
    if not replace:
        return
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in replace:
                node.input[i] = replace[name]
    graph_outputs = {o.name for o in graph.output}
    while True:
        read = {i for node in graph.node for i in node.input} | graph_outputs
        unread = [node for node in graph.node if node.name in pairs and node.output[0] not in read]
        if not unread:
            break
        for node in unread:
            graph.node.remove(node)
    live = {o for node in graph.node for o in node.output} | {i.name for i in graph.input}
    kept = [v for v in graph.value_info if v.name in live]
    del graph.value_info[:]
    graph.value_info.extend(kept)


def export_int8(fp32_path: Path, path: Path, per_channel: bool = False) -> None:
    """Dynamic quantization (QInt8 weights, activations quantized at run time): no calibration data.

    `per_channel` gives each output column of a weight matrix its own scale instead of one per tensor. On the
    bench's MiniLM-L6 cross-encoder it halved the mean |fp32 - int8| logit error (0.065 -> 0.028 on 1,000
    MED pairs) at the same speed; off by default so the other models' int8 files stay as their parity
    tolerances were set for."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger("root").setLevel(logging.ERROR)  # the "consider pre-processing" notice
    data_file = path.with_name(path.name + ".data")
    if data_file.exists():
        data_file.unlink()
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".onnx-int8-") as scratch:
        # quantize_dynamic writes helper files next to its output; keep them out of the model dir.
        out = Path(scratch) / path.name
        quantize_dynamic(str(fp32_path), str(out), weight_type=QuantType.QInt8, per_channel=per_channel,
                         use_external_data_format=is_external(fp32_path))
        shutil.move(str(out), path)
        if (Path(scratch) / data_file.name).exists():
            shutil.move(str(Path(scratch) / data_file.name), data_file)
