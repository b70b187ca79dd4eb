package io.cgscope.lifecycle;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Compares which cgroup ids two index sources learned from the kernel's events, side by side:
 * fanotify (which keeps the index) and the BPF lifecycle programs (which only report here), for
 * {@code --cgroup.index-mode=crosscheck}. Each side reports every id it learned by an event
 * (create or delete); an id is settled once it was first seen {@code grace} ago, and counted as
 * seen by both, or by one side only. Thread-safe: each side reports from its own reader thread.
 *
 * <p>Only ids made after both sides were attached can be compared (before that one of them may
 * rightly have missed a cgroup's birth or death): the owner makes a fence cgroup once both are
 * attached and gives its id to {@link #fence}; kernfs ids only grow within a hierarchy, so ids
 * from the fence on are cgroups both sides must see. Others are dropped uncounted. Sightings
 * before the fence is known are kept (an id made just after the fence may be reported before
 * its id is given), and nothing settles until it is.
 *
 * <p>Memory: one small object per pending id, so about {@code grace} x the churn rate of them
 * (150,000 at 30,000 cgroups/s and 5 s): a mode for tests and the curious, not for production.
 */
public final class CrossCheck {
    /** Who reports. */
    public enum Side {
        FANOTIFY, BPF;

        int bit() {
            return 1 << ordinal();
        }
    }

    private static final int BOTH = Side.FANOTIFY.bit() | Side.BPF.bit();

    /** An id's sightings so far and when it was first seen. */
    private static final class Sighting {
        final long id;
        final long firstNanos;
        int sides;

        Sighting(long id, long firstNanos) {
            this.id = id;
            this.firstNanos = firstNanos;
        }
    }

    private final long graceNanos;
    private final LongSupplier nanoTime;
    private final Map<Long, Sighting> pending = new HashMap<>();
    /** The pending ids in the order they were first seen: they settle in that order. */
    private final ArrayDeque<Sighting> order = new ArrayDeque<>();
    private long fence = Long.MAX_VALUE;
    private long both;
    private long fanotifyOnly;
    private long bpfOnly;

    /**
     * @param graceNanos how long after an id's first sighting the other side may still report it
     *                   (its reader may lag, or learn the id only at the cgroup's death)
     */
    public CrossCheck(long graceNanos, LongSupplier nanoTime) {
        this.graceNanos = graceNanos;
        this.nanoTime = nanoTime;
    }

    /** Ids from {@code firstId} on are compared (unsigned: kernfs ids are u64). */
    public synchronized void fence(long firstId) {
        fence = firstId;
    }

    /** Whether {@link #fence} was called: the comparison runs. */
    public synchronized boolean comparing() {
        return fence != Long.MAX_VALUE;
    }

    /** {@code side} learned {@code id} from an event (its create or its delete; the second is no news). */
    public synchronized void seen(Side side, long id) {
        Sighting s = pending.get(id);
        if (s == null) {
            s = new Sighting(id, nanoTime.getAsLong());
            pending.put(id, s);
            order.addLast(s);
        }
        s.sides |= side.bit();
    }

    /** Counts the ids whose grace ended (all of them with {@code all}). Called periodically. */
    public synchronized void settle(boolean all) {
        if (!comparing()) {
            return;
        }
        long now = nanoTime.getAsLong();
        while (!order.isEmpty() && (all || now - order.peekFirst().firstNanos >= graceNanos)) {
            Sighting s = order.removeFirst();
            pending.remove(s.id);
            if (Long.compareUnsigned(s.id, fence) < 0) {
                continue; // made before both sides were attached: not comparable
            }
            if (s.sides == BOTH) {
                both++;
            } else if (s.sides == Side.FANOTIFY.bit()) {
                fanotifyOnly++;
            } else {
                bpfOnly++;
            }
        }
    }

    /** The counts so far. */
    public record Counts(long both, long fanotifyOnly, long bpfOnly, long pending) {
    }

    public synchronized Counts counts() {
        return new Counts(both, fanotifyOnly, bpfOnly, pending.size());
    }
}
