package io.cgscope.index;

/** Whether a cgroup exists in the kernel now ({@code live}) or was removed and is retained ({@code dead}). */
public enum State {
    LIVE, DEAD;

    /** As in JSON and labels: {@code live}, {@code dead}. */
    public String label() {
        return this == LIVE ? "live" : "dead";
    }
}
