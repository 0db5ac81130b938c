package dev.kafkareranker.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.BufferedReader;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Turns JSON lines into RetrievalCandidates, in either of two shapes:
 * <ul>
 *   <li>a query as {@code score} takes it: {@code {"query_id"?, "query", "documents": ["...", ...]}} (or one
 *       {@code "document"}); documents may also be objects with {@code text} and any candidate field. Each document
 *       becomes a candidate with doc_id {@code d1, d2, ...} (unless it names one), its position as retrieval_rank,
 *       and the query's document count as candidate_count;</li>
 *   <li>one candidate per line with RetrievalCandidate's fields ({@code query_id}, {@code query}, {@code doc_id},
 *       {@code text}, optional ones as in the schema); a query's candidate_count, when no line gives one, is the
 *       number of distinct doc_ids its lines have in the input.</li>
 * </ul>
 * A line without query_id takes {@code --query-id}, or a new id; ids are new on every call because the app
 * remembers emitted queries (gather.emitted.retention.ms) and takes a reused id's candidates for late ones.
 */
final class CandidateLines {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Optional<String> queryId;
    private final Supplier<String> newId;
    /** The query text --query-id was given to. */
    private String queryIdText;

    /**
     * @param queryId {@code --query-id}, for the one query without an id of its own
     * @param newId   ids for queries without one when no {@code --query-id} is given
     */
    CandidateLines(Optional<String> queryId, Supplier<String> newId) {
        this.queryId = queryId;
        this.newId = newId;
    }

    /** Every candidate of the input, in input order, with candidate_count set. */
    List<RetrievalCandidate> read(BufferedReader in) throws IOException {
        List<RetrievalCandidate.Builder> out = new ArrayList<>();
        Map<String, Set<String>> docsPerQuery = new LinkedHashMap<>();
        Set<String> counted = new HashSet<>();
        int lineNo = 0;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = parse(line, lineNo);
            List<RetrievalCandidate.Builder> fromLine = node.has("documents") || node.has("document") ? query(node, lineNo)
                    : List.of(candidate(node, lineNo));
            for (RetrievalCandidate.Builder c : fromLine) {
                docsPerQuery.computeIfAbsent(c.getQueryId(), q -> new HashSet<>()).add(c.getDocId());
                if (c.getCandidateCount() != null) {
                    counted.add(c.getQueryId());
                }
            }
            out.addAll(fromLine);
        }
        List<RetrievalCandidate> candidates = new ArrayList<>();
        for (RetrievalCandidate.Builder c : out) {
            if (c.getCandidateCount() == null && !counted.contains(c.getQueryId())) {
                c.setCandidateCount(docsPerQuery.get(c.getQueryId()).size());
            }
            candidates.add(c.build());
        }
        return candidates;
    }

    private static JsonNode parse(String line, int lineNo) {
        try {
            JsonNode node = JSON.readTree(line);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("line " + lineNo + ": expected a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("line " + lineNo + ": not a JSON object: " + e.getOriginalMessage());
        }
    }

    private List<RetrievalCandidate.Builder> query(JsonNode node, int lineNo) {
        String query = text(node, "query", lineNo);
        String id = idOf(node);
        List<JsonNode> documents = new ArrayList<>();
        if (node.has("document")) {
            documents.add(node.get("document"));
        }
        node.path("documents").forEach(documents::add);
        if (documents.isEmpty()) {
            throw new IllegalArgumentException("line " + lineNo + ": \"documents\" is empty");
        }
        List<RetrievalCandidate.Builder> out = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            JsonNode doc = documents.get(i);
            RetrievalCandidate.Builder c;
            if (doc.isTextual()) {
                c = RetrievalCandidate.newBuilder().setText(doc.asText()).setDocId("d" + (i + 1)).setMetadata(new HashMap<>());
            } else if (doc.isObject()) {
                c = fields(doc, lineNo, false).setText(text(doc, "text", lineNo));
                if (!doc.hasNonNull("doc_id")) {
                    c.setDocId("d" + (i + 1));
                }
            } else {
                throw new IllegalArgumentException("line " + lineNo + ": document " + (i + 1) + " is neither a string nor an object");
            }
            c.setQueryId(id).setQuery(query);
            if (c.getRetrievalRank() == null) {
                c.setRetrievalRank(i + 1);
            }
            if (c.getCandidateCount() == null) {
                c.setCandidateCount(documents.size());
            }
            if (c.getTopK() == null && node.hasNonNull("top_k")) {
                c.setTopK(node.get("top_k").asInt());
            }
            if (c.getModel() == null && node.hasNonNull("model")) {
                c.setModel(node.get("model").asText());
            }
            out.add(c);
        }
        return out;
    }

    private RetrievalCandidate.Builder candidate(JsonNode node, int lineNo) {
        for (String required : List.of("query", "doc_id", "text")) {
            text(node, required, lineNo);
        }
        return fields(node, lineNo, true).setQueryId(idOf(node)).setQuery(node.get("query").asText());
    }

    /** The optional fields of RetrievalCandidate present in {@code node} (and doc_id, text when {@code withIds}). */
    private static RetrievalCandidate.Builder fields(JsonNode node, int lineNo, boolean withIds) {
        RetrievalCandidate.Builder c = RetrievalCandidate.newBuilder().setMetadata(new HashMap<>());
        if (withIds || node.hasNonNull("doc_id")) {
            c.setDocId(text(node, "doc_id", lineNo));
        }
        if (withIds) {
            c.setText(text(node, "text", lineNo));
        }
        if (node.hasNonNull("retrieval_score")) {
            c.setRetrievalScore(number(node, "retrieval_score", lineNo).doubleValue());
        }
        if (node.hasNonNull("retrieval_rank")) {
            c.setRetrievalRank(number(node, "retrieval_rank", lineNo).intValue());
        }
        if (node.hasNonNull("candidate_count")) {
            c.setCandidateCount(number(node, "candidate_count", lineNo).intValue());
        }
        if (node.hasNonNull("top_k")) {
            c.setTopK(number(node, "top_k", lineNo).intValue());
        }
        if (node.hasNonNull("model")) {
            c.setModel(node.get("model").asText());
        }
        if (node.hasNonNull("event_time")) {
            JsonNode t = node.get("event_time");
            c.setEventTime(t.isNumber() ? Instant.ofEpochMilli(t.asLong()) : parseInstant(t.asText(), lineNo));
        }
        if (node.has("metadata")) {
            Map<String, String> metadata = new HashMap<>();
            node.get("metadata").fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().isTextual()
                    ? e.getValue().asText() : e.getValue().toString()));
            c.setMetadata(metadata);
        }
        return c;
    }

    private String idOf(JsonNode node) {
        if (node.hasNonNull("query_id")) {
            return node.get("query_id").asText();
        }
        if (queryId.isPresent()) {
            String text = node.path("query").asText();
            if (queryIdText != null && !queryIdText.equals(text)) {
                throw new IllegalArgumentException("--query-id names one query, but lines without a query_id hold several: '" + queryIdText
                        + "' and '" + text + "' (give each line its query_id, or leave --query-id out for new ids)");
            }
            queryIdText = text;
            return queryId.get();
        }
        return ids.computeIfAbsent(node.path("query").asText(), q -> newId.get());
    }

    /** Ids given to queries without one, by query text: the candidate lines of one query share theirs. */
    private final Map<String, String> ids = new HashMap<>();

    private static String text(JsonNode node, String field, int lineNo) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("line " + lineNo + ": needs a \"" + field + "\" string");
        }
        return value.asText();
    }

    private static Number number(JsonNode node, String field, int lineNo) {
        JsonNode value = node.get(field);
        if (!value.isNumber()) {
            throw new IllegalArgumentException("line " + lineNo + ": \"" + field + "\" must be a number, not " + value);
        }
        return value.numberValue();
    }

    private static Instant parseInstant(String text, int lineNo) {
        try {
            return Instant.parse(text);
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("line " + lineNo + ": \"event_time\" must be epoch milliseconds or an ISO-8601 instant,"
                    + " not '" + text + "'");
        }
    }
}
