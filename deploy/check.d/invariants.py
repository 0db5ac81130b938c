"""Cross-file invariants of deploy/ that no schema can see, checked on rendered manifests.

usage: invariants.py chart   RERANKER_CONFIG_JAVA MODE RENDERED.yaml
           MODE: cpu | gpu-keda | gpu-small | gpu-base | gpu-7b (values-gpu.yaml with a size file: gpu-keda's
           checks, and the host and GPU memory of that model size) | gpu-tensorrt
       invariants.py props   RERANKER_CONFIG_JAVA FILE.properties

Each failure names the file and what disagrees; the exit code is 1 on any failure.
"""
import re
import sys

import yaml

# Keys under these prefixes belong to the reranker itself (README "Configuration"); a typo there would
# pass through to Kafka Streams as an unknown key and be ignored, so they must be declared ones.
OWN_PREFIXES = ("topic.", "gather.", "rank.", "model.", "inference.")

failures = []

# The weights each GPU size file is for (the largest model of its class, in the format it serves): what the pod
# must stage in host memory while ONNX Runtime loads them, and what the GPU holds beside the batches.
GPU_SIZES = {
    "gpu-small": 0.5e9,   # MiniLM-, bge-small/base-class
    "gpu-base": 1.5e9,    # gte-multilingual-reranker-base (306 M) and RoBERTa-large (355 M), fp32
    "gpu-7b": 16.4e9,     # 6.7 to 8.2 B parameters in fp16 (MedAlpaca-7B / LLaMA-7B, Qwen3-Reranker-8B)
}
GIB = 1 << 30
# Beside the heap and the weights: RocksDB, CUDA's pinned buffers, metaspace and threads, native libraries.
HOST_MARGIN = 2 * GIB
# CUDA's context and workspaces outside the planned batches (MemoryAwareSizer.RESERVE_BYTES), and room for one batch.
GPU_MARGIN = 2 * GIB


def fail(message):
    failures.append(message)


def declared_keys(java_file):
    with open(java_file, encoding="utf-8") as f:
        source = f.read()
    keys = set(re.findall(r'public static final String [A-Z_]+ = "([a-z0-9.]+)";', source))
    if not keys:
        sys.exit(f"invariants: no config keys found in {java_file}: has RerankerConfig changed shape?")
    return keys


def parse_properties(text):
    props = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            fail(f"properties line without '=': {raw!r}")
            continue
        props[key.strip()] = value.strip()
    return props


def check_own_keys(where, props, declared):
    for key in props:
        if key.startswith(OWN_PREFIXES) and key not in declared:
            fail(f"{where}: {key} looks like a reranker key but RerankerConfig declares no such key")


def quantity(text):
    """A Kubernetes memory quantity ("24Gi", "8G", "512Mi", "1073741824") in bytes."""
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    text = str(text)
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def check_gpu_size(rendered, mode, props, pod, container):
    weights = GPU_SIZES[mode]
    resources = container.get("resources", {})
    limit = resources.get("limits", {}).get("memory")
    request = resources.get("requests", {}).get("memory")
    if limit is None or quantity(limit) != quantity(request or 0):
        fail(f"{rendered}: memory requests {request} and limits {limit} must be set and equal (the pod stages the weights)")
        return
    options = next((e["value"] for e in container.get("env", []) if e["name"] == "JDK_JAVA_OPTIONS"), "")
    match = re.search(r"-XX:MaxRAMPercentage=([0-9.]+)", options)
    heap = quantity(limit) * float(match.group(1)) / 100 if match else quantity(limit) / 4
    if quantity(limit) - heap < weights + HOST_MARGIN:
        fail(f"{rendered}: host memory {limit} less the heap ({heap / GIB:.1f} GiB) leaves "
             f"{(quantity(limit) - heap) / GIB:.1f} GiB, but staging {weights / 1e9:.1f} GB of weights needs "
             f"{(weights + HOST_MARGIN) / GIB:.1f} GiB with RocksDB and CUDA's buffers: raise resources.limits.memory")
    if not pod["spec"].get("runtimeClassName"):
        fail(f"{rendered}: a GPU size file must name gpu.runtimeClassName (the NVIDIA container runtime)")
    planned = float(props.get("inference.gpu.memory.bytes", 0))
    if planned < weights + GPU_MARGIN:
        fail(f"{rendered}: inference.gpu.memory.bytes={planned:.0f} leaves less than {GPU_MARGIN / GIB:.0f} GiB beside "
             f"{weights / 1e9:.1f} GB of weights for CUDA and the batches: raise gpu.memoryBytes")
    arena = float(props.get("inference.cuda.gpu.mem.limit.bytes", 0))
    if arena and arena < planned:
        fail(f"{rendered}: inference.cuda.gpu.mem.limit.bytes={arena:.0f} is below the {planned:.0f} bytes the batches are "
             f"planned in: the arena would refuse planned batches")
    terms = (pod["spec"].get("affinity", {}).get("nodeAffinity", {})
             .get("requiredDuringSchedulingIgnoredDuringExecution", {}).get("nodeSelectorTerms", []))
    floors = [float(e["values"][0]) for t in terms for e in t.get("matchExpressions", [])
              if e.get("key") == "nvidia.com/gpu.memory" and e.get("operator") == "Gt"]
    if not floors or min(floors) * (1 << 20) < planned:
        fail(f"{rendered}: no node affinity on nvidia.com/gpu.memory > {planned / (1 << 20):.0f} MiB: the pod could land "
             f"on a card smaller than the {planned / GIB:.0f} GiB its batches are planned in")
    startup = container.get("startupProbe", {})
    if weights > 4e9 and startup.get("periodSeconds", 0) * startup.get("failureThreshold", 0) < 600:
        fail(f"{rendered}: {weights / 1e9:.1f} GB of weights take minutes to load; the startup probe allows "
             f"{startup.get('periodSeconds', 0) * startup.get('failureThreshold', 0)} s (at least 600 expected)")


def check_chart(java_file, mode, rendered):
    declared = declared_keys(java_file)
    with open(rendered, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    if "Secret" in by_kind:
        fail(f"{rendered}: the chart renders a Secret; credentials must come from existing Secrets")
    for kind in ("ConfigMap", "Deployment", "Service"):
        if len(by_kind.get(kind, [])) != 1:
            fail(f"{rendered}: expected one {kind}, found {len(by_kind.get(kind, []))}")
    if failures:
        return
    configmap, deployment, service = by_kind["ConfigMap"][0], by_kind["Deployment"][0], by_kind["Service"][0]
    text = configmap["data"]["reranker.properties"]
    if re.search(r"password|jaas|user\.info=", text, re.IGNORECASE):
        fail(f"{rendered}: reranker.properties mentions a credential")
    props = parse_properties(text)
    check_own_keys(f"{rendered} ConfigMap", props, declared)

    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    http_port = ports.get("http")
    if str(http_port) != props.get("admin.port"):
        fail(f"{rendered}: containerPort http={http_port} but admin.port={props.get('admin.port')}")
    # The app binds loopback by default; the kubelet's probes come from outside the pod's loopback.
    if props.get("admin.bind.address", "127.0.0.1").startswith("127.") or props.get("admin.bind.address") == "localhost":
        fail(f"{rendered}: admin.bind.address={props.get('admin.bind.address')} would hide /health/* from the kubelet")
    if props.get("admin.reload.enabled") == "true":
        fail(f"{rendered}: admin.reload.enabled=true exposes an unauthenticated reload to the cluster network")
    annotations = pod["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != str(http_port) \
            or annotations.get("prometheus.io/path") != "/metrics":
        fail(f"{rendered}: prometheus.io annotations {annotations} do not match port {http_port} and /metrics")
    for probe, path in (("startupProbe", "/health/live"), ("livenessProbe", "/health/live"),
                        ("readinessProbe", "/health/ready")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") != "http":
            fail(f"{rendered}: {probe} is {get}, expected {path} on port http")
    if service["spec"]["ports"][0]["targetPort"] != "http":
        fail(f"{rendered}: the Service does not target the http port")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    for path in ("/etc/reranker", "/tmp", props.get("state.dir")):
        if path not in mounts:
            fail(f"{rendered}: nothing is mounted at {path}, which the app writes or reads")
    if "model.dir" in props and not any(props["model.dir"].startswith(p + "/") for p in mounts):
        fail(f"{rendered}: model.dir={props['model.dir']} is not under any mounted volume")

    limits = container.get("resources", {}).get("limits", {})
    requests = container.get("resources", {}).get("requests", {})
    scaled = by_kind.get("ScaledObject", [])
    if mode == "cpu":
        if "nvidia.com/gpu" in limits or "nvidia.com/gpu" in requests:
            fail(f"{rendered}: a CPU release requests nvidia.com/gpu")
        if props.get("inference.device") != "cpu":
            fail(f"{rendered}: inference.device={props.get('inference.device')} on a CPU release, expected cpu")
        if scaled:
            fail(f"{rendered}: a ScaledObject is rendered with autoscaling.keda.enabled=false")
        if "replicas" not in deployment["spec"]:
            fail(f"{rendered}: without KEDA the Deployment needs replicas")
    elif mode == "gpu-tensorrt":
        if props.get("inference.tensorrt.enabled") != "true":
            fail(f"{rendered}: gpu.tensorrt.enabled but inference.tensorrt.enabled={props.get('inference.tensorrt.enabled')}")
        if not container["image"].strip('"').endswith("-gpu-tensorrt"):
            fail(f"{rendered}: TensorRT runs image {container['image']}, which lacks libnvinfer.so.10 (expected *-gpu-tensorrt)")
        cache = props.get("inference.tensorrt.engine.cache.dir")
        if not cache or cache not in mounts:
            fail(f"{rendered}: the TensorRT engine cache {cache} is not a mounted volume (the root filesystem is read-only)")
    elif mode == "gpu-keda" or mode in GPU_SIZES:
        if mode in GPU_SIZES:
            check_gpu_size(rendered, mode, props, pod, container)
        if limits.get("nvidia.com/gpu") != 1 or requests.get("nvidia.com/gpu") != 1:
            fail(f"{rendered}: expected nvidia.com/gpu: 1 in limits and requests, got {limits} / {requests}")
        if props.get("inference.device") != "cuda":
            fail(f"{rendered}: inference.device={props.get('inference.device')} on a GPU release, expected cuda")
        if not container["image"].strip('"').endswith("-gpu"):
            fail(f"{rendered}: a GPU release runs image {container['image']}")
        tolerations = pod["spec"].get("tolerations", [])
        if not any(t.get("key") == "nvidia.com/gpu" for t in tolerations):
            fail(f"{rendered}: no toleration for the nvidia.com/gpu taint")
        if "replicas" in deployment["spec"]:
            fail(f"{rendered}: with KEDA the Deployment must leave replicas to the HPA")
        if len(scaled) != 1:
            fail(f"{rendered}: expected one ScaledObject, found {len(scaled)}")
            return
        spec = scaled[0]["spec"]
        trigger = spec["triggers"][0]["metadata"]
        if spec["scaleTargetRef"]["name"] != deployment["metadata"]["name"]:
            fail(f"{rendered}: the ScaledObject targets {spec['scaleTargetRef']['name']}, "
                 f"not the Deployment {deployment['metadata']['name']}")
        if trigger["consumerGroup"] != props.get("application.id"):
            fail(f"{rendered}: KEDA watches group {trigger['consumerGroup']} but application.id={props.get('application.id')}")
        if trigger["topic"] != props.get("topic.candidates"):
            fail(f"{rendered}: KEDA watches topic {trigger['topic']} but topic.candidates={props.get('topic.candidates')}")
        if trigger["bootstrapServers"] != props.get("bootstrap.servers"):
            fail(f"{rendered}: KEDA's bootstrapServers differ from bootstrap.servers")
        if trigger.get("allowIdleConsumers") != "false":
            fail(f"{rendered}: allowIdleConsumers must stay false (pods beyond the partitions sit idle)")
        env = {e["name"]: e for e in container.get("env", [])}
        if props.get("security.protocol", "").startswith("SASL"):
            if "RERANKER_SASL_JAAS_CONFIG" not in env or "authenticationRef" not in scaled[0]["spec"]["triggers"][0]:
                fail(f"{rendered}: SASL is on but the pod has no RERANKER_SASL_JAAS_CONFIG or KEDA no authenticationRef")
            if len(by_kind.get("TriggerAuthentication", [])) != 1:
                fail(f"{rendered}: SASL is on but no TriggerAuthentication is rendered")
    else:
        sys.exit(f"invariants: unknown mode {mode}")


def main(argv):
    if len(argv) == 5 and argv[1] == "chart":
        check_chart(argv[2], argv[3], argv[4])
    elif len(argv) == 4 and argv[1] == "props":
        with open(argv[3], encoding="utf-8") as f:
            check_own_keys(argv[3], parse_properties(f.read()), declared_keys(argv[2]))
    else:
        sys.exit(__doc__)
    for message in failures:
        print(f"invariants: {message}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
