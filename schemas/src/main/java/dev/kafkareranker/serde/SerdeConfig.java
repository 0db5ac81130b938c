package dev.kafkareranker.serde;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The serde's settings, under the keys Confluent's serde reads, so that one configuration drives
 * either implementation. Unknown keys are ignored: the serde is handed the whole application config.
 */
public final class SerdeConfig extends AbstractConfig {

    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    public static final String USE_LATEST_VERSION = "use.latest.version";
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";
    public static final String LATEST_CACHE_TTL_SEC = "latest.cache.ttl.sec";
    public static final String KEY_SUBJECT_NAME_STRATEGY = "key.subject.name.strategy";
    public static final String VALUE_SUBJECT_NAME_STRATEGY = "value.subject.name.strategy";
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";
    public static final String SSL_TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
    public static final String SSL_TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String SSL_TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
    public static final String SSL_KEYSTORE_LOCATION = "schema.registry.ssl.keystore.location";
    public static final String SSL_KEYSTORE_PASSWORD = "schema.registry.ssl.keystore.password";
    public static final String SSL_KEYSTORE_TYPE = "schema.registry.ssl.keystore.type";
    public static final String SSL_KEY_PASSWORD = "schema.registry.ssl.key.password";

    public static final String MOCK_URL_PREFIX = "mock://";

    private static final String CONFLUENT_STRATEGY_PACKAGE = "io.confluent.kafka.serializers.subject.";

    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(SCHEMA_REGISTRY_URL, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, Importance.HIGH,
                    "Comma-separated Schema Registry URLs, tried in order; mock://SCOPE for an in-process registry.")
            .define(AUTO_REGISTER_SCHEMAS, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Register the writer's schema under its subject on first use.")
            .define(USE_LATEST_VERSION, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Write with the id of the subject's latest schema (with auto.register.schemas=false).")
            .define(BASIC_AUTH_CREDENTIALS_SOURCE, Type.STRING, "URL",
                    ConfigDef.ValidString.in("URL", "USER_INFO"), Importance.MEDIUM,
                    "Where basic-auth credentials come from: USER_INFO (basic.auth.user.info) or URL (user:pass@host).")
            .define(BASIC_AUTH_USER_INFO, Type.PASSWORD, null, Importance.MEDIUM,
                    "user:password for basic auth when basic.auth.credentials.source=USER_INFO.")
            .define(SPECIFIC_AVRO_READER, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Read into generated classes instead of GenericRecord.")
            .define(LATEST_CACHE_TTL_SEC, Type.LONG, -1L, Importance.LOW,
                    "How long the subject's latest schema is cached; -1 = for the serde's life.")
            .define(KEY_SUBJECT_NAME_STRATEGY, Type.STRING, "TopicNameStrategy", Importance.LOW,
                    "Subject naming for keys: TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy (Confluent's class names accepted).")
            .define(VALUE_SUBJECT_NAME_STRATEGY, Type.STRING, "TopicNameStrategy", Importance.LOW,
                    "Subject naming for values, as for keys.")
            .define(REQUEST_TIMEOUT_MS, Type.INT, 30_000, ConfigDef.Range.atLeast(1), Importance.LOW,
                    "Timeout of one registry request.")
            .define(SSL_TRUSTSTORE_LOCATION, Type.STRING, null, Importance.LOW, "Trust store for an https registry; the JDK's when unset.")
            .define(SSL_TRUSTSTORE_PASSWORD, Type.PASSWORD, null, Importance.LOW, "Trust store password.")
            .define(SSL_TRUSTSTORE_TYPE, Type.STRING, "JKS", Importance.LOW, "Trust store type (JKS, PKCS12).")
            .define(SSL_KEYSTORE_LOCATION, Type.STRING, null, Importance.LOW, "Key store for mutual TLS with the registry.")
            .define(SSL_KEYSTORE_PASSWORD, Type.PASSWORD, null, Importance.LOW, "Key store password.")
            .define(SSL_KEYSTORE_TYPE, Type.STRING, "JKS", Importance.LOW, "Key store type (JKS, PKCS12).")
            .define(SSL_KEY_PASSWORD, Type.PASSWORD, null, Importance.LOW, "Password of the key in the key store.");

    public SerdeConfig(Map<?, ?> props) {
        super(DEFINITION, props, false);
    }

    public boolean autoRegister() {
        return getBoolean(AUTO_REGISTER_SCHEMAS);
    }

    public boolean useLatestVersion() {
        return getBoolean(USE_LATEST_VERSION);
    }

    public boolean specificReader() {
        return getBoolean(SPECIFIC_AVRO_READER);
    }

    /** The subject naming strategy for keys or values, checked at configure time. */
    public SubjectNameStrategy subjectNameStrategy(boolean isKey) {
        String key = isKey ? KEY_SUBJECT_NAME_STRATEGY : VALUE_SUBJECT_NAME_STRATEGY;
        String value = getString(key);
        String simple = value.startsWith(CONFLUENT_STRATEGY_PACKAGE) ? value.substring(CONFLUENT_STRATEGY_PACKAGE.length()) : value;
        try {
            return SubjectNameStrategy.valueOf(simple);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, value, "expected TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy");
        }
    }

    /** Builds the client these settings describe, with caching in front of it. */
    public SchemaRegistryClient client() {
        List<String> urls = getList(SCHEMA_REGISTRY_URL);
        if (urls.isEmpty()) {
            throw new ConfigException(SCHEMA_REGISTRY_URL, "", "at least one URL is required");
        }
        SchemaRegistryClient raw;
        if (urls.get(0).startsWith(MOCK_URL_PREFIX)) {
            raw = MockSchemaRegistry.forScope(urls.get(0).substring(MOCK_URL_PREFIX.length()));
        } else {
            List<URI> bases = new ArrayList<>();
            Optional<String> userInfo = Optional.empty();
            for (String url : urls) {
                URI uri = URI.create(url.trim());
                if (uri.getUserInfo() != null) {
                    userInfo = Optional.of(uri.getUserInfo());
                    uri = URI.create(uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                            + (uri.getRawPath() == null ? "" : uri.getRawPath()));
                }
                bases.add(uri);
            }
            if ("USER_INFO".equals(getString(BASIC_AUTH_CREDENTIALS_SOURCE))) {
                Password info = getPassword(BASIC_AUTH_USER_INFO);
                if (info == null || !info.value().contains(":")) {
                    throw new ConfigException(BASIC_AUTH_USER_INFO, "[hidden]",
                            "basic.auth.credentials.source=USER_INFO needs basic.auth.user.info as user:password");
                }
                userInfo = Optional.of(info.value());
            }
            raw = new RestSchemaRegistryClient(bases, userInfo, sslContext(),
                    Duration.ofMillis(getInt(REQUEST_TIMEOUT_MS)));
        }
        long ttl = getLong(LATEST_CACHE_TTL_SEC);
        return new CachingSchemaRegistryClient(raw, ttl < 0 ? Duration.ofDays(36_500) : Duration.ofSeconds(ttl),
                Clock.systemUTC());
    }

    /** An SSL context from the schema.registry.ssl.* stores, or null to use the JDK's defaults. */
    SSLContext sslContext() {
        String trustLocation = getString(SSL_TRUSTSTORE_LOCATION);
        String keyLocation = getString(SSL_KEYSTORE_LOCATION);
        if (trustLocation == null && keyLocation == null) {
            return null;
        }
        try {
            TrustManagerFactory trust = null;
            if (trustLocation != null) {
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(load(SSL_TRUSTSTORE_LOCATION, trustLocation, getString(SSL_TRUSTSTORE_TYPE), getPassword(SSL_TRUSTSTORE_PASSWORD)));
            }
            KeyManagerFactory keys = null;
            if (keyLocation != null) {
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                Password keyPassword = getPassword(SSL_KEY_PASSWORD) != null ? getPassword(SSL_KEY_PASSWORD) : getPassword(SSL_KEYSTORE_PASSWORD);
                keys.init(load(SSL_KEYSTORE_LOCATION, keyLocation, getString(SSL_KEYSTORE_TYPE), getPassword(SSL_KEYSTORE_PASSWORD)),
                        keyPassword == null ? null : keyPassword.value().toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new ConfigException("Schema Registry TLS settings are unusable: " + e.getMessage());
        }
    }

    private static KeyStore load(String key, String location, String type, Password password) throws GeneralSecurityException {
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password == null ? null : password.value().toCharArray());
            return store;
        } catch (IOException e) {
            throw new ConfigException(key, location, "cannot be read: " + e.getMessage());
        }
    }
}
