package io.cgscope.index;

import com.github.benmanes.caffeine.cache.Ticker;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * The live map cgroup id -> (parent id, name, state), and what is derived from it: paths, lookups
 * by path, listings, the change history. This class is the index's face: it builds the parts and
 * hands each call to the one that does it.
 * <ul>
 * <li>{@link CgroupStore}: the entries, for one writer and lock-free readers;</li>
 * <li>{@link IndexWriter}: what the writer does with events and sweeps;</li>
 * <li>{@link CgroupPaths}: what a user's path means, and an entry's path;</li>
 * <li>{@link CgroupQueries}: by id, by path, listings;</li>
 * <li>{@link KernelLookups}: ids asked for before their event arrived;</li>
 * <li>{@link Retention}: how long removed cgroups stay;</li>
 * <li>{@link ChangeLog}: the history of changes, for {@code /events};</li>
 * <li>{@link IndexHealth}: how the index is kept, for {@code /healthz} and the metrics.</li>
 * </ul>
 *
 * <p><b>One writer, many readers.</b> The methods under "writer" are called by one thread at a
 * time (the source that keeps the index, see {@link IndexKeeper}). Readers run on any thread,
 * never lock, and see each entry either before or after a change, never half of it.
 */
public final class CgroupIndex {
    /** Changes kept for {@code /events} resumption. */
    public static final int HISTORY = 65_536;
    /** Dead cgroups kept at most by default: about 60 MB of heap at 240 bytes each (README, "How the index works"). */
    public static final int DEFAULT_MAX_RETAINED = 250_000;

    private final Clock clock;
    private final CgroupStore store = new CgroupStore();
    private final CgroupPaths paths = new CgroupPaths(store);
    private final CgroupQueries queries = new CgroupQueries(store, paths);
    private final ChangeLog changes = new ChangeLog(HISTORY, paths);
    private final IndexHealth health = new IndexHealth();
    private final Retention retention;
    private final IndexWriter writer;
    private final KernelLookups lookups;

    /** A cgroup found outside the event stream (sweep, on-demand lookup). */
    public record Discovered(long id, long parentId, byte[] name) {
    }

    /** What a reconcile changed. */
    public record Reconciled(int added, int removed) {
    }

    /** Which cgroups a listing shows. */
    public enum StateFilter { LIVE, DEAD, ALL }

    /** A listing: cgroups sorted by path (then newest first), and whether more matched than the limit. */
    public record Listing(List<Cgroup> cgroups, boolean truncated) {
    }

    public CgroupIndex(Duration retention) {
        this(retention, Ticker.systemTicker(), Clock.systemUTC());
    }

    public CgroupIndex(Duration retention, Ticker ticker, Clock clock) {
        this(retention, DEFAULT_MAX_RETAINED, ticker, clock);
    }

    /**
     * @param maxRetained at most this many dead cgroups are kept; beyond it the oldest deaths are
     *                    given up first (a bound on memory under endless churn)
     */
    public CgroupIndex(Duration retention, int maxRetained, Ticker ticker, Clock clock) {
        this.clock = clock;
        this.retention = new Retention(store, paths, health, retention, maxRetained, ticker);
        this.writer = new IndexWriter(store, changes, this.retention, health, ticker, clock);
        this.lookups = new KernelLookups(paths, health, writer);
    }

    // ---------------------------------------------------------------- readers

    /** The cgroup with this id, live or retained. */
    public Optional<Cgroup> byId(long id) {
        return queries.byId(id);
    }

    /**
     * Like {@link #byId}, and on a miss asks the kernel (an on-demand lookup, e.g. a cgroup
     * created a moment ago whose event is still queued). What it finds is added to the index.
     */
    public Optional<Cgroup> lookup(long id) {
        Optional<Cgroup> indexed = queries.byId(id);
        return indexed.isPresent() ? indexed : lookups.lookup(id);
    }

    /** The path of a known id, or null when the id is unknown or an ancestor is not known yet. */
    public String pathOf(long id) {
        return paths.of(id);
    }

    /** Every cgroup with this path, newest (highest id) first. Slashes around it are accepted. */
    public List<Cgroup> byPath(String path) {
        return queries.byPath(path);
    }

    /**
     * The cgroups whose path is {@code prefix} or below it (a path prefix by whole segments; empty
     * or {@code /} for all), sorted by path, at most {@code limit}.
     */
    public Listing list(String prefix, StateFilter filter, int limit) {
        return queries.list(prefix, filter, limit);
    }

    /** Every cgroup known, live and retained, in no particular order (metrics, tests). */
    public Collection<Cgroup> all() {
        return queries.all();
    }

    /**
     * Calls {@code action} with the id of every live cgroup, in no particular order, building no
     * path (the cgroupfs collectors walk them at every scrape; they name each id once).
     */
    public void forEachLive(java.util.function.LongConsumer action) {
        store.forEach(e -> {
            if (e.isLive()) {
                action.accept(e.id());
            }
        });
    }

    /** Live entries. */
    public long liveCount() {
        return store.liveCount();
    }

    /** Retained (dead) entries. */
    public long deadCount() {
        return store.deadCount();
    }

    /** Live and retained entries. */
    public long size() {
        return store.size();
    }

    /**
     * The raw path bytes of a known id relative to the root ({@code a/b}; empty for the root), as
     * the file system spells it: for system calls, where a shown name with {@code \xNN} would be wrong.
     * Null when the id or an ancestor is unknown.
     */
    public byte[] pathBytes(long id) {
        return paths.bytes(id);
    }

    /** Now, by the clock that times creations and deletions. */
    public long nowMillis() {
        return clock.millis();
    }

    public ChangeLog changes() {
        return changes;
    }

    /** How the index is kept: its state and counters, written by its keeper and sources. */
    public IndexHealth health() {
        return health;
    }

    public long rootId() {
        return store.rootId();
    }

    /**
     * Called on the writer thread for each retained cgroup whose retention ended, while it is still
     * in the index; it must return at once (no locks a reader may hold long).
     */
    public void onExpired(Consumer<ExpiredCgroup> listener) {
        retention.onExpired(listener);
    }

    /**
     * Tells {@code observer} every id the writer learns from an event (a create or a delete with
     * {@link Source#EVENT}), on the writer's thread: for comparing two event sources
     * ({@code --cgroup.index-mode=crosscheck}). It must return at once.
     */
    public void observeEventIds(LongConsumer observer) {
        writer.observeEventIds(observer);
    }

    /**
     * Installs the on-demand lookup used by {@link #lookup} (the kernel side lives outside this
     * package). Given an id it answers the chain of cgroups from below the root down to that id
     * (parents first), or an empty list when the kernel does not know the id as a cgroup.
     */
    public void setResolver(LongFunction<List<Discovered>> resolver) {
        lookups.setResolver(resolver);
    }

    // ---------------------------------------------------------------- writer

    /** Records the root cgroup (writer). */
    public void root(long id) {
        writer.root(id);
    }

    /** A cgroup appeared (writer). A known id is left as it is: ids are never reused. */
    public void created(long id, long parentId, byte[] name, Source source) {
        writer.created(id, parentId, name, source);
    }

    /**
     * A CREATE whose child was already gone when asked for its id (writer): remember when, so the
     * DELETE that brings the id can tell when it was created.
     */
    public void createdUnknownId(long parentId, byte[] name) {
        writer.createdUnknownId(parentId, name);
    }

    /**
     * Whether {@link #deleted} needs the name for this id: only for an id the index lacks, or
     * while CREATEs wait for their id (writer). Saves copying the name out of each DELETE event.
     */
    public boolean deleteNeedsName(long id) {
        return writer.deleteNeedsName(id);
    }

    /**
     * A cgroup was removed (writer). An id never seen alive is added, dead: it still resolves.
     *
     * @param name may be null when {@link #deleteNeedsName} said so
     */
    public void deleted(long id, long parentId, byte[] name, Source source) {
        writer.deleted(id, parentId, name, source);
    }

    /**
     * Makes the live entries equal to a sweep of the tree (writer): cgroups the sweep found and the
     * index lacks are added, live entries the sweep did not find become dead now. Pending CREATEs
     * are dropped (their DELETEs were lost) and counted as unresolved.
     *
     * @param announce publish the differences as changes (a re-sync does; the first sweep does not)
     */
    public Reconciled reconcile(List<Discovered> tree, Source source, boolean announce) {
        return writer.reconcile(tree, source, announce);
    }

    /**
     * Periodic upkeep (writer): applies work submitted by readers, expires retained entries and
     * pending CREATEs older than the retention, and signals subscribers.
     */
    public void maintain() {
        writer.maintain();
    }

    /**
     * Starts a batch of events (writer): until {@link #flush} they are timed as of now, one clock
     * read per batch rather than two per event.
     */
    public void beginBatch() {
        writer.beginBatch();
    }

    /** Tells subscribers about changes applied since the last call (writer, after each batch). */
    public void flush() {
        writer.flush();
    }

    /**
     * Puts an OOM kill into the change history, after the changes applied so far (any thread: the
     * writer appends it at its next batch or upkeep, within a second in fanotify mode, a sweep
     * interval in sweep mode). The kill names its cgroups itself: they may be gone by then.
     */
    public void oomKilled(OomKill kill) {
        writer.submit(() -> changes.append(IndexChange.Type.OOM_KILL, kill.time().toEpochMilli(),
                store.get(kill.cgroupId()), Source.EVENT, kill));
    }

    /** CREATEs still waiting for their DELETE to bring the id. */
    public int pendingCreates() {
        return writer.pendingCreates();
    }
}
