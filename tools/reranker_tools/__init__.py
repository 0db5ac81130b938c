"""Export cross-encoder / bi-encoder / decoder rerankers to the ONNX model directory the Java
Kafka Streams app loads, with parity checks and golden reference scores."""

__version__ = "0.1.0"
