package io.cgscope.bpf;

/** What the metrics read of the OOM kill program: kills per victim cgroup id. {@link OomKills} is the real one. */
public interface OomKillCounts {
    /** Whether the program is loaded and attached. */
    boolean up();

    /** The kills per victim cgroup id (a one-word table), valid until the next read. */
    MapTable read() throws BpfException;

    /** Removes a cgroup's count (after its value was folded). */
    void delete(long cgroupId) throws BpfException;

    /** Kill records the ring buffer had no room for: counted, but missing from {@code /events}. */
    long lostRecords();
}
