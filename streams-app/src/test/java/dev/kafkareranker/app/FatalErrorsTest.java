package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.streams.errors.MissingSourceTopicException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/**
 * Which errors stop the app: the ones Kafka's clients do not retry (credentials, ACLs) and a missing source topic,
 * found however deep Kafka Streams wraps them, each with the setting to change; the rest replace the thread.
 */
class FatalErrorsTest {

    private final FatalErrors fatal = new FatalErrors("broker-1:9093", "my-app", "rerank.candidates");

    @Test
    void aRefusedPasswordNamesTheBrokerAndTheSaslSettingsEvenWrappedByKafkaStreams() {
        Throwable error = new StreamsException("task failed", new org.apache.kafka.common.KafkaException("init",
                new SaslAuthenticationException("Authentication failed: Invalid username or password")));
        String line = fatal.describe(error).orElseThrow();
        assertTrue(line.contains("broker-1:9093") && line.contains("Invalid username or password") && line.contains("sasl.jaas.config"), line);
    }

    @Test
    void refusedAclsNameWhatToGrant() {
        assertTrue(fatal.describe(new TopicAuthorizationException(Set.of("rerank.results"))).orElseThrow().contains("rerank.results"));
        assertTrue(fatal.describe(new GroupAuthorizationException("no")).orElseThrow().contains("READ on group my-app"));
        assertTrue(fatal.describe(new TransactionalIdAuthorizationException("no")).orElseThrow().contains("prefixed 'my-app-'"));
    }

    @Test
    void aMissingSourceTopicNamesTopicsCreate() {
        String line = fatal.describe(new StreamsException(new MissingSourceTopicException("One or more source topics were missing"))).orElseThrow();
        assertTrue(line.contains("topics.create=true") && line.contains("rerank.candidates"), line);
    }

    @Test
    void aTimeoutIsNotFatal() {
        assertEquals(Optional.empty(), fatal.describe(new StreamsException(new TimeoutException("broker slow"))));
    }

    @Test
    void theHandlerShutsTheClientDownOnceForAFatalErrorAndHandsTheRestOn() {
        AtomicInteger handedOn = new AtomicInteger();
        var handler = fatal.handler(error -> {
            handedOn.incrementAndGet();
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        assertEquals(StreamThreadExceptionResponse.REPLACE_THREAD, handler.handle(new StreamsException(new TimeoutException("slow"))));
        assertEquals(Optional.empty(), fatal.cause());
        assertEquals(StreamThreadExceptionResponse.SHUTDOWN_CLIENT, handler.handle(new SaslAuthenticationException("bad password")));
        assertEquals(StreamThreadExceptionResponse.SHUTDOWN_CLIENT, handler.handle(new MissingSourceTopicException("gone")));
        assertEquals(1, handedOn.get());
        assertTrue(fatal.cause().orElseThrow().contains("bad password"), "the first cause is kept: " + fatal.cause());
    }
}
