package dev.kafkareranker.app;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code reranker produce}: JSON lines in (see {@link CandidateLines}), RetrievalCandidates out to the candidates
 * topic, through the configured serde and Schema Registry, keyed by query_id. Prints one line per query to stdout
 * ({@code {"query_id": ..., "candidates": N, "topic": ...}}) once the broker has acknowledged every record.
 */
final class ProduceCommand {

    static final String USAGE = "reranker produce [--config FILE] [--bootstrap HOST:PORT] [--registry URL] [--topic T] [--query-id ID] [FILE]";

    private final PrintStream out;
    private final Map<String, String> env;

    ProduceCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    int run(List<String> argList, java.io.InputStream stdin) throws Exception {
        Deque<String> args = new ArrayDeque<>(argList);
        Optional<Path> configFile = Optional.empty();
        Optional<String> bootstrap = Optional.empty();
        Optional<String> registry = Optional.empty();
        Optional<String> topic = Optional.empty();
        Optional<String> queryId = Optional.empty();
        Optional<Path> input = Optional.empty();
        while (!args.isEmpty()) {
            String arg = args.removeFirst();
            switch (arg) {
                case "--config" -> configFile = Optional.of(Path.of(CommandArgs.value(args, arg, USAGE)));
                case "--bootstrap" -> bootstrap = Optional.of(CommandArgs.value(args, arg, USAGE));
                case "--registry" -> registry = Optional.of(CommandArgs.value(args, arg, USAGE));
                case "--topic" -> topic = Optional.of(CommandArgs.value(args, arg, USAGE));
                case "--query-id" -> queryId = Optional.of(CommandArgs.value(args, arg, USAGE));
                default -> {
                    if (arg.startsWith("--") || input.isPresent()) {
                        throw new IllegalArgumentException("produce: unknown argument '" + arg + "'\nusage: " + USAGE);
                    }
                    input = Optional.of(Main.readableFile("produce", arg));
                }
            }
        }
        ClientSettings settings = ClientSettings.load(configFile, env, bootstrap, registry, "produce");
        List<RetrievalCandidate> candidates;
        try (BufferedReader reader = Main.reader(input, stdin)) {
            candidates = new CandidateLines(queryId, ProduceCommand::newQueryId).read(reader);
        }
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("produce: no candidate in " + input.map(Path::toString).orElse("the standard input"));
        }
        String target = topic.orElse(settings.config().getString(RerankerConfig.TOPIC_CANDIDATES).split(",")[0].strip());
        Map<String, Integer> perQuery = send(settings, target, candidates);
        perQuery.forEach((id, n) -> out.println("{\"query_id\":" + quote(id) + ",\"candidates\":" + n + ",\"topic\":" + quote(target) + "}"));
        return 0;
    }

    private static Map<String, Integer> send(ClientSettings settings, String topic, List<RetrievalCandidate> candidates)
            throws InterruptedException {
        Map<String, Integer> perQuery = new LinkedHashMap<>();
        try (Serde<RetrievalCandidate> serde = settings.serde(RetrievalCandidate.class);
             KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(withMaxBlock(settings.producerProps()),
                     new StringSerializer(), serde.serializer())) {
            List<Future<RecordMetadata>> sent = new java.util.ArrayList<>();
            for (RetrievalCandidate c : candidates) {
                try {
                    sent.add(producer.send(new ProducerRecord<>(topic, c.getQueryId(), c)));
                } catch (org.apache.kafka.common.errors.SerializationException e) {
                    throw new Preflight.Failed("produce: cannot encode a candidate through the Schema Registry at "
                            + settings.config().originals().get(Preflight.SCHEMA_REGISTRY_URL) + ": " + e.getMessage()
                            + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")") + " (schema.registry.url, --registry)");
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    throw noMetadata(settings, topic);
                }
                perQuery.merge(c.getQueryId(), 1, Integer::sum);
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw noMetadata(settings, topic);
            }
            throw new Preflight.Failed("produce: the broker at " + settings.bootstrapServers() + " refused a candidate for topic "
                    + topic + ": " + e.getCause().getMessage());
        }
        return perQuery;
    }

    /** How long a send waits for the topic's metadata: Kafka's 60 s default is long for a command a person waits on. */
    static final long MAX_BLOCK_MS = 15_000;

    private static Preflight.Failed noMetadata(ClientSettings settings, String topic) {
        return new Preflight.Failed("produce: no broker at " + settings.bootstrapServers() + " gave topic " + topic + "'s metadata within "
                + MAX_BLOCK_MS / 1000 + " s: is it running, and does the topic exist? (bootstrap.servers, --bootstrap, --topic)");
    }

    private static Map<String, Object> withMaxBlock(Map<String, Object> props) {
        props.putIfAbsent(org.apache.kafka.clients.producer.ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK_MS);
        return props;
    }

    /** A query id no earlier call used: the app treats a reused id's candidates as late ones for up to 10 minutes. */
    static String newQueryId() {
        return "q-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static String quote(String text) {
        return com.fasterxml.jackson.databind.node.TextNode.valueOf(text).toString();
    }
}
