package dev.kafkareranker.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** The on-disk layouts {@code eval} reads, and which one a directory holds. */
public enum CollectionFormat {

    /** Glasgow/SMART: {@code *.ALL}, {@code *.QRY}, {@code *.REL} (MED, CISI, ...). */
    SMART(new SmartReader()),
    /** Cranfield as distributed: {@code cran.all.1400}, {@code cran.qry}, {@code cranqrel}. */
    CRANFIELD(new CranfieldReader()),
    /** {@code corpus.tsv} or {@code corpus/} of {@code <DOC>} files, {@code topics.tsv}, {@code qrels.txt}. */
    TREC(new TrecReader()),
    /** {@code corpus.jsonl}, {@code queries.jsonl}, {@code qrels/test.tsv}. */
    BEIR(new BeirReader());

    private final CollectionReader reader;

    CollectionFormat(CollectionReader reader) {
        this.reader = reader;
    }

    public TestCollection read(Path dir) throws IOException {
        return reader.read(dir);
    }

    public static CollectionFormat parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--format '" + name + "' is not one of " + Arrays.toString(names()));
        }
    }

    /** Guesses the layout from the files present; an error naming what each layout needs when none fits. */
    public static CollectionFormat detect(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("not a directory: " + dir);
        }
        if (BeirReader.looksLike(dir)) {
            return BEIR;
        }
        if (TrecReader.looksLike(dir)) {
            return TREC;
        }
        if (CranfieldReader.looksLike(dir)) {
            return CRANFIELD;
        }
        if (!CollectionFiles.withSuffix(dir, ".ALL").isEmpty() && !CollectionFiles.withSuffix(dir, ".QRY").isEmpty()
                && !CollectionFiles.withSuffix(dir, ".REL").isEmpty()) {
            return SMART;
        }
        throw new IllegalArgumentException("cannot tell the layout of " + dir + ": expected *.ALL, *.QRY and *.REL (smart), "
                + TrecReader.TOPICS + " and " + TrecReader.QRELS + " (trec), " + CranfieldReader.DOCUMENTS + ", "
                + CranfieldReader.QUERIES + " and " + CranfieldReader.QRELS + " (cranfield), or " + BeirReader.CORPUS + " (beir); "
                + "or name it with --format");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    private static String[] names() {
        return Arrays.stream(values()).map(CollectionFormat::label).toArray(String[]::new);
    }
}
