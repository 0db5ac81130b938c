package dev.kafkareranker.app;

import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.streams.errors.MissingSourceTopicException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the errors that no retry can cure from the rest, and says in one line what to change.
 *
 * <p>Why this is needed: Kafka's clients do not retry these (an {@link AuthenticationException} or an
 * {@link AuthorizationException} is not retriable: {@code poll}, {@code send} and the admin calls throw it),
 * so a stream thread dies of them; Kafka Streams 4.3's own default answer to a dead thread is
 * {@code SHUTDOWN_CLIENT}, but this app answers {@code REPLACE_THREAD} for the faults that do pass (a registry
 * outage, a model down), and a replaced thread meets the same refusal at once: without this class a wrong
 * password replaced threads forever, each failure with a stack trace. A missing source topic is the same:
 * Kafka Streams throws {@link MissingSourceTopicException} at every rebalance until someone creates it.
 */
public final class FatalErrors {

    private static final Logger LOG = LoggerFactory.getLogger(FatalErrors.class);

    private final String bootstrapServers;
    private final String applicationId;
    private final String candidatesTopic;
    private volatile String cause;

    /**
     * @param bootstrapServers the brokers, as configured (named in the messages)
     * @param applicationId    the group id and transactional id prefix Kafka Streams uses
     * @param candidatesTopic  topic.candidates, as configured
     */
    public FatalErrors(String bootstrapServers, String applicationId, String candidatesTopic) {
        this.bootstrapServers = bootstrapServers;
        this.applicationId = applicationId;
        this.candidatesTopic = candidatesTopic;
    }

    static FatalErrors of(RerankerConfig config) {
        java.util.Properties props = config.streamsProperties();
        return new FatalErrors(Objects.toString(props.get("bootstrap.servers"), "(bootstrap.servers not set)"),
                Objects.toString(props.get("application.id")), config.getString(RerankerConfig.TOPIC_CANDIDATES));
    }

    /** One line saying what no retry can cure in {@code error} (or any of its causes) and what to change; empty if a retry may help. */
    public Optional<String> describe(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            Optional<String> line = describeOne(t);
            if (line.isPresent()) {
                return line;
            }
        }
        return Optional.empty();
    }

    private Optional<String> describeOne(Throwable t) {
        String what = t.getClass().getSimpleName() + ": " + t.getMessage();
        if (t instanceof SslAuthenticationException) {
            return Optional.of("the broker at " + bootstrapServers + " refused the TLS handshake (" + what
                    + "): check security.protocol and the ssl.* settings (trust store, key store)");
        }
        if (t instanceof AuthenticationException) {
            return Optional.of("the broker at " + bootstrapServers + " refused authentication (" + what
                    + "): check sasl.jaas.config (user name and password), sasl.mechanism and security.protocol");
        }
        if (t instanceof TopicAuthorizationException e) {
            String topics = e.unauthorizedTopics().isEmpty() ? "a topic (topic.candidates=" + candidatesTopic + ", or the results or"
                    + " dead-letter topic)" : "topics " + e.unauthorizedTopics();
            return Optional.of("the broker refused access to " + topics + " (" + what + "): grant this principal"
                    + " READ on the candidates topic, WRITE on the results and dead-letter topics and ALL on topics prefixed '"
                    + applicationId + "-', or change topic.candidates / topic.results / topic.dead.letters");
        }
        if (t instanceof GroupAuthorizationException) {
            return Optional.of("the broker refused access to consumer group '" + applicationId + "' (" + what
                    + "): grant this principal READ on group " + applicationId + ", or change application.id");
        }
        if (t instanceof TransactionalIdAuthorizationException) {
            return Optional.of("the broker refused the transactional ids of exactly-once (" + what + "): grant this principal WRITE"
                    + " on transactional ids prefixed '" + applicationId + "-', or change application.id");
        }
        if (t instanceof ClusterAuthorizationException) {
            return Optional.of("the broker refused a cluster operation (" + what + "): grant this principal IDEMPOTENT_WRITE on the"
                    + " cluster (exactly-once producers need it)");
        }
        if (t instanceof AuthorizationException) {
            return Optional.of("the broker refused an operation (" + what + "): check this principal's ACLs");
        }
        if (t instanceof MissingSourceTopicException) {
            return Optional.of("an input topic is missing (" + what + "; topic.candidates=" + candidatesTopic + "): create it, or set"
                    + " topics.create=true and start again");
        }
        return Optional.empty();
    }

    /**
     * The stream threads' handler: an error no retry can cure shuts this client down, once, with one ERROR line
     * saying what to change (its {@link #cause()} then says it too); any other error goes to {@code otherwise}.
     */
    public StreamsUncaughtExceptionHandler handler(StreamsUncaughtExceptionHandler otherwise) {
        return error -> {
            Optional<String> fatal = describe(error);
            if (fatal.isEmpty()) {
                return otherwise.handle(error);
            }
            if (cause == null) {
                cause = fatal.get();
                LOG.error("Stopping: {}", cause);
                LOG.debug("The error that stopped the app", error);
            }
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        };
    }

    /** What stopped the app, once the handler stopped it for an error no retry cures. */
    public Optional<String> cause() {
        return Optional.ofNullable(cause);
    }
}
