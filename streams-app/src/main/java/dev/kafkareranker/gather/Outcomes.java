package dev.kafkareranker.gather;

import dev.kafkareranker.avro.ModelInfo;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.avro.internal.SourceRecord;
import dev.kafkareranker.avro.internal.StoredCandidate;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * What a scored query becomes: its ranked result, or, when its scoring failed for its own rows (or its
 * model is gone), each of its candidates as a dead letter, as produced. Built before any store change,
 * so that a serializer that fails (the registry) leaves nothing half done.
 */
final class Outcomes {

    /** The serializers of the topic edges: results, and the re-encoding of a candidate an earlier version stored without its bytes. */
    record Writers(Function<RankedResults, byte[]> results, Function<RetrievalCandidate, byte[]> reencoded) {}

    private final GatherSettings settings;
    private final GatherStore store;
    private final Writers writers;
    private final String deadLetterTopic;
    private final int deadLetterMaxBytes;

    Outcomes(GatherSettings settings, GatherStore store, Writers writers, String deadLetterTopic, int deadLetterMaxBytes) {
        this.settings = settings;
        this.store = store;
        this.writers = writers;
        this.deadLetterTopic = deadLetterTopic;
        this.deadLetterMaxBytes = deadLetterMaxBytes;
    }

    /** The ranked result of a scored query. */
    List<Outcome> result(ScoringQueue.InFlight done) {
        QueryState query = done.query;
        List<RetrievalCandidate> gathered = new ArrayList<>(done.gathered.size());
        done.gathered.forEach(g -> gathered.add(g.stored().getCandidate()));
        List<RankedDocument> ranked = Ranking.rank(gathered, done.scoring.scores(),
                query.getTopK() != null ? query.getTopK() : settings.defaultTopK());
        RankedResults results = RankedResults.newBuilder()
                .setQueryId(query.getQueryId())
                .setQuery(query.getQuery())
                .setResults(ranked)
                .setModel(new ModelInfo(done.scoring.modelName(), done.scoring.modelVersion()))
                .setComplete(done.mark.complete())
                .setCandidatesReceived(gathered.size())
                .setCandidatesExpected(query.getExpected())
                .setDuplicates(query.getDuplicates())
                .setConflicts(query.getConflicts())
                .setFirstCandidateTime(Instant.ofEpochMilli(query.getFirstSeenMillis()))
                .setEmittedTime(Instant.ofEpochMilli(query.getEmittedMillis()))
                .setScoringMs(done.scoringMs())
                .build();
        byte[] value = ResultSize.fit(results, writers.results(), settings.limits().maxResultBytes());
        return List.of(new Outcome(true, key(query), value, done.mark.timestamp(), new RecordHeaders()));
    }

    /**
     * Each candidate as produced, as a late one's would be (DeadLetters.ofSource), from its store entry
     * (still there until the query is written out); only an entry an earlier version stored lacks its
     * record and is re-encoded, keyed by the query_id, and marked.
     */
    List<Outcome> deadLetters(ScoringQueue.InFlight done, String reason, Throwable cause) {
        List<Outcome> out = new ArrayList<>(done.gathered.size());
        for (GatherStore.Gathered g : done.gathered) {
            StoredCandidate stored = store.candidate(g.key());
            SourceRecord source = stored == null ? null : stored.getSource();
            ProducerRecord<byte[], byte[]> dead = source != null
                    ? DeadLetters.ofSource(deadLetterTopic, source, reason, cause, deadLetterMaxBytes)
                    : DeadLetters.reencoded(deadLetterTopic, done.mark.timestamp(), key(done.query),
                            writers.reencoded().apply(g.stored().getCandidate()), reason, cause, deadLetterMaxBytes);
            out.add(new Outcome(false, dead.key(), dead.value(), dead.timestamp() != null ? dead.timestamp() : done.mark.timestamp(),
                    dead.headers()));
        }
        return out;
    }

    private static byte[] key(QueryState query) {
        return query.getQueryId().getBytes(StandardCharsets.UTF_8);
    }
}
