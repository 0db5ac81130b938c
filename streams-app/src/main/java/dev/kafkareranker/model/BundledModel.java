package dev.kafkareranker.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The model that ships inside the jar: BAAI's bge-small-en-v1.5 (int8-quantized ONNX, from langchain4j's
 * Maven artifact), served as a bi-encoder. It needs no download, which is why it is the default; a
 * trained cross-encoder is what a user should bring for quality.
 *
 * <p>ONNX Runtime and the tokenizer read from paths, and the files live inside a jar, so they are
 * extracted once to {@code java.io.tmpdir/kafka-reranker-model-<content hash>} and reused by every later
 * start (34 MB, which a crash-looping pod would otherwise copy again at each start). The copy is made in
 * a temporary directory and renamed into place, so a crash mid-copy never leaves a half model under the
 * final name; such an unfinished copy is removed by a later start.
 */
public final class BundledModel {

    public static final String NAME = "bge-small-en-v1.5-q";
    private static final String RESOURCE_DIR = "/default-model/";
    private static final String[] FILES = {"model.onnx", "tokenizer.json", ModelDirectory.RERANKER_JSON};
    static final String DIR_PREFIX = "kafka-reranker-model-";
    static final String PARTIAL_PREFIX = ".kafka-reranker-model-partial-";
    /** An unfinished copy older than this is no other process's copy in progress (the copy takes about a second). */
    static final Duration ABANDONED_AFTER = Duration.ofMinutes(10);

    private BundledModel() {
    }

    /** The bundled model's directory under java.io.tmpdir, extracted there if no earlier start did. */
    public static Path extract() {
        return extract(Path.of(System.getProperty("java.io.tmpdir")));
    }

    static Path extract(Path base) {
        try {
            Files.createDirectories(base);
            removeAbandonedCopies(base);
            Path target = base.resolve(DIR_PREFIX + contentHash());
            if (complete(target)) {
                return target;
            }
            Path partial = Files.createTempDirectory(base, PARTIAL_PREFIX);
            try {
                for (String file : FILES) {
                    try (InputStream in = open(file)) {
                        Files.copy(in, partial.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                try {
                    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
                    // Another process finished the same copy first: same content, same name.
                    if (!complete(target)) {
                        throw new IOException(target + " exists but lacks some of the bundled model's files; remove it", raced);
                    }
                }
            } finally {
                deleteTree(partial);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot extract the bundled model under " + base
                    + " (java.io.tmpdir; or set model.dir to a model directory)", e);
        }
    }

    /** SHA-256 over the bundled files, first 16 hex digits: a new model in a new jar gets a new directory. */
    private static String contentHash() throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
        byte[] buffer = new byte[64 * 1024];
        for (String file : FILES) {
            digest.update(file.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            try (InputStream in = new DigestInputStream(open(file), digest)) {
                while (in.read(buffer) >= 0) {
                    // Reading is hashing.
                }
            }
        }
        return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    }

    private static InputStream open(String file) {
        InputStream in = BundledModel.class.getResourceAsStream(RESOURCE_DIR + file);
        if (in == null) {
            throw new ModelLoadException("The bundled model's " + file + " is missing from the classpath ("
                    + RESOURCE_DIR + file + "); rebuild streams-app with mvn package");
        }
        return in;
    }

    private static boolean complete(Path dir) {
        for (String file : FILES) {
            if (!Files.isRegularFile(dir.resolve(file))) {
                return false;
            }
        }
        return true;
    }

    private static void removeAbandonedCopies(Path base) throws IOException {
        Instant cutoff = Instant.now().minus(ABANDONED_AFTER);
        try (DirectoryStream<Path> partials = Files.newDirectoryStream(base, PARTIAL_PREFIX + "*")) {
            for (Path p : partials) {
                FileTime modified = Files.getLastModifiedTime(p);
                if (modified.toInstant().isBefore(cutoff)) {
                    deleteTree(p);
                }
            }
        }
    }

    /** Kafka's own recursive delete: links are removed, not followed, and a path already gone is no error. */
    private static void deleteTree(Path dir) throws IOException {
        org.apache.kafka.common.utils.Utils.delete(dir.toFile());
    }
}
