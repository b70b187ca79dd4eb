package io.cgscope.testing;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a test must undo, undone in reverse order by {@link #close()}; every step runs even when an
 * earlier one fails, and the first failure is reported.
 */
public final class Cleanup implements AutoCloseable {
    private final Deque<AutoCloseable> steps = new ArrayDeque<>();

    public void push(AutoCloseable step) {
        steps.push(step);
    }

    @Override
    public void close() {
        Throwable first = null;
        while (!steps.isEmpty()) {
            try {
                steps.pop().close();
            } catch (Throwable t) {
                if (first == null) {
                    first = t;
                }
            }
        }
        if (first != null) {
            throw new AssertionError("cleanup failed", first);
        }
    }
}
