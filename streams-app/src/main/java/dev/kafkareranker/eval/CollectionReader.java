package dev.kafkareranker.eval;

import java.io.IOException;
import java.nio.file.Path;

/** Reads one on-disk layout of a test collection into memory. */
interface CollectionReader {

    TestCollection read(Path dir) throws IOException;
}
