package dev.kafkareranker.app;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.DeadLetters;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;

/**
 * {@code reranker consume}: prints each result (or with {@code --dead-letters}, each dead letter with its reason
 * headers) as one JSON line, read with {@code read_committed} as any reader of the exactly-once app must. It
 * prints what no earlier consume of the same {@code --group} printed (the group's committed offsets; the first
 * time, from the beginning), or with {@code --from-beginning} everything; {@code --max N} stops after N.
 */
final class ConsumeCommand {

    static final String USAGE = "reranker consume [--config FILE] [--bootstrap HOST:PORT] [--registry URL] [--from-beginning] [--max N]"
            + " [--dead-letters] [--group G]";
    static final String DEFAULT_GROUP = "reranker-consume";
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(15);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final PrintStream out;
    private final Map<String, String> env;

    ConsumeCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    int run(List<String> argList) throws Exception {
        Deque<String> args = new ArrayDeque<>(argList);
        Optional<Path> configFile = Optional.empty();
        Optional<String> bootstrap = Optional.empty();
        Optional<String> registry = Optional.empty();
        boolean fromBeginning = false;
        boolean deadLetters = false;
        long max = Long.MAX_VALUE;
        String group = DEFAULT_GROUP;
        while (!args.isEmpty()) {
            String arg = args.removeFirst();
            switch (arg) {
                case "--config" -> configFile = Optional.of(Path.of(CommandArgs.value(args, arg, USAGE)));
                case "--bootstrap" -> bootstrap = Optional.of(CommandArgs.value(args, arg, USAGE));
                case "--registry" -> registry = Optional.of(CommandArgs.value(args, arg, USAGE));
                case "--from-beginning" -> fromBeginning = true;
                case "--dead-letters" -> deadLetters = true;
                case "--max" -> max = CommandArgs.positive(arg, CommandArgs.value(args, arg, USAGE));
                case "--group" -> group = CommandArgs.value(args, arg, USAGE);
                default -> throw new IllegalArgumentException("consume: unknown argument '" + arg + "'\nusage: " + USAGE);
            }
        }
        ClientSettings settings = ClientSettings.load(configFile, env, bootstrap, registry, "consume");
        String topic = settings.config().getString(deadLetters ? RerankerConfig.TOPIC_DEAD_LETTERS : RerankerConfig.TOPIC_RESULTS);
        try (Serde<RankedResults> results = settings.serde(RankedResults.class);
             Serde<RetrievalCandidate> candidates = settings.serde(RetrievalCandidate.class);
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings.consumerProps(group), new ByteArrayDeserializer(),
                     new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = partitions(consumer, topic, settings.bootstrapServers());
            consumer.assign(partitions);
            position(consumer, partitions, fromBeginning);
            long printed = 0;
            while (printed < max) {
                Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    out.println(deadLetters ? deadLetter(record, candidates.deserializer()) : result(record, results.deserializer()));
                    out.flush();
                    done.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
                    if (++printed == max) {
                        break;
                    }
                }
                if (!done.isEmpty()) {
                    consumer.commitSync(done);
                }
            }
        }
        return 0;
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic, String bootstrap) {
        List<PartitionInfo> infos;
        try {
            infos = consumer.partitionsFor(topic, METADATA_TIMEOUT);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new Preflight.Failed("consume: no broker at " + bootstrap + " answered within " + METADATA_TIMEOUT.toSeconds()
                    + " s: is it running? (bootstrap.servers, --bootstrap)");
        }
        if (infos == null || infos.isEmpty()) {
            throw new IllegalArgumentException("consume: topic '" + topic + "' does not exist on " + bootstrap
                    + " (topic.results / topic.dead.letters in --config)");
        }
        return infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    /** Where an earlier consume of this group left off, else the beginning. */
    private static void position(KafkaConsumer<?, ?> consumer, List<TopicPartition> partitions, boolean fromBeginning) {
        if (fromBeginning) {
            consumer.seekToBeginning(partitions);
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new java.util.HashSet<>(partitions));
        for (TopicPartition p : partitions) {
            OffsetAndMetadata offset = committed.get(p);
            if (offset == null) {
                consumer.seekToBeginning(List.of(p));
            } else {
                consumer.seek(p, offset);
            }
        }
    }

    private static String result(ConsumerRecord<byte[], byte[]> record, Deserializer<RankedResults> deserializer) {
        Optional<ObjectNode> value = decode(record, deserializer);
        if (value.isPresent()) {
            return value.get().toString();
        }
        ObjectNode node = NODES.objectNode();
        node.put("error", "not a RankedResults this serde can read");
        node.put("partition", record.partition());
        node.put("offset", record.offset());
        node.put("value_base64", record.value() == null ? null : Base64.getEncoder().encodeToString(record.value()));
        return node.toString();
    }

    private static String deadLetter(ConsumerRecord<byte[], byte[]> record, Deserializer<RetrievalCandidate> deserializer) {
        ObjectNode node = NODES.objectNode();
        node.put("key", record.key() == null ? null : text(record.key()));
        node.put("reason", header(record, DeadLetters.HEADER_REASON));
        node.put("exception", header(record, DeadLetters.HEADER_EXCEPTION));
        node.put("message", header(record, DeadLetters.HEADER_MESSAGE));
        ObjectNode source = node.putObject("source");
        source.put("topic", header(record, DeadLetters.HEADER_TOPIC));
        source.put("partition", header(record, DeadLetters.HEADER_PARTITION));
        source.put("offset", header(record, DeadLetters.HEADER_OFFSET));
        ObjectNode headers = node.putObject("headers");
        for (Header h : record.headers()) {
            // The stack trace is kilobytes; the reason, exception and message above say what it says.
            if (!h.key().equals(DeadLetters.HEADER_STACKTRACE)) {
                headers.put(h.key(), h.value() == null ? null : text(h.value()));
            }
        }
        Optional<ObjectNode> value = decode(record, deserializer);
        if (value.isPresent()) {
            node.set("value", value.get());
        } else {
            node.put("value_base64", record.value() == null ? null : Base64.getEncoder().encodeToString(record.value()));
        }
        return node.toString();
    }

    private static <T extends SpecificRecord> Optional<ObjectNode> decode(ConsumerRecord<byte[], byte[]> record, Deserializer<T> deserializer) {
        if (record.value() == null) {
            return Optional.empty();
        }
        try {
            T value = deserializer.deserialize(record.topic(), record.headers(), record.value());
            return value == null ? Optional.empty() : Optional.of(AvroJson.of((org.apache.avro.generic.IndexedRecord) value));
        } catch (RuntimeException e) {
            // A dead letter is often a record that could not be decoded: it is printed as bytes, not skipped.
            return Optional.empty();
        }
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null || h.value() == null ? null : text(h.value());
    }

    /** UTF-8 text when the bytes are UTF-8, else base64 (prefixed so the two cannot be confused). */
    private static String text(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return "base64:" + Base64.getEncoder().encodeToString(bytes);
        }
    }
}
