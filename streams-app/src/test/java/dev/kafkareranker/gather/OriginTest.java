package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.kafkareranker.avro.internal.SourceRecord;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class OriginTest {

    @Test
    void aProducersOwnHeadersUnderThePipelinesNamesCannotFailItsDeadLetter() {
        // Before the intake stamps a record, headers of these names are whatever its producer sent.
        RecordHeaders forged = new RecordHeaders();
        forged.add(Origin.PARTITION, "not a number".getBytes(StandardCharsets.UTF_8));
        forged.add(Origin.OFFSET, null);
        forged.add(Origin.KEY, null);
        forged.add(CandidateIntake.HEADER_REENCODED, null);
        SourceRecord source = Origin.source(forged, "candidates", 3, 77, 5L, "k".getBytes(StandardCharsets.UTF_8), new byte[] {1}, 100_000);
        assertEquals(3, source.getPartition(), "the record's own partition");
        assertEquals(77, source.getOffset());
        assertArrayEquals("k".getBytes(StandardCharsets.UTF_8), DeadLetters.array(source.getKey()));
        assertNull(source.getReencoded());
        assertEquals(0, source.getHeaders().size(), "rerank.source.* headers are not the producer's to pass on");
    }

    @Test
    void aRecordRekeyedByItsQueryIdKeepsItsProducersKeyOrItsNullKey() {
        RecordHeaders stamped = new RecordHeaders();
        org.apache.kafka.streams.processor.api.RecordMetadata position = new org.apache.kafka.streams.processor.api.RecordMetadata() {
            @Override
            public String topic() {
                return "candidates";
            }

            @Override
            public int partition() {
                return 1;
            }

            @Override
            public long offset() {
                return 12;
            }
        };
        Origin.stamp(stamped, position, null, "q1");
        SourceRecord nullKey = Origin.source(stamped, "app-by-query-id-repartition", 0, 3, 5L, "q1".getBytes(StandardCharsets.UTF_8),
                new byte[] {1}, 100_000);
        assertNull(nullKey.getKey(), "a null key, not the query_id it was re-keyed by");
        assertEquals("candidates", nullKey.getTopic());
        assertEquals(1, nullKey.getPartition());
        assertEquals(12, nullKey.getOffset());
    }
}
