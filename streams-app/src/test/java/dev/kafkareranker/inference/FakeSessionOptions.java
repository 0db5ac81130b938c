package dev.kafkareranker.inference;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Stands in for ONNX Runtime's OrtSession.SessionOptions on a GPU node, which this workplace lacks: records
 * the threads and providers it is given, and refuses TensorRT or CUDA with ONNX Runtime 1.23.2's own messages
 * when told their libraries are missing.
 */
final class FakeSessionOptions implements SessionSetup.Target {
    final List<String> calls = new ArrayList<>();
    boolean tensorRtLibrariesMissing;
    boolean cudaLibrariesMissing;
    Map<String, String> tensorRt;
    Map<String, String> cuda;
    int intraOpThreads = -1;
    OpSpinning spinning;

    @Override
    public void setIntraOpThreads(int threads) {
        calls.add("intra " + threads);
        intraOpThreads = threads;
    }

    @Override
    public void setInterOpThreads(int threads) {
        calls.add("inter " + threads);
    }

    @Override
    public void setSpinning(OpSpinning value) {
        spinning = value;
    }

    @Override
    public void addTensorRt(Map<String, String> options) throws Exception {
        calls.add("tensorrt");
        if (tensorRtLibrariesMissing) {
            // ONNX Runtime 1.23.2's message when dlopen of its TensorRT provider fails (provider_bridge_ort.cc).
            throw new ai.onnxruntime.OrtException("Error code - ORT_FAIL - message: /onnxruntime_src/onnxruntime/core/session/"
                    + "provider_bridge_ort.cc:1844 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : "
                    + "FAIL : Failed to load library libonnxruntime_providers_tensorrt.so with error: libnvinfer.so.10: cannot open "
                    + "shared object file: No such file or directory");
        }
        tensorRt = options;
    }

    @Override
    public void addCuda(Map<String, String> options) throws Exception {
        calls.add("cuda");
        if (cudaLibrariesMissing) {
            throw new ai.onnxruntime.OrtException("Error code - ORT_FAIL - message: /onnxruntime_src/onnxruntime/core/session/"
                    + "provider_bridge_ort.cc:1844 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : "
                    + "FAIL : Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared "
                    + "object file: No such file or directory");
        }
        cuda = options;
    }
}
