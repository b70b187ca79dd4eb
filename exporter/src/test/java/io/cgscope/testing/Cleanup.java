package io.cgscope.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.stream.Stream;

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

    /** Deletes a scratch directory (plain files, not cgroups) and all below it; nothing when absent. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
