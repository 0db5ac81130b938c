package dev.kafkareranker.app;

import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.serde.DevSchemaRegistryServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code reranker broker}: a development stack in one process. A one-node KRaft broker, a Schema Registry with
 * Confluent's REST API (this project's, in memory, for development only), the app's topics, and a minimal
 * properties file for {@code run}, {@code produce} and {@code consume}; then it waits until stopped. Every run
 * starts empty: the broker's logs and the registry's schemas live only as long as the process.
 */
final class BrokerCommand {

    static final String USAGE = "reranker broker [--port N] [--registry-port N] [--partitions N] [--config-out FILE]";
    static final int DEFAULT_PORT = 9092;
    static final int DEFAULT_REGISTRY_PORT = 8081;
    static final int DEFAULT_PARTITIONS = 4;
    static final String DEFAULT_CONFIG_OUT = "reranker-dev.properties";
    /** The first line of the files this command writes: one without it is the user's, never overwritten. */
    static final String MARKER = "# written by `reranker broker`";

    private final PrintStream out;
    private final Map<String, String> env;

    BrokerCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    /** What the command line asked for. */
    record Settings(int port, int registryPort, int partitions, Path configOut) {
    }

    static Settings parse(List<String> argList) {
        Deque<String> args = new ArrayDeque<>(argList);
        int port = DEFAULT_PORT;
        int registryPort = DEFAULT_REGISTRY_PORT;
        int partitions = DEFAULT_PARTITIONS;
        Path configOut = Path.of(DEFAULT_CONFIG_OUT);
        while (!args.isEmpty()) {
            String arg = args.removeFirst();
            switch (arg) {
                case "--port" -> port = CommandArgs.port(arg, CommandArgs.value(args, arg, USAGE));
                case "--registry-port" -> registryPort = CommandArgs.port(arg, CommandArgs.value(args, arg, USAGE));
                case "--partitions" -> partitions = CommandArgs.positive(arg, CommandArgs.value(args, arg, USAGE));
                case "--config-out" -> configOut = Path.of(CommandArgs.value(args, arg, USAGE));
                default -> throw new IllegalArgumentException("broker: unknown argument '" + arg + "'\nusage: " + USAGE);
            }
        }
        return new Settings(port, registryPort, partitions, configOut);
    }

    int run(List<String> args) throws Exception {
        Settings settings = parse(args);
        checkWritable(settings.configOut());
        checkFree(settings.port(), "--port");
        checkFree(settings.registryPort(), "--registry-port");
        DevSchemaRegistryServer registry = DevSchemaRegistryServer.start(new InetSocketAddress("localhost", settings.registryPort()));
        EmbeddedKafka kafka;
        try {
            kafka = EmbeddedKafka.start(settings.port());
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        // From here the shutdown hook closes both, at Ctrl-C or SIGTERM, and only it: a second close would race it.
        CountDownLatch stopped = stopOnShutdown(kafka, registry);
        Topics topics = Topics.defaults();
        kafka.createTopics(settings.partitions(), topics.candidates(), topics.results(), topics.deadLetters());
        Path stateDir = devStateDir(kafka.bootstrapServers());
        Map<String, String> props = devProperties(kafka.bootstrapServers(), registryUrl(registry), stateDir);
        writeProperties(settings.configOut(), props);
        printBanner(kafka.bootstrapServers(), registryUrl(registry), topics, settings, props);
        stopped.await();
        return 0;
    }

    /** The settings run, produce and consume need against this stack; nothing else, so the file reads as a minimal example. */
    static Map<String, String> devProperties(String bootstrap, String registryUrl, Path stateDir) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("bootstrap.servers", bootstrap);
        props.put("schema.registry.url", registryUrl);
        props.put("state.dir", stateDir.toString());
        return props;
    }

    /**
     * Where run keeps its state against this broker: the previous broker on this port is gone with its data, so its
     * state is wiped here (Kafka Streams would otherwise find checkpoints past the end of the new, empty changelogs).
     * Not in the OS temp directory, which Kafka Streams warns about.
     */
    private Path devStateDir(String bootstrap) throws IOException {
        Path dir = UserCache.dir(env).resolve("dev").resolve("state-" + bootstrap.replaceAll("[^A-Za-z0-9.-]", "_"));
        UserCache.deleteTree(dir);
        return Files.createDirectories(dir);
    }

    private static void checkWritable(Path file) throws IOException {
        if (Files.exists(file) && !Files.readString(file, StandardCharsets.UTF_8).startsWith(MARKER)) {
            throw new IllegalArgumentException("broker: " + file + " exists and was not written by reranker broker: pass --config-out FILE"
                    + " to write the settings elsewhere");
        }
    }

    /** A port in use is one line naming the option, before anything starts; 0 always binds. */
    private static void checkFree(int port, String option) {
        if (port == 0) {
            return;
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress("localhost", port));
        } catch (IOException e) {
            throw new IllegalArgumentException("broker: port " + port + " on localhost is in use (" + e.getMessage() + "): pass " + option
                    + " N, or 0 for any free port");
        }
    }

    private static void writeProperties(Path file, Map<String, String> props) throws IOException {
        StringBuilder text = new StringBuilder(MARKER).append(" for its development stack; run, produce and consume read it with --config.\n");
        props.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private void printBanner(String bootstrap, String registryUrl, Topics topics, Settings settings, Map<String, String> props) {
        String config = settings.configOut().toString();
        out.println("broker: Kafka (one KRaft node) listening on " + bootstrap);
        out.println("broker: Schema Registry at " + registryUrl + ": FOR DEVELOPMENT ONLY (schemas in memory, no authentication;"
                + " production uses a Confluent-compatible registry)");
        out.println("broker: topics " + topics.candidates() + ", " + topics.results() + ", " + topics.deadLetters() + " created with "
                + settings.partitions() + " partitions each; all data is gone when this process stops");
        out.println("broker: settings written to " + config + ":");
        props.forEach((k, v) -> out.println("    " + k + "=" + v));
        out.println("broker: in another terminal:");
        out.println("    bin/reranker run --config " + config);
        out.println("    echo '{\"query\":\"why do cats purr\",\"documents\":[\"Cats purr when content.\",\"Dogs bark.\"]}' | bin/reranker produce --config " + config);
        out.println("    bin/reranker consume --config " + config + " --max 1");
        out.println("broker: or, instead of --config: export RERANKER_BOOTSTRAP_SERVERS=" + bootstrap + " RERANKER_SCHEMA_REGISTRY_URL="
                + registryUrl);
        out.println("broker: running; stop with Ctrl-C");
        out.flush();
    }

    /** The registry as clients name it: localhost, as it was bound, rather than the address it resolved to. */
    private static String registryUrl(DevSchemaRegistryServer registry) {
        return "http://localhost:" + registry.port();
    }

    private static CountDownLatch stopOnShutdown(EmbeddedKafka kafka, DevSchemaRegistryServer registry) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            registry.close();
            kafka.close();
            stopped.countDown();
        }, "reranker-broker-shutdown"));
        return stopped;
    }
}
