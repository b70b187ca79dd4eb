package io.cgscope.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition by polling it (for state that offers nothing to block on), failing with a description. */
public final class Await {
    private Await() {
    }

    /** The stacks of cgscope's own threads, to tell a stuck reader from a slow one. */
    private static String agentThreads() {
        StringBuilder sb = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (t.getName().startsWith("cgscope-")) {
                sb.append("\n  thread ").append(t.getName()).append(" ").append(t.getState());
                for (int i = 0; i < Math.min(stack.length, 12); i++) {
                    sb.append("\n    at ").append(stack[i]);
                }
            }
        });
        return sb.toString();
    }

    public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> whatFailed) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + whatFailed.get() + agentThreads());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }
}
