package dev.kafkareranker.it;

import dev.kafkareranker.gather.Topics;

/**
 * Where one app under test reads and writes: its broker and registry, its application.id (also its consumer
 * group and the prefix of its internal topics) and its topics. What a reader of its output needs in order to
 * know when it has read everything ({@link Drained}, {@link ResultWatcher}).
 */
record Pipeline(String bootstrap, String registryUrl, String applicationId, Topics topics) {
}
