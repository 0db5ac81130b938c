package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.app.RerankerApp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The app between Confluent-written clients, on a real registry: Confluent's Python client
 * ({@code confluent-kafka} 2.16.1, its AvroSerializer and AvroDeserializer) produces candidates and reads
 * results through Apicurio's Confluent-compatible API, and the app (this JVM, its own serde) ranks them.
 * Includes a producer that moved on to a schema with an added optional field, and a change the registry must
 * refuse (BACKWARD, Confluent's default). The interpreter is {@code -Dit.python} (.ci/containers makes the
 * venv from src/test/python/requirements.txt). Runs only on the container path.
 */
class ConfluentInteropIT {

    private static final Path SCRIPT = Path.of("src", "test", "python", "confluent_interop.py").toAbsolutePath();
    private static final Path CANDIDATE_SCHEMA = Path.of("..", "schemas", "src", "main", "avro", "RetrievalCandidate.avsc").toAbsolutePath();
    private static final Path RESULTS_SCHEMA = Path.of("..", "schemas", "src", "main", "avro", "RankedResults.avsc").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int QUERIES = 20;
    private static final int CANDIDATES = 8;

    private static TestCluster.Containers cluster;
    private static String python;

    @BeforeAll
    static void start() {
        python = System.getProperty("it.python", "");
        if (python.isBlank() || !Files.isExecutable(Path.of(python))) {
            throw new IllegalStateException("it.python='" + python + "': expected the python of a venv with "
                    + "src/test/python/requirements.txt installed (.ci/containers makes it and passes -Dit.python)");
        }
        cluster = TestCluster.Containers.start();
        System.out.println("interop: " + cluster.describe() + "; python " + python);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void confluentsSerializerInConfluentsDeserializerOutEveryQueryRankedOnceIncludingAnEvolvedSchema() throws Exception {
        String prefix = "interop";
        TestApp.Builder setup = appSettings(prefix).topics(3, 2);
        assertEquals("BACKWARD", registryCompatibility(), "the registry's global compatibility (deploy/images/apicurio/Dockerfile)");

        try (RerankerApp app = setup.start()) {
            JsonNode v1 = python("produce", "--topic", prefix + ".candidates", "--schema", CANDIDATE_SCHEMA.toString(),
                    "--prefix", "v1-q", "--queries", String.valueOf(QUERIES), "--candidates", String.valueOf(CANDIDATES));
            JsonNode v2 = python("produce", "--topic", prefix + ".candidates", "--schema", CANDIDATE_SCHEMA.toString(),
                    "--prefix", "v2-q", "--queries", String.valueOf(QUERIES), "--candidates", String.valueOf(CANDIDATES), "--evolved");
            JsonNode refused = python("refused", "--topic", prefix + ".candidates", "--schema", CANDIDATE_SCHEMA.toString());
            JsonNode read = python("consume", "--topic", prefix + ".results", "--expect", String.valueOf(2 * QUERIES));

            System.out.printf("interop: Confluent's AvroSerializer sent %d candidates (schema id %d, version %d) and %d with an added"
                            + " optional field (schema id %d, version %d); the incompatible change got HTTP %d; Confluent's"
                            + " AvroDeserializer read %d results for %d/%d queries holding %d/%d candidates, errors %s%n",
                    v1.get("sent").asInt(), v1.get("schema_id").asInt(), v1.get("version").asInt(),
                    v2.get("sent").asInt(), v2.get("schema_id").asInt(), v2.get("version").asInt(), refused.get("status").asInt(),
                    read.get("results").asInt(), read.get("queries").asInt(), 2 * QUERIES,
                    read.get("candidates_in_results").asInt(), 2 * QUERIES * CANDIDATES, read.get("errors"));

            assertEquals(QUERIES * CANDIDATES, v1.get("sent").asInt());
            assertEquals(QUERIES * CANDIDATES, v2.get("sent").asInt());
            assertEquals(v1.get("version").asInt() + 1, v2.get("version").asInt(), "the added optional field is a new version");
            assertEquals(409, refused.get("status").asInt(), "a new field without a default is refused under BACKWARD: " + refused);
            assertEquals(0, read.get("errors").size(), "consumer errors: " + read.get("errors"));
            assertEquals(2 * QUERIES, read.get("queries").asInt(), "every query, old schema and evolved, has a result");
            assertEquals(2 * QUERIES, read.get("results").asInt(), "exactly one result per query");
            assertEquals(0, read.get("queries_with_more_than_one_result").asInt());
            assertEquals(2 * QUERIES * CANDIDATES, read.get("candidates_in_results").asInt(), "the results hold every candidate");
        }
    }

    /**
     * A Confluent serializer configured not to register (auto.register.schemas=false, the usual production
     * setting) looks the schema up by its text: the contract as written in RankedResults.avsc must find the
     * schema the app registered for the results. Depends on the serde registering the .avsc as written (no
     * avro.java.string properties on its strings).
     */
    @Test
    void confluentsLookupOfTheResultsContractAsWrittenFindsTheSchemaTheAppRegistered() throws Exception {
        String prefix = "lookup";
        TestApp.Builder setup = appSettings(prefix).topics(1, 1);
        try (RerankerApp app = setup.start()) {
            python("produce", "--topic", prefix + ".candidates", "--schema", CANDIDATE_SCHEMA.toString(),
                    "--prefix", "lk-q", "--queries", "2", "--candidates", "3");
            JsonNode read = python("consume", "--topic", prefix + ".results", "--expect", "2");
            assertEquals(2, read.get("queries").asInt(), "results to look the schema up for: " + read);
            JsonNode found = python("lookup", "--topic", prefix + ".results", "--schema", RESULTS_SCHEMA.toString());
            System.out.printf("interop: the app's results carry schema id(s) %s; Confluent's lookup of RankedResults.avsc answered %s%n",
                    read.get("result_schema_ids"), found);
            int appId = read.get("result_schema_ids").get(0).asInt();
            String registered = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(cluster.registryUrl() + "/schemas/ids/" + appId)).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertEquals(200, found.get("status").asInt(), "Confluent's lookup of the .avsc as written under "
                    + prefix + ".results-value: " + found + "; the schema the app registered (id " + appId + ") carries"
                    + " avro.java.string properties: " + registered.contains("avro.java.string") + " (fix in the serde: register"
                    + " the contract as written)");
            assertEquals(appId, found.get("schema_id").asInt(),
                    "the lookup finds the id the app's records carry");
        }
    }

    private static TestApp.Builder appSettings(String prefix) {
        return TestApp.on(cluster.bootstrapServers(), cluster.registryUrl(), prefix).applicationId("interop-" + prefix)
                .model(TestApp.BI_ENCODER).adminEndpoint().set("num.stream.threads", 2);
    }

    private static String registryCompatibility() throws Exception {
        HttpResponse<String> config = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(cluster.registryUrl() + "/config")).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(config.body()).path("compatibilityLevel").asText();
    }

    /** Runs the Python client with one command; its last stdout line is the JSON answer. */
    private static JsonNode python(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(python, SCRIPT.toString()));
        command.add(args[0]);
        command.addAll(List.of("--bootstrap", cluster.bootstrapServers(), "--registry", cluster.registryUrl()));
        command.addAll(List.of(args).subList(1, args.length));
        Path out = Files.createTempFile("interop", ".out");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("the Python client did not finish " + args[0] + " within 5 minutes: " + Files.readString(out));
        }
        List<String> lines = Files.readAllLines(out);
        if (process.exitValue() != 0 || lines.isEmpty()) {
            throw new AssertionError("the Python client's " + args[0] + " exited " + process.exitValue() + ":\n" + String.join("\n", lines));
        }
        return JSON.readTree(lines.get(lines.size() - 1));
    }
}
