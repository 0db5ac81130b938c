package dev.kafkareranker.inference;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Every event of the reranker's loggers, DEBUG included, while open: what a user would see in the log. */
final class CapturedLogs implements AutoCloseable {

    private final Logger logger = (Logger) LoggerFactory.getLogger("dev.kafkareranker");
    private final Level previous = logger.getLevel();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    CapturedLogs() {
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.DEBUG);
    }

    /** The formatted messages at exactly {@code level}. */
    List<String> at(Level level) {
        return appender.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** Messages at {@code level} or above whose text contains {@code text}. */
    List<String> atLeast(Level level, String text) {
        return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(level)).map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.contains(text)).toList();
    }

    /** The text of the throwables logged at {@code level}, with their causes. */
    List<String> throwablesAt(Level level) {
        return appender.list.stream().filter(e -> e.getLevel() == level && e.getThrowableProxy() != null).map(e -> {
            StringBuilder out = new StringBuilder();
            for (ch.qos.logback.classic.spi.IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                out.append(t.getMessage()).append('\n');
            }
            return out.toString();
        }).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(previous);
    }
}
