package io.cgscope.index;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/** Counters about how the index is kept, written by whoever keeps it, read by the metrics and /healthz. */
public final class IndexStats {
    public final LongAdder createEvents = new LongAdder();
    public final LongAdder deleteEvents = new LongAdder();
    public final LongAdder overflows = new LongAdder();
    public final LongAdder resyncs = new LongAdder();
    public final LongAdder resyncNanos = new LongAdder();
    public final LongAdder unresolved = new LongAdder();
    public final LongAdder foreignEvents = new LongAdder();
    public final LongAdder malformedEvents = new LongAdder();
    public final LongAdder lookups = new LongAdder();
    public final LongAdder lookupFailures = new LongAdder();
    public final LongAdder readerRestarts = new LongAdder();
    /** CREATEs whose child id came from one listing of the parent directory per batch. */
    public final LongAdder childIdsListed = new LongAdder();
    /** CREATEs whose child id came from a lookup of the name. */
    public final LongAdder childIdsLookedUp = new LongAdder();
    /** Dead cgroups whose retention ended. */
    public final LongAdder expired = new LongAdder();
    /** Dead cgroups given up before their retention ended, because more than the budget were retained. */
    public final LongAdder evictedOverBudget = new LongAdder();
    public final AtomicLong lastSweepNanos = new AtomicLong();

    /** {@code fanotify} or {@code sweep}, once the index has started. */
    public final AtomicReference<String> mode = new AtomicReference<>("starting");
    /** Null normally; why the index runs in a weaker mode than asked for (e.g. sweeps after the fanotify fd was lost). */
    public final AtomicReference<String> degraded = new AtomicReference<>();
    /** Null while the index follows the kernel; otherwise why not (for /healthz). */
    public final AtomicReference<String> notFollowing = new AtomicReference<>("starting");
}
