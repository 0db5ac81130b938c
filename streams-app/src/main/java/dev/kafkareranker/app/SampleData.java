package dev.kafkareranker.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/** The demo's sample queries and candidates, written for this project (resource demo/sample-candidates.jsonl). */
public final class SampleData {

    private static final String RESOURCE = "/demo/sample-candidates.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private SampleData() {
    }

    public static List<RetrievalCandidate> candidates() {
        try (InputStream in = SampleData.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            List<RetrievalCandidate> out = new ArrayList<>();
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.isBlank()) {
                    out.add(parse(JSON.readTree(line)));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static RetrievalCandidate parse(JsonNode n) {
        return RetrievalCandidate.newBuilder()
                .setQueryId(n.path("query_id").asText())
                .setQuery(n.path("query").asText())
                .setDocId(n.path("doc_id").asText())
                .setText(n.path("text").asText())
                .setRetrievalRank(n.hasNonNull("retrieval_rank") ? n.get("retrieval_rank").asInt() : null)
                .setRetrievalScore(n.hasNonNull("retrieval_score") ? n.get("retrieval_score").asDouble() : null)
                .setCandidateCount(n.hasNonNull("candidate_count") ? n.get("candidate_count").asInt() : null)
                .setMetadata(new HashMap<>())
                .build();
    }
}
