package dev.kafkareranker.app;

import ch.qos.logback.classic.Level;
import org.slf4j.LoggerFactory;

/**
 * Silences Kafka's client loggers while a start-up check runs, and restores them after. The check reports what
 * went wrong in one line of its own; the clients would add their view of the same failure (a wrong password as
 * an ERROR from the network client, a broker that does not answer as a WARN per reconnect) before it.
 * Only for the checks that run before anything else in the process: the level is the logger's, not the client's.
 */
final class QuietClientLogs implements AutoCloseable {

    private static final String CLIENTS = "org.apache.kafka.clients";
    private static final String NETWORK_CLIENT = "org.apache.kafka.clients.NetworkClient";

    private final ch.qos.logback.classic.Logger clients;
    private final ch.qos.logback.classic.Logger network;
    private final Level clientsLevel;
    private final Level networkLevel;

    private QuietClientLogs(ch.qos.logback.classic.Logger clients, ch.qos.logback.classic.Logger network) {
        this.clients = clients;
        this.network = network;
        this.clientsLevel = clients == null ? null : clients.getLevel();
        this.networkLevel = network == null ? null : network.getLevel();
        if (clients != null) {
            clients.setLevel(Level.OFF);
            network.setLevel(Level.OFF);
        }
    }

    /** Quiet from now until {@link #close()}; does nothing when SLF4J is bound to another backend than logback. */
    static QuietClientLogs start() {
        if (LoggerFactory.getLogger(CLIENTS) instanceof ch.qos.logback.classic.Logger clients
                && LoggerFactory.getLogger(NETWORK_CLIENT) instanceof ch.qos.logback.classic.Logger network) {
            return new QuietClientLogs(clients, network);
        }
        return new QuietClientLogs(null, null);
    }

    @Override
    public void close() {
        if (clients != null) {
            clients.setLevel(clientsLevel);
            network.setLevel(networkLevel);
        }
    }
}
