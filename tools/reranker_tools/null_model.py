"""Writes a near-zero-cost reranker graph for the bench's feed-capacity phase (e).

It takes the pipeline's contract inputs (input_ids, attention_mask, token_type_ids: int64 [batch, seq])
and returns logits [batch, 1]: the row's largest attention-mask value as a float, i.e. 1.0 for every
real row. One reduction over the mask costs microseconds, so with it the pipeline measures everything
around the model: tokenizing, batching, padding, Kafka, transactions.

Usage: python -m reranker_tools.null_model OUT.onnx
The bench ships the output as a resource (streams-app/src/main/resources/dev/kafkareranker/bench/).
"""
import sys

import onnx
from onnx import TensorProto, helper


def build() -> onnx.ModelProto:
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
              for name in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("ReduceMax", ["attention_mask", "axes"], ["row_max"], keepdims=1),
        helper.make_node("Cast", ["row_max"], ["logits"], to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(nodes, "null_reranker", inputs, [output], initializer=[axes])
    # Opset 18: ReduceMax takes its axes as an input; ONNX Runtime 1.23 runs it on every provider.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="kafka-reranker-null-model")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main(argv) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    onnx.save(build(), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
