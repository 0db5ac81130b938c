package dev.kafkareranker.serde;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * One registry for a test, either an isolated {@code mock://} scope or a {@link FakeSchemaRegistryServer},
 * so the same serde test runs against both client implementations.
 */
final class TestRegistry implements AutoCloseable {

    enum Kind { MOCK, HTTP }

    private final Kind kind;
    private final String scope;
    private final FakeSchemaRegistryServer server;

    private TestRegistry(Kind kind, String scope, FakeSchemaRegistryServer server) {
        this.kind = kind;
        this.scope = scope;
        this.server = server;
    }

    static TestRegistry open(Kind kind) throws IOException {
        return kind == Kind.MOCK
                ? new TestRegistry(kind, "test-" + UUID.randomUUID(), null)
                : new TestRegistry(kind, null, FakeSchemaRegistryServer.start());
    }

    /** The value for {@code schema.registry.url}. */
    String url() {
        return kind == Kind.MOCK ? SerdeConfig.MOCK_URL_PREFIX + scope : server.url();
    }

    /** A client that sees the same registry, without a cache, for setting up and checking. */
    SchemaRegistryClient client() {
        return kind == Kind.MOCK
                ? MockSchemaRegistry.forScope(scope)
                : new RestSchemaRegistryClient(List.of(URI.create(server.url())), Optional.empty(), null,
                        Duration.ofSeconds(5));
    }

    /** The fake server, for HTTP registries only. */
    FakeSchemaRegistryServer server() {
        if (server == null) {
            throw new IllegalStateException("a mock:// registry has no server");
        }
        return server;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        if (scope != null) {
            MockSchemaRegistry.drop(scope);
        }
    }

    @Override
    public String toString() {
        return kind.name();
    }
}
