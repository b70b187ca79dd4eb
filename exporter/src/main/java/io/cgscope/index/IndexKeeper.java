package io.cgscope.index;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Keeps one {@link CgroupIndex} equal to one hierarchy's tree through one {@link IndexSource} at a
 * time: starts it without a race, re-syncs for it, and hands the index to a fallback when it gives
 * up. It owns the index's {@link IndexHealth} state ({@link IndexHealth.Status}). One keeper per
 * index (and so per cgroup hierarchy).
 *
 * <p>Writers: the thread that calls {@link #start} writes the index until the source's
 * {@link IndexSource#follow()} starts its own thread, which writes it from then on (and calls
 * {@link #resync()} and {@link #giveUp} itself). {@link #close()} may come from any thread.
 */
public final class IndexKeeper implements AutoCloseable {
    private final CgroupIndex index;
    private final CgroupTree tree;
    private Function<String, IndexSource> fallback = reason -> null;
    /** The source that keeps the index; guarded by this. */
    private IndexSource current;
    private boolean closed;

    /** What a sweep did: the cgroups it found, how long it took, what changed in the index. */
    public record Swept(int cgroups, long nanos, int added, int removed) {
        /** {@code 112 cgroups swept in 13 ms, 2 found, 1 gone}, for a source's log line. */
        public String describe() {
            return cgroups + " cgroups swept in " + nanos / 1_000_000 + " ms, " + added + " found, " + removed + " gone";
        }
    }

    public IndexKeeper(CgroupIndex index, CgroupTree tree) {
        this.index = index;
        this.tree = tree;
    }

    public CgroupIndex index() {
        return index;
    }

    public IndexHealth health() {
        return index.health();
    }

    /** The source that keeps the index now, or null (before start, after close, while a fallback starts). */
    public synchronized IndexSource current() {
        return current;
    }

    /**
     * What takes over when the current source gives up: given the reason, a new source (not
     * started), or null for none (then the index stops following).
     */
    public synchronized void onGiveUp(Function<String, IndexSource> fallback) {
        this.fallback = fallback;
    }

    /**
     * Starts {@code source} without a race: attach, sweep and reconcile, catch up, then follow.
     * When this returns the index equals the tree and the source follows the kernel; on a failure
     * the source is closed and the index is as the sweep left it (the caller may try another).
     *
     * @throws IOException the kernel refused the source, or the sweep failed
     */
    public synchronized void start(IndexSource source) throws IOException {
        if (closed) {
            source.close();
            throw new IllegalStateException("the index keeper is closed");
        }
        try {
            source.attach();
            index.root(tree.rootId());
            sweep(Source.SWEEP, false);
            source.catchUp();
        } catch (IOException | RuntimeException e) {
            source.close();
            throw e;
        }
        index.flush();
        health().following(source.mode());
        current = source;
        source.follow();
    }

    /**
     * Walks the whole tree and makes the live entries equal to it (writer): cgroups the index lacks
     * are added, live ones the walk did not find die now ({@link CgroupIndex#reconcile}).
     *
     * @param announce publish the differences as changes (a re-sync or a periodic sweep does; the first does not)
     */
    public Swept sweep(Source source, boolean announce) throws IOException {
        long start = System.nanoTime();
        List<CgroupIndex.Discovered> found = new ArrayList<>();
        synchronized (tree) { // one walker at a time: its buffers are reused
            tree.walk((id, parentId, name) -> found.add(new CgroupIndex.Discovered(id, parentId, name)));
        }
        CgroupIndex.Reconciled r = index.reconcile(found, source, announce);
        long took = System.nanoTime() - start;
        health().swept(took);
        return new Swept(found.size(), took, r.added(), r.removed());
    }

    /**
     * A re-sync (writer, the source's thread): events may have been lost (a queue overflow, a full
     * ring buffer, a failed read), so the tree is swept again and the differences are published
     * as changes with source {@link Source#RESYNC}. Counted in {@link IndexHealth}.
     */
    public Swept resync() throws IOException {
        Swept s = sweep(Source.RESYNC, true);
        health().resynced(s.nanos());
        return s;
    }

    /** The source's reader failed and will re-sync and retry: the index does not follow meanwhile. */
    public void readerFailed(String reason) {
        health().notFollowing(reason);
        health().count(IndexHealth.Counter.READER_RESTARTS);
    }

    /** The source's reader recovered from {@link #readerFailed} (after its re-sync). */
    public void readerRecovered() {
        health().followingAgain();
    }

    /**
     * {@code source} cannot go on (called on its own thread, which then ends, releasing what it
     * holds): the index is degraded for {@code reason} and handed to the fallback, started on this
     * thread. When there is none, or it fails, the index no longer follows and health says why.
     */
    public synchronized void giveUp(IndexSource source, String reason) {
        if (closed || current != source) {
            return;
        }
        current = null;
        health().degraded(reason);
        IndexSource next = fallback.apply(reason);
        if (next == null) {
            health().notFollowing(reason);
            return;
        }
        try {
            start(next);
        } catch (IOException | RuntimeException e) {
            health().notFollowing(reason + "; the " + next.mode().label() + " fallback failed: " + e.getMessage());
        }
    }

    /** Stops the current source; the index no longer follows ("stopped"). Idempotent. */
    @Override
    public void close() {
        IndexSource s;
        synchronized (this) {
            closed = true;
            s = current;
            current = null;
        }
        if (s != null) {
            s.close(); // outside the lock: the source's thread may be waiting in giveUp for it
        }
        health().notFollowing("stopped");
    }
}
