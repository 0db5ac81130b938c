package dev.kafkareranker.serde;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serde's settings, under the keys Confluent's serde reads, so that one configuration drives
 * either implementation. Unknown keys are ignored: the serde is handed the whole application config.
 *
 * <p>Confluent's serde reads more keys than this one implements. Those it implements are declared here
 * ({@code use.schema.id}, {@code normalize.schemas}, {@code specific.avro.value.type}, bearer auth with a
 * static token, its retry keys...). The others ({@link #CONFLUENT_IGNORED}) are accepted so that a
 * configuration written for Confluent's serde starts with this one too, each logged once at WARN as
 * ignored: none of them changes the bytes written or read (the connection ones, {@code proxy.*},
 * {@code http.*}, the extra {@code schema.registry.ssl.*}, leave the JDK's defaults in place).
 * {@code avro.remove.java.properties} is among
 * them because this serde always registers the contract as written, without Avro's Java properties (see
 * {@link AvroSerializer}).
 */
public final class SerdeConfig extends AbstractConfig {

    private static final Logger LOG = LoggerFactory.getLogger(SerdeConfig.class);

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
    /** Confluent's names (SchemaRegistryClientConfig) for the client's retries of transient failures. */
    public static final String MAX_RETRIES = "max.retries";
    public static final String RETRIES_WAIT_MS = "retries.wait.ms";
    public static final String RETRIES_MAX_WAIT_MS = "retries.max.wait.ms";
    public static final String SSL_TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
    public static final String SSL_TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String SSL_TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
    public static final String SSL_KEYSTORE_LOCATION = "schema.registry.ssl.keystore.location";
    public static final String SSL_KEYSTORE_PASSWORD = "schema.registry.ssl.keystore.password";
    public static final String SSL_KEYSTORE_TYPE = "schema.registry.ssl.keystore.type";
    public static final String SSL_KEY_PASSWORD = "schema.registry.ssl.key.password";

    public static final String USE_SCHEMA_ID = "use.schema.id";
    public static final String NORMALIZE_SCHEMAS = "normalize.schemas";
    public static final String SPECIFIC_AVRO_KEY_TYPE = "specific.avro.key.type";
    public static final String SPECIFIC_AVRO_VALUE_TYPE = "specific.avro.value.type";
    public static final String BEARER_AUTH_CREDENTIALS_SOURCE = "bearer.auth.credentials.source";
    public static final String BEARER_AUTH_TOKEN = "bearer.auth.token";
    /** Where the writer's schema id goes (Confluent 8.0's keys): the payload prefix, or a record header as a GUID. */
    public static final String KEY_SCHEMA_ID_SERIALIZER = "key.schema.id.serializer";
    public static final String VALUE_SCHEMA_ID_SERIALIZER = "value.schema.id.serializer";
    /** Where the reader looks for it: a header, then the prefix (dual, Confluent's default), or the prefix only. */
    public static final String KEY_SCHEMA_ID_DESERIALIZER = "key.schema.id.deserializer";
    public static final String VALUE_SCHEMA_ID_DESERIALIZER = "value.schema.id.deserializer";
    /** Confluent's classes for those keys, accepted with or without this package. */
    private static final String CONFLUENT_SCHEMA_ID_PACKAGE = "io.confluent.kafka.serializers.schema.id.";
    private static final String PREFIX_SERIALIZER = "PrefixSchemaIdSerializer";
    private static final String HEADER_SERIALIZER = "HeaderSchemaIdSerializer";
    private static final String DUAL_DESERIALIZER = "DualSchemaIdDeserializer";
    private static final String PREFIX_DESERIALIZER = "PrefixSchemaIdDeserializer";
    /** Confluent's older name for basic.auth.user.info, still read by its serde. */
    public static final String LEGACY_BASIC_AUTH_USER_INFO = "schema.registry.basic.auth.user.info";

    /**
     * Keys of Confluent's serde (AbstractKafkaSchemaSerDeConfig, KafkaAvroSerializerConfig,
     * KafkaAvroDeserializerConfig, SchemaRegistryClientConfig, as of its 7.x/8.x lines) that this serde
     * accepts and ignores, with a WARN once per key. Listed as far as they are known; a newer one is refused
     * as unknown with this serde, and passes with Confluent's (see KnownKeys in streams-app).
     */
    public static final Set<String> CONFLUENT_IGNORED = Set.of(
            "avro.remove.java.properties", "avro.reflection.allow.null", "avro.use.logical.type.converters",
            "id.compatibility.strict", "latest.compatibility.strict", "latest.cache.size",
            "max.schemas.per.subject", "use.latest.with.metadata", "context.name.strategy", "schema.reflection",
            "schema.format", "propagate.schema.tags", "rule.executors", "rule.actions", "rule.service.loader.enable",
            "proxy.host", "proxy.port", "http.connect.timeout.ms", "http.read.timeout.ms",
            "missing.id.cache.ttl.sec", "missing.version.cache.ttl.sec", "missing.schema.cache.ttl.sec",
            "missing.cache.size", "reference.subject.name.strategy",
            "bearer.auth.logical.cluster", "bearer.auth.identity.pool.id", "bearer.auth.issuer.endpoint.url",
            "bearer.auth.client.id", "bearer.auth.client.secret", "bearer.auth.scope", "bearer.auth.scope.claim.name",
            "bearer.auth.sub.claim.name", "bearer.auth.cache.expiry.buffer.seconds", "bearer.auth.custom.provider.class",
            "schema.registry.ssl.protocol", "schema.registry.ssl.enabled.protocols", "schema.registry.ssl.cipher.suites",
            "schema.registry.ssl.endpoint.identification.algorithm", "schema.registry.ssl.keymanager.algorithm",
            "schema.registry.ssl.trustmanager.algorithm", "schema.registry.ssl.provider",
            "schema.registry.ssl.secure.random.implementation", "schema.registry.ssl.engine.factory.class");

    /** The ignored keys already logged in this JVM: every serde instance is configured with the whole config. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

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
            // 10 s: one call may take (1 + max.retries) timeouts plus the waits, 41.4 s with the defaults, which
            // stays under the app's 60 s transaction timeout; 30 s each would outlast it and fence the thread.
            .define(REQUEST_TIMEOUT_MS, Type.INT, 10_000, ConfigDef.Range.atLeast(1), Importance.LOW,
                    "Timeout of one registry request (connect and answer); each retry gets its own.")
            // Confluent's keys; its defaults (3, 1000, 20000) can hold a stream thread for half a minute,
            // these keep a transient outage's cost to about 1.4 s of waiting before the task fails.
            .define(MAX_RETRIES, Type.INT, RestSchemaRegistryClient.Retry.DEFAULT.maxRetries(), ConfigDef.Range.atLeast(0),
                    Importance.LOW, "Retries of a registry call that failed transiently (unreachable, timeout, HTTP 429, 5xx); 0 = none.")
            .define(RETRIES_WAIT_MS, Type.LONG, RestSchemaRegistryClient.Retry.DEFAULT.initialWait().toMillis(),
                    ConfigDef.Range.atLeast(0), Importance.LOW,
                    "Wait before the first retry; it doubles with each retry, with jitter (each wait drawn from [w/2, w]).")
            .define(RETRIES_MAX_WAIT_MS, Type.LONG, RestSchemaRegistryClient.Retry.DEFAULT.maxWait().toMillis(),
                    ConfigDef.Range.atLeast(0), Importance.LOW,
                    "Longest wait between two retries, also the cap on a server's Retry-After.")
            .define(USE_SCHEMA_ID, Type.INT, -1, ConfigDef.Range.atLeast(-1), Importance.LOW,
                    "Write with this schema id (with auto.register.schemas=false); the record's schema must be that id's schema. -1 = off.")
            .define(NORMALIZE_SCHEMAS, Type.BOOLEAN, false, Importance.LOW,
                    "Ask the registry to normalize schemas when registering and looking them up (?normalize=true).")
            .define(SPECIFIC_AVRO_KEY_TYPE, Type.CLASS, null, Importance.LOW,
                    "Generated class that keys are read as, whatever class the writer's schema names.")
            .define(SPECIFIC_AVRO_VALUE_TYPE, Type.CLASS, null, Importance.LOW,
                    "Generated class that values are read as, whatever class the writer's schema names.")
            .define(BEARER_AUTH_CREDENTIALS_SOURCE, Type.STRING, "STATIC_TOKEN", Importance.LOW,
                    "Bearer auth for the registry: only STATIC_TOKEN (bearer.auth.token) here; OAUTHBEARER and the others need Confluent's serde.")
            .define(BEARER_AUTH_TOKEN, Type.PASSWORD, null, Importance.LOW,
                    "Static bearer token sent as Authorization: Bearer TOKEN; unset = no bearer auth.")
            .define(KEY_SCHEMA_ID_SERIALIZER, Type.STRING, PREFIX_SERIALIZER, schemaIdClass(PREFIX_SERIALIZER, HEADER_SERIALIZER),
                    Importance.LOW, "Where a key's schema id goes: PrefixSchemaIdSerializer (magic byte 0 and the id before the Avro"
                            + " bytes) or HeaderSchemaIdSerializer (the schema's GUID in the __key_schema_id header; the registry"
                            + " must give GUIDs). Confluent's class names accepted.")
            .define(VALUE_SCHEMA_ID_SERIALIZER, Type.STRING, PREFIX_SERIALIZER, schemaIdClass(PREFIX_SERIALIZER, HEADER_SERIALIZER),
                    Importance.LOW, "Where a value's schema id goes, as for keys, in the __value_schema_id header.")
            .define(KEY_SCHEMA_ID_DESERIALIZER, Type.STRING, DUAL_DESERIALIZER, schemaIdClass(DUAL_DESERIALIZER, PREFIX_DESERIALIZER),
                    Importance.LOW, "Where a key's schema id is read from: DualSchemaIdDeserializer (the __key_schema_id header"
                            + " when the record has one, else the payload prefix) or PrefixSchemaIdDeserializer (the prefix only)."
                            + " Confluent's class names accepted.")
            .define(VALUE_SCHEMA_ID_DESERIALIZER, Type.STRING, DUAL_DESERIALIZER, schemaIdClass(DUAL_DESERIALIZER, PREFIX_DESERIALIZER),
                    Importance.LOW, "Where a value's schema id is read from, as for keys, with the __value_schema_id header.")
            .define(LEGACY_BASIC_AUTH_USER_INFO, Type.PASSWORD, null, Importance.LOW,
                    "Older name of basic.auth.user.info, read when that is unset.")
            .define(SSL_TRUSTSTORE_LOCATION, Type.STRING, null, Importance.LOW, "Trust store for an https registry; the JDK's when unset.")
            .define(SSL_TRUSTSTORE_PASSWORD, Type.PASSWORD, null, Importance.LOW, "Trust store password.")
            .define(SSL_TRUSTSTORE_TYPE, Type.STRING, "JKS", Importance.LOW, "Trust store type (JKS, PKCS12).")
            .define(SSL_KEYSTORE_LOCATION, Type.STRING, null, Importance.LOW, "Key store for mutual TLS with the registry.")
            .define(SSL_KEYSTORE_PASSWORD, Type.PASSWORD, null, Importance.LOW, "Key store password.")
            .define(SSL_KEYSTORE_TYPE, Type.STRING, "JKS", Importance.LOW, "Key store type (JKS, PKCS12).")
            .define(SSL_KEY_PASSWORD, Type.PASSWORD, null, Importance.LOW, "Password of the key in the key store.");

    public SerdeConfig(Map<?, ?> props) {
        super(DEFINITION, props, false);
        for (Object key : props.keySet()) {
            // avro.remove.java.properties=true asks for what this serde always does: nothing to warn about.
            boolean asDone = "avro.remove.java.properties".equals(key) && "true".equals(String.valueOf(props.get(key)));
            if (CONFLUENT_IGNORED.contains(String.valueOf(key)) && !asDone && WARNED.add(String.valueOf(key))) {
                LOG.warn("{} is a setting of Confluent's serde that this serde (dev.kafkareranker.serde) does not implement"
                        + " and ignores. To have it honoured, set value.serde.class to Confluent's serde.", key);
            }
        }
        String bearerSource = getString(BEARER_AUTH_CREDENTIALS_SOURCE);
        if (getPassword(BEARER_AUTH_TOKEN) != null && !"STATIC_TOKEN".equals(bearerSource)) {
            throw new ConfigException(BEARER_AUTH_CREDENTIALS_SOURCE, bearerSource,
                    "this serde supports only STATIC_TOKEN (with bearer.auth.token); for OAuth use Confluent's serde (value.serde.class)");
        }
    }

    /** Whether the serializer writes the schema id as a GUID in a header (HeaderSchemaIdSerializer). */
    public boolean headerSchemaId(boolean isKey) {
        return simpleSchemaIdClass(getString(isKey ? KEY_SCHEMA_ID_SERIALIZER : VALUE_SCHEMA_ID_SERIALIZER)).equals(HEADER_SERIALIZER);
    }

    /** Whether the deserializer looks for a schema id header before the prefix (DualSchemaIdDeserializer). */
    public boolean dualSchemaIdReader(boolean isKey) {
        return simpleSchemaIdClass(getString(isKey ? KEY_SCHEMA_ID_DESERIALIZER : VALUE_SCHEMA_ID_DESERIALIZER)).equals(DUAL_DESERIALIZER);
    }

    private static String simpleSchemaIdClass(String value) {
        String trimmed = value.trim();
        return trimmed.startsWith(CONFLUENT_SCHEMA_ID_PACKAGE) ? trimmed.substring(CONFLUENT_SCHEMA_ID_PACKAGE.length()) : trimmed;
    }

    /** One of {@code names}, or Confluent's class of that name; custom classes are Confluent's serde's business. */
    private static ConfigDef.Validator schemaIdClass(String... names) {
        return (name, value) -> {
            if (value == null || !List.of(names).contains(simpleSchemaIdClass(value.toString()))) {
                throw new ConfigException(name, value, "expected " + String.join(" or ", names) + " (or Confluent's "
                        + CONFLUENT_SCHEMA_ID_PACKAGE + " class of that name); another class needs Confluent's serde (value.serde.class)");
            }
        };
    }

    public int useSchemaId() {
        return getInt(USE_SCHEMA_ID);
    }

    /** The generated class that keys or values must be read as, or null when none is declared. */
    @SuppressWarnings("unchecked")
    public Class<? extends SpecificRecord> specificType(boolean isKey) {
        String key = isKey ? SPECIFIC_AVRO_KEY_TYPE : SPECIFIC_AVRO_VALUE_TYPE;
        Class<?> type = getClass(key);
        if (type != null && !SpecificRecord.class.isAssignableFrom(type)) {
            throw new ConfigException(key, type.getName(), "expected a generated Avro class (an org.apache.avro.specific.SpecificRecord)");
        }
        return (Class<? extends SpecificRecord>) type;
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
                Password info = getPassword(BASIC_AUTH_USER_INFO) != null
                        ? getPassword(BASIC_AUTH_USER_INFO) : getPassword(LEGACY_BASIC_AUTH_USER_INFO);
                if (info == null || !info.value().contains(":")) {
                    throw new ConfigException(BASIC_AUTH_USER_INFO, "[hidden]",
                            "basic.auth.credentials.source=USER_INFO needs basic.auth.user.info as user:password");
                }
                userInfo = Optional.of(info.value());
            }
            Optional<String> authorization = userInfo.map(info ->
                    "Basic " + Base64.getEncoder().encodeToString(info.getBytes(StandardCharsets.UTF_8)));
            Password bearer = getPassword(BEARER_AUTH_TOKEN);
            if (bearer != null) {
                if (authorization.isPresent()) {
                    throw new ConfigException(BEARER_AUTH_TOKEN, "[hidden]",
                            "set either basic auth (basic.auth.user.info or user:password@ in schema.registry.url) or a bearer token, not both");
                }
                authorization = Optional.of("Bearer " + bearer.value());
            }
            raw = new RestSchemaRegistryClient(bases, authorization, sslContext(),
                    Duration.ofMillis(getInt(REQUEST_TIMEOUT_MS)), retry(), getBoolean(NORMALIZE_SCHEMAS));
        }
        long ttl = getLong(LATEST_CACHE_TTL_SEC);
        return new CachingSchemaRegistryClient(raw, ttl < 0 ? Duration.ofDays(36_500) : Duration.ofSeconds(ttl),
                Clock.systemUTC());
    }

    /** The retries of transient registry failures these settings ask for. */
    public RestSchemaRegistryClient.Retry retry() {
        return new RestSchemaRegistryClient.Retry(getInt(MAX_RETRIES), Duration.ofMillis(getLong(RETRIES_WAIT_MS)),
                Duration.ofMillis(getLong(RETRIES_MAX_WAIT_MS)));
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
