package dev.kafkareranker.gather;

import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test double for ranking logic: a passage's score is the number it states as {@code score=0.7}
 * (0 when none), so tests can set up ties and orders exactly. Model behaviour is tested with real
 * ONNX models elsewhere.
 */
class StatedScoreScorer implements Scorer {

    private static final Pattern STATED = Pattern.compile("score=(-?[0-9.]+|NaN)");

    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger longestPassage = new AtomicInteger();
    private final String name;

    StatedScoreScorer(String name) {
        this.name = name;
    }

    @Override
    public List<Score> score(String query, List<String> passages) {
        calls.incrementAndGet();
        List<Score> out = new ArrayList<>();
        for (String passage : passages) {
            longestPassage.accumulateAndGet(passage.length(), Math::max);
            Matcher m = STATED.matcher(passage);
            double value = m.find() ? Double.parseDouble(m.group(1)) : 0.0;
            out.add(new Score(value * 10, value));
        }
        return out;
    }

    @Override
    public String modelName() {
        return name;
    }

    @Override
    public String modelVersion() {
        return "test";
    }

    @Override
    public void close() {
    }
}
