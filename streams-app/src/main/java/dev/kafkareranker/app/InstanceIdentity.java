package dev.kafkareranker.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default name of an instance for Kafka's static membership, so that a plain {@code run} config gets
 * a killed instance's tasks back at once after its restart instead of after its session timeout.
 *
 * <p>The name is the host name and a random suffix, kept in a file in the application's state directory
 * ({@value #FILE}) and reused by every start that finds it. Why not derived from the host name and the
 * state directory's path alone: two containers given the same host name (a compose service scaled with
 * {@code hostname:} set) and the same path would join under one name and fence each other. A state
 * directory is Kafka Streams' own unit of identity: it keeps the process id there, and locks it, so two
 * instances on one host cannot share one (the second fails to start), and each container has its own.
 * So the name stays the same exactly as long as the state does: a restart that keeps state.dir (a process
 * restarted in place, a container restarted, a pod with a volume) comes back as the same member; one
 * with a new state.dir (an emptyDir pod replaced, a wiped volume) is a new member, as it would be with
 * dynamic membership.
 */
final class InstanceIdentity {

    static final String FILE = "reranker-instance-id";
    private static final Logger LOG = LoggerFactory.getLogger(InstanceIdentity.class);
    /** group.instance.id allows 249 characters; Kafka Streams appends "-StreamThread-N"-like suffixes. */
    private static final int MAX_HOST_CHARS = 64;

    private InstanceIdentity() {
    }

    /** The name kept in {@code appDir} (state.dir/application.id), made and kept there on the first start. */
    static String of(Path appDir) {
        Path file = appDir.resolve(FILE);
        try {
            if (Files.isRegularFile(file)) {
                String kept = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (!kept.isEmpty()) {
                    LOG.info("Static membership: instance name {} (kept in {}; set instance.id to choose one)", kept, file);
                    return kept;
                }
            }
            byte[] random = new byte[4];
            new SecureRandom().nextBytes(random);
            String made = host() + "-" + HexFormat.of().formatHex(random);
            Files.createDirectories(appDir);
            Path tmp = Files.createTempFile(appDir, FILE, ".tmp");
            Files.writeString(tmp, made + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            LOG.info("Static membership: instance name {} (new; kept in {} for later starts; set instance.id to choose one)", made, file);
            return made;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot keep this instance's name in " + file + ": " + e.getMessage()
                    + " (check state.dir's permissions, or set instance.id)", e);
        }
    }

    /** The host name, or "reranker" when it cannot be had; only letters, digits, '.', '_' and '-'. */
    static String host() {
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                name = "reranker";
            }
        }
        String clean = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
        return clean.isEmpty() ? "reranker" : clean.substring(0, Math.min(MAX_HOST_CHARS, clean.length()));
    }
}
