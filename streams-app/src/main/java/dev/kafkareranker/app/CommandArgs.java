package dev.kafkareranker.app;

import java.util.Deque;

/** Option values of the commands, checked as they are read, so a typo costs one line and no start-up. */
final class CommandArgs {

    private CommandArgs() {
    }

    /** The value after {@code option}; an option or nothing there is an error naming the usage. */
    static String value(Deque<String> args, String option, String usage) {
        if (args.isEmpty() || args.peekFirst().startsWith("--")) {
            throw new IllegalArgumentException(option + " needs a value\nusage: " + usage);
        }
        return args.removeFirst();
    }

    static int positive(String option, String value) {
        int n = whole(option, value);
        if (n < 1) {
            throw new IllegalArgumentException(option + " needs a positive whole number, not '" + value + "'");
        }
        return n;
    }

    /** A TCP port: 0 (any free port) to 65535. */
    static int port(String option, String value) {
        int n = whole(option, value);
        if (n < 0 || n > 65_535) {
            throw new IllegalArgumentException(option + " needs a port from 0 (any free port) to 65535, not '" + value + "'");
        }
        return n;
    }

    private static int whole(String option, String value) {
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a whole number, not '" + value + "'");
        }
    }
}
