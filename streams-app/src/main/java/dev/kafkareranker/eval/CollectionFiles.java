package dev.kafkareranker.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** What the readers share: line reading with line numbers, whitespace clean-up, errors that name the file. */
final class CollectionFiles {

    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private CollectionFiles() {
    }

    /** One line and where it came from, for error messages. */
    record Line(Path file, int number, String text) {

        IllegalArgumentException error(String problem) {
            return new IllegalArgumentException(file + " line " + number + ": " + problem + ": '" + abbreviate(text) + "'");
        }
    }

    /**
     * Every line of a UTF-8 file; readLine() ends lines at LF, CR or CRLF, so the CRLF of the
     * SMART files and Unix files read alike.
     */
    static List<Line> lines(Path file) throws IOException {
        List<Line> out = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int number = 0;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                out.add(new Line(file, ++number, line));
            }
        }
        return out;
    }

    /** Trims and collapses runs of whitespace (the SMART files pad their lines with spaces). */
    static String clean(String text) {
        return WHITESPACE.matcher(text).replaceAll(" ").strip();
    }

    static Path required(Path dir, String name) {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("missing file " + file);
        }
        return file;
    }

    /** The one file in {@code dir} whose name ends with {@code suffix} (any case); an error for none or several. */
    static Path singleWithSuffix(Path dir, String suffix) throws IOException {
        List<Path> found = withSuffix(dir, suffix);
        if (found.size() != 1) {
            throw new IllegalArgumentException("expected exactly one *" + suffix + " file in " + dir + ", found " + found.size()
                    + (found.isEmpty() ? "" : ": " + found));
        }
        return found.get(0);
    }

    static List<Path> withSuffix(Path dir, String suffix) throws IOException {
        String lower = suffix.toLowerCase(Locale.ROOT);
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(lower))
                    .sorted()
                    .toList();
        }
    }

    static int parseGrade(Line line, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            // BEIR and some TREC qrels write grades as 1.0; anything else fractional is a different file.
            try {
                double d = Double.parseDouble(value);
                if (d == Math.rint(d)) {
                    return (int) d;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw line.error("relevance '" + value + "' is not an integer grade");
        }
    }

    private static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 77) + "..." : text;
    }
}
