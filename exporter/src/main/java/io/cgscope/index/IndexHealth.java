package io.cgscope.index;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * How the index is kept, as {@code /healthz}, the {@code cgscope_index_*} metrics and the landing
 * page show it: a small state ({@link Status}: which source keeps the index, whether it follows the
 * kernel and why not, why it runs in a weaker mode than asked for) and counters.
 *
 * <p>Who writes what: the {@link IndexKeeper} sets the state as sources start, fail, recover and
 * hand over; a source reports what it sees ({@link Counter}: events, overflows, restarts) through
 * {@link #count}; the index itself counts lookups, unresolved CREATEs and the end of retention.
 * Nobody else writes. Any thread reads; the state is one immutable value, so a reader sees mode,
 * reason and degradation of one moment together.
 */
public final class IndexHealth {
    /** Which source keeps the index (the label of {@code cgscope_index_info{mode}} and {@code index_mode}). */
    public enum Mode {
        /** Before the first source started. */
        STARTING,
        /** fanotify events on the whole cgroup2 file system. */
        FANOTIFY,
        /** The cgroup tracepoints' records through BPF (kernels whose kernfs has no fsid). */
        BPF,
        /** Periodic sweeps of the tree. */
        SWEEP;

        /** As shown: {@code fanotify}, {@code sweep}, {@code starting}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What the sources and the index count; each is one series of a {@code cgscope_index_*} family. */
    public enum Counter {
        /** CREATE events applied ({@code cgscope_index_events_total{type="create"}}). */
        CREATE_EVENTS,
        /** DELETE events applied ({@code cgscope_index_events_total{type="delete"}}). */
        DELETE_EVENTS,
        /** The kernel's queue overflowed, or the BPF ring was full: events were lost (each triggers a re-sync). */
        OVERFLOWS,
        /** Records the BPF lifecycle programs could not write because the ring was full. */
        LOST_RECORDS,
        /** Re-sync sweeps after events may have been lost ({@link #resynced}). */
        RESYNCS,
        /** Nanoseconds spent in re-sync sweeps ({@link #resynced}). */
        RESYNC_NANOS,
        /** Created cgroups whose id never arrived. */
        UNRESOLVED,
        /** Events of another file system (ignored). */
        FOREIGN_EVENTS,
        /** Events or records that could not be parsed (ignored). */
        MALFORMED_EVENTS,
        /** Unknown ids an on-demand kernel lookup found. */
        LOOKUPS,
        /** Kernel lookups by id that could not be made. */
        LOOKUP_FAILURES,
        /** Times a source's reader failed and restarted with a re-sync. */
        READER_RESTARTS,
        /** Created cgroups' ids found by one listing of the parent directory per batch. */
        CHILD_IDS_LISTED,
        /** Created cgroups' ids found by a lookup of the name. */
        CHILD_IDS_LOOKED_UP,
        /** Dead cgroups whose retention ended. */
        RETENTION_EXPIRED,
        /** Dead cgroups given up before their retention ended: more than the budget were retained. */
        RETENTION_OVER_BUDGET
    }

    /**
     * The state at one moment.
     *
     * @param mode         which source keeps the index
     * @param degraded     null normally; why the index runs in a weaker mode than asked for (e.g. sweeps
     *                     after the fanotify fd was lost and a new mark was refused)
     * @param notFollowing null while the index follows the kernel; otherwise why not
     */
    public record Status(Mode mode, String degraded, String notFollowing) {
        public boolean following() {
            return notFollowing == null;
        }
    }

    private static final Counter[] COUNTERS = Counter.values();

    private final AtomicReference<Status> status = new AtomicReference<>(new Status(Mode.STARTING, null, "starting"));
    private final LongAdder[] counters = new LongAdder[COUNTERS.length];
    private final AtomicLong lastSweepNanos = new AtomicLong();

    public IndexHealth() {
        for (int i = 0; i < counters.length; i++) {
            counters[i] = new LongAdder();
        }
    }

    // ---------------------------------------------------------------- readers

    public Status status() {
        return status.get();
    }

    public long get(Counter c) {
        return counters[c.ordinal()].sum();
    }

    /** How long the last full sweep took (start-up, re-sync or sweep mode), in nanoseconds. */
    public long lastSweepNanos() {
        return lastSweepNanos.get();
    }

    // ---------------------------------------------------------------- counters (sources, the index)

    public void count(Counter c) {
        counters[c.ordinal()].increment();
    }

    public void add(Counter c, long n) {
        counters[c.ordinal()].add(n);
    }

    /** A full sweep took this long. */
    public void swept(long nanos) {
        lastSweepNanos.set(nanos);
    }

    /** A re-sync sweep took this long: one more re-sync, its time, and the last sweep's. */
    public void resynced(long nanos) {
        swept(nanos);
        count(Counter.RESYNCS);
        add(Counter.RESYNC_NANOS, nanos);
    }

    // ---------------------------------------------------------------- state (the keeper)

    /** A source of this mode keeps the index and follows the kernel. */
    public void following(Mode mode) {
        status.updateAndGet(s -> new Status(mode, s.degraded(), null));
    }

    /** The source follows the kernel again (after {@link #notFollowing}). */
    public void followingAgain() {
        status.updateAndGet(s -> new Status(s.mode(), s.degraded(), null));
    }

    /** The index does not follow the kernel: {@code reason} says why (and what is being done about it). */
    public void notFollowing(String reason) {
        status.updateAndGet(s -> new Status(s.mode(), s.degraded(), reason));
    }

    /** The index is kept in a weaker mode than asked for, for this reason (null: it is not). */
    public void degraded(String reason) {
        status.updateAndGet(s -> new Status(s.mode(), reason, s.notFollowing()));
    }
}
