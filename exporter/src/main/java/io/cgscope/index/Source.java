package io.cgscope.index;

/** How the index learned of a cgroup. */
public enum Source {
    /** The sweep at start (or every sweep in sweep mode): the cgroup existed before cgscope saw it. */
    SWEEP,
    /** A fanotify event. */
    EVENT,
    /** An on-demand lookup of an id the index did not know yet. */
    LOOKUP,
    /** A re-sync after events were lost. */
    RESYNC;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
