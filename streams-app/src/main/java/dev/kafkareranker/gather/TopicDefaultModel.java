package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.util.Map;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/** Fills in the model of a candidate that names none from its source topic's default. */
final class TopicDefaultModel implements FixedKeyProcessor<String, RetrievalCandidate, RetrievalCandidate> {

    private final Map<String, String> modelByTopic;
    private FixedKeyProcessorContext<String, RetrievalCandidate> context;

    TopicDefaultModel(Map<String, String> modelByTopic) {
        this.modelByTopic = modelByTopic;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, RetrievalCandidate> context) {
        this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, RetrievalCandidate> record) {
        RetrievalCandidate candidate = record.value();
        if (candidate != null && candidate.getModel() == null) {
            context.recordMetadata()
                    .map(source -> modelByTopic.get(source.topic()))
                    .ifPresent(candidate::setModel);
        }
        context.forward(record);
    }
}
