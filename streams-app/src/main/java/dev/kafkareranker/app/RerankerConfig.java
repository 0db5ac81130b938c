package dev.kafkareranker.app;

import dev.kafkareranker.gather.GatherSettings;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.GpuOptions;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.OpSpinning;
import dev.kafkareranker.model.BundledModel;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelOverrides;
import dev.kafkareranker.model.ModelDirectory.Variant;
import dev.kafkareranker.serving.ModelRegistry;
import java.util.List;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;
import dev.kafkareranker.gather.CountingExceptionHandlers;

/**
 * The reranker's own settings, each declared once with type, default, validator and doc. Every other
 * key (Kafka Streams, clients, security, Schema Registry) is passed through unchanged to Kafka Streams
 * and to the serdes.
 */
public final class RerankerConfig extends AbstractConfig {

    public static final String TOPIC_CANDIDATES = "topic.candidates";
    public static final String TOPIC_RESULTS = "topic.results";
    public static final String TOPIC_DEAD_LETTERS = "topic.dead.letters";
    public static final String GATHER_MAX_WAIT_MS = "gather.max.wait.ms";
    public static final String INSTANCE_ID = "instance.id";
    public static final String GATHER_PUNCTUATE_INTERVAL_MS = "gather.punctuate.interval.ms";
    public static final String GATHER_MAX_CANDIDATES_PER_QUERY = "gather.max.candidates.per.query";
    public static final String GATHER_MAX_PENDING_QUERIES = "gather.max.pending.queries";
    public static final String GATHER_MAX_PASSAGE_CHARS = "gather.max.passage.chars";
    public static final String GATHER_EMITTED_RETENTION_MS = "gather.emitted.retention.ms";
    public static final String GATHER_MAX_IN_FLIGHT_QUERIES = "gather.max.in.flight.queries";
    public static final String GATHER_SCORING_OVERLAP = "gather.scoring.overlap";
    public static final String GATHER_INPUT_COPARTITIONED = "gather.input.copartitioned";
    public static final String GATHER_WATERMARK_INTERVAL_MS = "gather.watermark.interval.ms";
    public static final String GATHER_WATERMARK_MAX_HOLD_MS = "gather.watermark.max.hold.ms";
    public static final String GATHER_MAX_ID_CHARS = "gather.max.id.chars";
    public static final String GATHER_MAX_METADATA_CHARS = "gather.max.metadata.chars";
    public static final String RESULTS_MAX_BYTES = "results.max.bytes";
    public static final String DEAD_LETTERS_MAX_BYTES = CountingExceptionHandlers.MAX_BYTES_CONFIG;
    public static final String RANK_TOP_K = "rank.top.k";
    public static final String MODEL_DIR = "model.dir";
    public static final String MODELS = "models";
    public static final String MODEL_DEFAULT = "model.default";
    public static final String MODELS_DEFAULT_BY_TOPIC = "models.default.by.topic";
    public static final String MODELS_WATCH_INTERVAL_MS = "models.watch.interval.ms";
    /** Per served model: model.NAME.dir (required) and ModelSettings' other keys; model.KEY for the single model.dir model's document keys. */
    public static final String MODEL_PREFIX = "model.";
    public static final String INFERENCE_DEVICE = "inference.device";
    public static final String INFERENCE_MODEL_VARIANT = "inference.model.variant";
    public static final String INFERENCE_INTRA_OP_THREADS = "inference.intra.op.threads";
    public static final String INFERENCE_INTER_OP_THREADS = "inference.inter.op.threads";
    public static final String INFERENCE_OP_SPINNING = "inference.op.spinning";
    public static final String INFERENCE_BATCH_MAX_ROWS = "inference.batch.max.rows";
    public static final String INFERENCE_BATCH_MAX_TOKENS = "inference.batch.max.tokens";
    public static final String INFERENCE_BATCH_MAX_DELAY_MS = "inference.batch.max.delay.ms";
    public static final String INFERENCE_BATCH_MAX_PADDING_RATIO = "inference.batch.max.padding.ratio";
    public static final String VALUE_SERDE_CLASS = "value.serde.class";
    public static final String ADMIN_PORT = "admin.port";
    // Model health, hot-swap safety and the admin endpoint's exposure (issue 12).
    public static final String INFERENCE_BATCH_TIMEOUT_MS = "inference.batch.timeout.ms";
    public static final String INFERENCE_REQUEST_TIMEOUT_MS = "inference.request.timeout.ms";
    public static final String INFERENCE_BREAKER_FAILURES = "inference.breaker.failures";
    public static final String INFERENCE_BREAKER_BACKOFF_MS = "inference.breaker.backoff.ms";
    public static final String MODELS_WATCH_SETTLE_MS = "models.watch.settle.ms";
    // Feeding a GPU (issue 15).
    public static final String INFERENCE_TOKENIZER_THREADS = "inference.tokenizer.threads";
    public static final String INFERENCE_QUEUE_MAX_ROWS = "inference.queue.max.rows";
    public static final String INFERENCE_CUDA_GPU_MEM_LIMIT_BYTES = "inference.cuda.gpu.mem.limit.bytes";
    public static final String INFERENCE_CUDA_ARENA_EXTEND_STRATEGY = "inference.cuda.arena.extend.strategy";
    public static final String INFERENCE_CUDA_CUDNN_CONV_ALGO_SEARCH = "inference.cuda.cudnn.conv.algo.search";
    public static final String INFERENCE_CUDA_COPY_IN_DEFAULT_STREAM = "inference.cuda.copy.in.default.stream";
    public static final String INFERENCE_TENSORRT_ENABLED = "inference.tensorrt.enabled";
    public static final String INFERENCE_TENSORRT_ENGINE_CACHE_DIR = "inference.tensorrt.engine.cache.dir";
    public static final String INFERENCE_TENSORRT_FP16 = "inference.tensorrt.fp16";
    public static final String INFERENCE_GPU_MEMORY_BYTES = "inference.gpu.memory.bytes";
    public static final String ADMIN_BIND_ADDRESS = "admin.bind.address";
    public static final String ADMIN_RELOAD_ENABLED = "admin.reload.enabled";
    // Start-up checks: the topics, the broker (Preflight).
    public static final String TOPICS_CREATE = "topics.create";
    public static final String TOPICS_CREATE_PARTITIONS = "topics.create.partitions";
    public static final String TOPICS_CREATE_REPLICATION_FACTOR = "topics.create.replication.factor";
    public static final String STARTUP_BROKER_TIMEOUT_MS = "startup.broker.timeout.ms";

    /** Prefix of environment variables that override file settings: RERANKER_GATHER_MAX_WAIT_MS=2000. */
    public static final String ENV_PREFIX = "RERANKER_";

    static final ConfigDef DEFINITION = new ConfigDef()
            .define(TOPIC_CANDIDATES, Type.STRING, Topics.DEFAULT_CANDIDATES, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Topic of RetrievalCandidate events, ideally keyed by query_id (others are re-keyed).")
            .define(TOPIC_RESULTS, Type.STRING, Topics.DEFAULT_RESULTS, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Topic RankedResults are written to, keyed by query_id.")
            .define(TOPIC_DEAD_LETTERS, Type.STRING, Topics.DEFAULT_DEAD_LETTERS, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Dead-letter topic: Kafka Streams' built-in dead-letter queue and the pipeline's own dead letters.")
            .define(GATHER_MAX_WAIT_MS, Type.LONG, 5_000L, Range.atLeast(1), Importance.HIGH,
                    "A query is emitted this long after its first candidate even when fewer than candidate_count arrived (complete=false).")
            .define(GATHER_PUNCTUATE_INTERVAL_MS, Type.LONG, 100L, Range.atLeast(1), Importance.LOW,
                    "How often max-wait deadlines are checked (wall clock); an incomplete query may wait this much longer than gather.max.wait.ms.")
            .define(GATHER_MAX_CANDIDATES_PER_QUERY, Type.INT, 1_000, Range.atLeast(1), Importance.MEDIUM,
                    "A query holding this many candidates is emitted at once (complete=false): bounds the state one query takes.")
            .define(GATHER_MAX_PENDING_QUERIES, Type.INT, 10_000, Range.atLeast(1), Importance.MEDIUM,
                    "Per task: when a new query would exceed this many pending queries, the oldest pending one is emitted at once (complete=false).")
            .define(GATHER_MAX_PASSAGE_CHARS, Type.INT, 65_536, Range.atLeast(1), Importance.MEDIUM,
                    "Passage and query texts are cut to this many characters on arrival: far beyond what a model reads (its max length in tokens), it bounds state and changelog record size.")
            .define(GATHER_EMITTED_RETENTION_MS, Type.LONG, 600_000L, Range.atLeast(0), Importance.LOW,
                    "How long an emitted query is remembered: a candidate for it arriving within this time goes to the dead-letter topic as late-candidate; after it, it starts a new query.")
            .define(GATHER_MAX_IN_FLIGHT_QUERIES, Type.INT, 16, Range.atLeast(1), Importance.LOW,
                    "Per task: queries handed to the model and not yet written out. The stream thread never waits for scores; beyond this many, ready queries wait in the store (in order) and are handed over as others finish, and once as many again wait, the input is paused until the model catches up. Bounds memory when the model is slower than the input.")
            .define(GATHER_SCORING_OVERLAP, Type.STRING, "auto", ConfigDef.ValidString.in("auto", "on", "off"), Importance.LOW,
                    "No longer has an effect (accepted, with a warning, so that existing files keep working): a stream thread always hands a ready query to its model and goes on gathering, on every device.")
            .define(GATHER_INPUT_COPARTITIONED, Type.BOOLEAN, false, Importance.LOW,
                    "No longer has an effect (accepted, with a warning, so that existing files keep working): every record keyed by its query_id that already sits on the partition Java's partitioner (murmur2) picks for that key skips the repartition topic, checked for each record; the others are re-keyed.")
            .define(GATHER_WATERMARK_INTERVAL_MS, Type.LONG, GatherSettings.DEFAULT_WATERMARK_INTERVAL.toMillis(), Range.between(10L, 60_000L), Importance.LOW,
                    "How often each intake task tells every gathering task how far in event time it has read its input partition: one small record per input partition and repartition partition, sent when it moved on, and at least every second while nothing changes. A query's max wait passes only once every input partition that can feed it has passed its deadline, so an incomplete query can wait this much longer than gather.max.wait.ms. The records grow with the partition count squared: 16 a second for 4 partitions, 144 for 12.")
            .define(GATHER_WATERMARK_MAX_HOLD_MS, Type.LONG, GatherSettings.DEFAULT_WATERMARK_MAX_HOLD.toMillis(), Range.atLeast(5_000L), Importance.LOW,
                    "The longest an input partition whose intake task is not running (its instance left, died, or is rebalancing) holds queries past their max wait: their remaining candidates may be in it. After it the wall clock decides. Keep it above session.timeout.ms plus a restart, or queries gathering across a crash can come out incomplete.")
            .define(GATHER_MAX_ID_CHARS, Type.INT, 1_024, Range.atLeast(1), Importance.LOW,
                    "A candidate whose query_id or doc_id is longer than this many characters is a dead letter (reason id-too-long): ids are store and changelog keys.")
            .define(GATHER_MAX_METADATA_CHARS, Type.INT, 65_536, Range.atLeast(0), Importance.LOW,
                    "A candidate whose metadata keys and values add up to more characters than this is a dead letter (reason metadata-too-large): metadata is stored while the query gathers and copied into its result.")
            .define(RESULTS_MAX_BYTES, Type.INT, 1_000_000, Range.atLeast(1024), Importance.LOW,
                    "A result is kept within about this many bytes (below the producer's max.request.size, 1 MiB by default): the lowest-ranked documents' metadata, then those documents, are cut, and RankedResults.truncated says what was cut.")
            .define(DEAD_LETTERS_MAX_BYTES, Type.INT, CountingExceptionHandlers.DEFAULT_MAX_BYTES, Range.atLeast(4096), Importance.LOW,
                    "A dead letter (value, key and headers) is cut to fit this many bytes, with header rerank.dlq.truncated giving the original sizes; keep it below the producer's max.request.size and the topic's max.message.bytes.")
            .define(RANK_TOP_K, Type.INT, 10, Importance.HIGH,
                    "Results kept per query when its candidates name no top_k; 0 or less keeps all.")
            .define(MODEL_DIR, Type.STRING, "", Importance.HIGH,
                    "Model directory (model.onnx, tokenizer.json, config.json, reranker.json); empty = the bundled bge-small-en-v1.5 bi-encoder.")
            .define(MODELS, Type.LIST, "", Importance.HIGH,
                    "Names of several served models, each configured as model.NAME.dir (required) and the optional keys of the per-model table (model.NAME.device, model.NAME.variant, model.NAME.long.documents, ...); empty = one model from model.dir.")
            .define(MODEL_DEFAULT, Type.STRING, "", Importance.MEDIUM,
                    "The model for candidates whose model field is null; empty = the first of models.")
            .define(MODELS_DEFAULT_BY_TOPIC, Type.LIST, "", Importance.LOW,
                    "topic:model pairs: the model for candidates from that topic whose model field is null (topic.candidates may list several topics).")
            .define(MODELS_WATCH_INTERVAL_MS, Type.LONG, 10_000L, Range.atLeast(0), Importance.LOW,
                    "How often model directories are checked for changes (new files are loaded, warmed up and swapped in); 0 = never.")
            .define(INFERENCE_DEVICE, Type.STRING, "auto", Importance.HIGH,
                    "auto (CUDA if it loads, else CPU with one WARN line), cpu, cuda or cuda:N (required: fails without a GPU).")
            .define(INFERENCE_MODEL_VARIANT, Type.STRING, "auto", ValidString.in("auto", "fp32", "fp16", "int8"), Importance.MEDIUM,
                    "ONNX file to load: auto = model.fp16.onnx on CUDA when present, else model.onnx; fp32, fp16, int8 pick model.onnx, model.fp16.onnx, model.int8.onnx.")
            .define(INFERENCE_INTRA_OP_THREADS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
                    "ONNX Runtime threads within an operator; 0 = one per core this JVM may use on the CPU (its CPU quota or affinity mask: ONNX Runtime's own default counts the machine's cores and ignores a container's CPU limit), 1 on a GPU (the kernels run on the device; more threads only spin beside the tokenizers).")
            .define(INFERENCE_INTER_OP_THREADS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
                    "ONNX Runtime threads across operators; 0 = ONNX Runtime's default.")
            .define(INFERENCE_OP_SPINNING, Type.STRING, OpSpinning.WHILE_RUNNING.configValue(), ValidString.in(OpSpinning.configValues()), Importance.LOW,
                    "When ONNX Runtime's pool threads spin (poll for work instead of sleeping): while-running = during a model run, stopping when it returns; always = also between runs (ONNX Runtime's default), which burns CPU on an idle node after each burst of runs; never = always sleep, so each operator waits for its threads to wake. On the bench the three gave the same latency and throughput within run-to-run noise; docs/benchmarks.md has the figures.")
            .define(INFERENCE_BATCH_MAX_ROWS, Type.INT, 32, Range.atLeast(1), Importance.MEDIUM,
                    "Most sequences in one model run. When none of inference.batch.max.rows, .max.tokens and .max.padding.ratio is set, a session that opens on CUDA uses 256 rows, 65536 tokens and padding 1.5 instead (docs/benchmarks.md, GPU defaults).")
            .define(INFERENCE_BATCH_MAX_TOKENS, Type.INT, 8_192, Range.atLeast(1), Importance.MEDIUM,
                    "Most rows x padded length in one model run: bounds activation memory whatever the passage lengths.")
            .define(INFERENCE_BATCH_MAX_DELAY_MS, Type.LONG, 2L, Range.atLeast(0), Importance.MEDIUM,
                    "How long a batch that is not full waits for rows of other stream threads' queries.")
            .define(INFERENCE_BATCH_MAX_PADDING_RATIO, Type.DOUBLE, 1.1, Range.atLeast(1), Importance.LOW,
                    "Most padded over real tokens in one batch: a batch closes before a much longer row would pad it beyond this.")
            .define(ADMIN_PORT, Type.INT, 8080, Range.atLeast(-1), Importance.MEDIUM,
                    "Port of /metrics, /health/live, /health/ready and /admin/models/NAME/reload; 0 = any free port, -1 = off.")
            // Model health, hot-swap safety and the admin endpoint's exposure (issue 12).
            .define(INFERENCE_BATCH_TIMEOUT_MS, Type.LONG, 30_000L, Range.atLeast(1), Importance.MEDIUM,
                    "A model call running longer is abandoned (ONNX Runtime is asked to terminate it, later batches run on a new thread) and its queries fail as a model fault. Generous: a full batch of long passages on a large model on a CPU takes seconds.")
            .define(INFERENCE_REQUEST_TIMEOUT_MS, Type.LONG, 120_000L, Range.atLeast(1), Importance.LOW,
                    "A query's scores not in after this long fail it as a model fault, whatever queue is ahead of it: no stream thread waits for a model forever.")
            .define(INFERENCE_BREAKER_FAILURES, Type.INT, 3, Range.atLeast(1), Importance.MEDIUM,
                    "Model faults in a row (a failed batch whose probe batch failed too, or a timeout) that open the model's circuit breaker: /health/ready turns 503 and the model refuses work until a probe batch succeeds or a new version loads.")
            .define(INFERENCE_BREAKER_BACKOFF_MS, Type.LONG, 5_000L, Range.atLeast(1), Importance.LOW,
                    "How long an open circuit breaker waits before the engine runs its own probe batch; doubles after each failed probe, up to 16 times this.")
            .define(INFERENCE_TOKENIZER_THREADS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
                    "Threads that tokenize requests for all stream threads (a request's passages are split across them); 0 = one per core.")
            .define(INFERENCE_QUEUE_MAX_ROWS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
                    "Soft bound of each model's queue, in rows (passages) handed to it and not yet running: while reached, the model reports no room and the app pauses its input; work handed over anyway is still taken, so nothing waits or fails for it. 0 = two pools of full batches, 2 x 4 x inference.batch.max.rows (256 rows on a CPU, 2048 on CUDA by default): one pool gathering while one runs keeps batches full and sorted; more only lengthens every new query's wait.")
            .define(INFERENCE_CUDA_GPU_MEM_LIMIT_BYTES, Type.LONG, 0L, Range.atLeast(0), Importance.LOW,
                    "CUDA provider gpu_mem_limit: most bytes ONNX Runtime's GPU arena may hold; 0 = no limit. Also TensorRT's workspace limit.")
            .define(INFERENCE_CUDA_ARENA_EXTEND_STRATEGY, Type.STRING, "kNextPowerOfTwo",
                    ConfigDef.ValidString.in("kNextPowerOfTwo", "kSameAsRequested"), Importance.LOW,
                    "CUDA provider arena_extend_strategy: kSameAsRequested wastes less memory on a GPU shared with other processes.")
            .define(INFERENCE_CUDA_CUDNN_CONV_ALGO_SEARCH, Type.STRING, "HEURISTIC",
                    ConfigDef.ValidString.in("EXHAUSTIVE", "HEURISTIC", "DEFAULT"), Importance.LOW,
                    "CUDA provider cudnn_conv_algo_search; transformers have almost no convolutions, so the exhaustive first-run search buys nothing.")
            .define(INFERENCE_CUDA_COPY_IN_DEFAULT_STREAM, Type.BOOLEAN, true, Importance.LOW,
                    "CUDA provider do_copy_in_default_stream: copies ordered with compute on one stream.")
            .define(INFERENCE_TENSORRT_ENABLED, Type.BOOLEAN, false, Importance.LOW,
                    "Run the graph with TensorRT first (nodes it cannot take run on CUDA); only when the session opens on a GPU.")
            .define(INFERENCE_TENSORRT_ENGINE_CACHE_DIR, Type.STRING, "", Importance.LOW,
                    "Where TensorRT keeps its built engines and timing cache, so a restart does not rebuild them; empty = no cache.")
            .define(INFERENCE_TENSORRT_FP16, Type.BOOLEAN, true, Importance.LOW,
                    "Whether TensorRT may build fp16 kernels.")
            .define(INFERENCE_GPU_MEMORY_BYTES, Type.LONG, GpuOptions.DEFAULT_MEMORY_BYTES, Range.atLeast(1L << 30), Importance.MEDIUM,
                    "GPU memory each model's batches are planned in (weights, attention scores, activations; docs/gpu.md): batches on a GPU hold no more rows than their estimated memory allows at the top of their width class. The default, 22 GiB, fits a 24 GB card for every seed model; set your card's memory (e.g. 80 GiB for an 80 GB H100) for larger batches, or a share of it when models share a GPU. Capped by inference.cuda.gpu.mem.limit.bytes when that is set.")
            .define(MODELS_WATCH_SETTLE_MS, Type.LONG, 30_000L, Range.atLeast(0), Importance.LOW,
                    "A changed model directory is loaded only after no file in it changed (name, size, modification time) for this long, so a slow or paused copy is never loaded half-done. Copying into a new directory and switching a symlink to it is atomic and needs no settling.")
            .define(ADMIN_BIND_ADDRESS, Type.STRING, "127.0.0.1", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
                    "Address the admin endpoint listens on: loopback by default, so nothing off the host reaches it; 0.0.0.0 for Kubernetes probes and Prometheus (the Helm chart sets it).")
            .define(ADMIN_RELOAD_ENABLED, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Whether POST /admin/models/NAME/reload is served (it loads a full model copy and is not authenticated); off, it answers 403 and models.watch.interval.ms still reloads changed directories.")
            .define(INSTANCE_ID, Type.STRING, "", Importance.MEDIUM,
                    "A name for this instance that stays the same across its restarts (the Helm chart passes the pod name): Kafka's static membership (group.instance.id, one per stream thread with its index appended). A restarted instance then gets its tasks back at once, without a rebalance and without waiting out its old session; it stays in the group when it stops cleanly, so an instance that never comes back holds its tasks for session.timeout.ms. Empty (default): a name is derived from the host name and an id kept in state.dir (logged at start), the same across restarts that keep state.dir; such an instance leaves the group when it stops cleanly. Set it by hand when state.dir does not survive a restart but the name should (a StatefulSet without a volume), or when a clean stop should keep the instance's place in the group (a restart in place). group.instance.id, when set, wins.")
            .define(TOPICS_CREATE, Type.BOOLEAN, false, Importance.MEDIUM,
                    "At start, create the candidates, results and dead-letter topics that do not exist (with topics.create.partitions and topics.create.replication.factor). false: a missing topic ends run with one line naming it and how to create it.")
            .define(TOPICS_CREATE_PARTITIONS, Type.INT, 4, Range.atLeast(1), Importance.MEDIUM,
                    "Partitions of the topics topics.create makes. The candidates topic's count is the most stream threads, over all instances, that can share the work (docs/benchmarks.md, sizing).")
            .define(TOPICS_CREATE_REPLICATION_FACTOR, Type.SHORT, (short) -1, Range.atLeast(-1), Importance.MEDIUM,
                    "Replication factor of the topics topics.create makes; -1 = the broker's default.replication.factor.")
            .define(STARTUP_BROKER_TIMEOUT_MS, Type.LONG, 15_000L, Range.atLeast(1), Importance.MEDIUM,
                    "At start, how long run waits for the brokers in bootstrap.servers to answer before it ends with one line naming them (exit 2).")
            .define(VALUE_SERDE_CLASS, Type.CLASS, "dev.kafkareranker.serde.SpecificAvroSerde", Importance.MEDIUM,
                    "Serde for Avro values; io.confluent.kafka.streams.serdes.avro.SpecificAvroSerde works too, with the same keys.");

    private final Map<String, Object> originals;

    public RerankerConfig(Map<String, ?> props) {
        super(DEFINITION, props, false);
        this.originals = new HashMap<>(props);
        Device.parse(getString(INFERENCE_DEVICE));
    }

    /** Reads a properties file, then applies RERANKER_* environment overrides. */
    public static RerankerConfig load(Optional<Path> file, Map<String, String> env) {
        Map<String, Object> props = new HashMap<>();
        if (file.isPresent()) {
            Properties fromFile = new Properties();
            try (Reader reader = Files.newBufferedReader(file.get())) {
                fromFile.load(reader);
            } catch (IOException e) {
                throw new ConfigException("Cannot read config file " + file.get() + ": " + e.getMessage());
            }
            fromFile.forEach((k, v) -> props.put(k.toString(), v.toString()));
        }
        props.putAll(fromEnvironment(env));
        RerankerConfig config = new RerankerConfig(props);
        KnownKeys.check(props, config.getList(MODELS), file.map(Path::toString).orElse("the environment") + " or RERANKER_* variables");
        return config;
    }

    /** The settings named by RERANKER_* variables: RERANKER_GATHER_MAX_WAIT_MS=2000 gives gather.max.wait.ms=2000. */
    /** RERANKER_* variables that the launcher and the logging read, not configuration keys. */
    private static final java.util.Set<String> NOT_SETTINGS = java.util.Set.of("RERANKER_LOG_LEVEL", "RERANKER_KAFKA_LOG_LEVEL",
            "RERANKER_LOG_FORMAT", "RERANKER_JAVA_OPTS", "RERANKER_REBUILD", "RERANKER_VENV");

    public static Map<String, String> fromEnvironment(Map<String, String> env) {
        Map<String, String> out = new HashMap<>();
        env.forEach((name, value) -> {
            if (name.startsWith(ENV_PREFIX) && !NOT_SETTINGS.contains(name)) {
                out.put(name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.'), value);
            }
        });
        return out;
    }

    public Topics topics() {
        return new Topics(getString(TOPIC_CANDIDATES), getString(TOPIC_RESULTS), getString(TOPIC_DEAD_LETTERS));
    }

    public GatherSettings gatherSettings() {
        return new GatherSettings(Duration.ofMillis(getLong(GATHER_MAX_WAIT_MS)), Duration.ofMillis(getLong(GATHER_PUNCTUATE_INTERVAL_MS)),
                getInt(RANK_TOP_K), getInt(GATHER_MAX_CANDIDATES_PER_QUERY), getInt(GATHER_MAX_PENDING_QUERIES),
                getInt(GATHER_MAX_PASSAGE_CHARS), Duration.ofMillis(getLong(GATHER_EMITTED_RETENTION_MS)),
                getInt(GATHER_MAX_IN_FLIGHT_QUERIES), Duration.ofMillis(getLong(GATHER_WATERMARK_INTERVAL_MS)),
                Duration.ofMillis(getLong(GATHER_WATERMARK_MAX_HOLD_MS)),
                new GatherSettings.Limits(getInt(GATHER_MAX_ID_CHARS), getInt(GATHER_MAX_METADATA_CHARS), getInt(RESULTS_MAX_BYTES)));
    }

    public Optional<Path> modelDir() {
        String dir = getString(MODEL_DIR);
        return dir.isBlank() ? Optional.empty() : Optional.of(Path.of(dir));
    }

    /** The models to serve, from models/model.NAME.* or, without them, the one model.dir (or the bundled model). */
    public List<ModelRegistry.Served> servedModels() {
        List<String> names = getList(MODELS);
        if (names.isEmpty()) {
            Path dir = modelDir().orElseGet(BundledModel::extract);
            ModelOverrides overrides = ModelSettings.singleModel(originals);
            return List.of(new ModelRegistry.Served(ModelDirectory.load(dir, overrides).name(), dir, inferenceOptions(), overrides));
        }
        return ModelSettings.served(names, originals, inferenceOptions());
    }

    /** The model for candidates that name none: model.default, else the first served. */
    public String defaultModel(List<ModelRegistry.Served> served) {
        String configured = getString(MODEL_DEFAULT);
        return configured.isBlank() ? served.get(0).name() : configured;
    }

    /** topic → model for candidates without a model field. */
    public Map<String, String> defaultModelByTopic() {
        Map<String, String> out = new HashMap<>();
        for (String pair : getList(MODELS_DEFAULT_BY_TOPIC)) {
            int colon = pair.lastIndexOf(':');
            if (colon <= 0 || colon == pair.length() - 1) {
                throw new ConfigException(MODELS_DEFAULT_BY_TOPIC, pair, "expected topic:model");
            }
            out.put(pair.substring(0, colon), pair.substring(colon + 1));
        }
        return out;
    }

    public InferenceOptions inferenceOptions() {
        String variant = getString(INFERENCE_MODEL_VARIANT);
        return new InferenceOptions(
                Device.parse(getString(INFERENCE_DEVICE)),
                variant.equals("auto") ? Optional.empty() : Optional.of(Variant.valueOf(variant.toUpperCase(Locale.ROOT))),
                getInt(INFERENCE_INTRA_OP_THREADS),
                getInt(INFERENCE_INTER_OP_THREADS),
                getInt(INFERENCE_BATCH_MAX_ROWS),
                getInt(INFERENCE_BATCH_MAX_TOKENS),
                Duration.ofMillis(getLong(INFERENCE_BATCH_MAX_DELAY_MS)),
                getDouble(INFERENCE_BATCH_MAX_PADDING_RATIO),
                new InferenceOptions.Health(Duration.ofMillis(getLong(INFERENCE_BATCH_TIMEOUT_MS)),
                        Duration.ofMillis(getLong(INFERENCE_REQUEST_TIMEOUT_MS)), getInt(INFERENCE_BREAKER_FAILURES),
                        Duration.ofMillis(getLong(INFERENCE_BREAKER_BACKOFF_MS))),
                gpuOptions(),
                getInt(INFERENCE_TOKENIZER_THREADS),
                // The device's defaults only when the user set none of the three: a partial setting is kept as a whole.
                !originals.containsKey(INFERENCE_BATCH_MAX_ROWS) && !originals.containsKey(INFERENCE_BATCH_MAX_TOKENS)
                        && !originals.containsKey(INFERENCE_BATCH_MAX_PADDING_RATIO))
                .withMaxQueuedRows(getInt(INFERENCE_QUEUE_MAX_ROWS))
                .withOpSpinning(OpSpinning.parse(getString(INFERENCE_OP_SPINNING)));
    }

    public GpuOptions gpuOptions() {
        String cache = getString(INFERENCE_TENSORRT_ENGINE_CACHE_DIR);
        return new GpuOptions(getLong(INFERENCE_CUDA_GPU_MEM_LIMIT_BYTES), getString(INFERENCE_CUDA_ARENA_EXTEND_STRATEGY),
                getString(INFERENCE_CUDA_CUDNN_CONV_ALGO_SEARCH), getBoolean(INFERENCE_CUDA_COPY_IN_DEFAULT_STREAM),
                getBoolean(INFERENCE_TENSORRT_ENABLED), cache.isBlank() ? Optional.empty() : Optional.of(Path.of(cache)),
                getBoolean(INFERENCE_TENSORRT_FP16)).withMemoryBytes(getLong(INFERENCE_GPU_MEMORY_BYTES));
    }

    /** The settings handed to serdes: everything, so registry keys reach them whatever they are. */
    public Map<String, Object> serdeConfig() {
        return new HashMap<>(originals);
    }

    /**
     * Kafka Streams properties: the pass-through keys plus this pipeline's defaults, each of which a
     * user's own setting overrides.
     */
    public Properties streamsProperties() {
        return StreamsDefaults.properties(this, originals);
    }
}
