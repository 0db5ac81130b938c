package dev.kafkareranker.inference;

/**
 * One row of a request, waiting in the engine's queue or in a batch.
 *
 * @param request       the request it belongs to
 * @param index         its place among the request's rows
 * @param encoded       its tokens
 * @param enqueuedNanos when it was queued, on the engine's clock: the queue delay is measured from it
 */
record QueuedRow(PendingRequest request, int index, Encoded encoded, long enqueuedNanos) {

    int length() {
        return encoded.length();
    }

    /** Whether its request still wants it: one that was cancelled or timed out, or already failed, does not. */
    boolean wanted() {
        return !request.future.isDone();
    }
}
