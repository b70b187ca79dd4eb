package io.cgscope.index;

import com.github.benmanes.caffeine.cache.Ticker;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * The live map cgroup id -> (parent id, name, state), and what is derived from it: paths, lookups
 * by path, listings, the change history.
 *
 * <p><b>One writer, many readers.</b> The methods under "writer" are called by one thread at a
 * time (the fanotify reader or the sweeper). Readers run on any thread, never lock, and see each
 * entry either before or after a change, never half of it: an entry's one change, its death, is
 * published by a volatile write ({@link Entry}).
 *
 * <p><b>Paths are derived, not stored.</b> Each entry keeps its parent's id and its own name; a
 * path is built from that graph when asked for. A child learned before its parent (the parent's
 * events arrive late) gets its path as soon as the parent is known.
 *
 * <p><b>Retention.</b> A removed cgroup stays resolvable for the retention period (timed by a
 * Caffeine {@link Ticker} that tests replace), at most {@code maxRetained} of them, then the writer
 * tells the expiry listeners and removes it, so the
 * metrics can fold its last counters into its path's total.
 */
public final class CgroupIndex {
    /** Changes kept for {@code /events} resumption. */
    public static final int HISTORY = 65_536;
    /** Dead cgroups kept at most by default: about 60 MB of heap at 240 bytes each (README, "How the index works"). */
    public static final int DEFAULT_MAX_RETAINED = 250_000;

    private final long retentionNanos;
    private final int maxRetained;
    private final Ticker ticker;
    /** The dead, oldest death first, with their path index (written by the writer only). */
    private final DeadCgroups deaths = new DeadCgroups();
    private final Clock clock;
    private final LongMap<Entry> entries = new LongMap<>();
    private final ChildIndex children = new ChildIndex(entries, deaths);
    /** CREATEs whose child was already gone: (parent, name) -> when seen, until the DELETE brings the id. */
    private final PendingCreates pendingCreates = new PendingCreates();
    private final ChangeLog changes = new ChangeLog(HISTORY, this);
    private final IndexHealth health = new IndexHealth();
    private final List<Consumer<ExpiredCgroup>> expiryListeners = new CopyOnWriteArrayList<>();
    private final ExpiredCgroup expiring = new ExpiredCgroup(this);
    /** Work for the writer submitted by readers (on-demand lookups). */
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    private volatile LongFunction<List<Discovered>> resolver = id -> List.of();
    /** Told every id learned from an event ({@code --cgroup.index-mode=crosscheck}); null otherwise. */
    private volatile java.util.function.LongConsumer eventIds;
    private volatile long rootId = 1;
    /** Writer only: the time of the batch being applied ({@link #beginBatch}). */
    private boolean inBatch;
    private long batchMillis;
    private long batchTick;
    private final java.util.concurrent.atomic.AtomicLong live = new java.util.concurrent.atomic.AtomicLong();

    /** A cgroup found outside the event stream (sweep, on-demand lookup). */
    public record Discovered(long id, long parentId, byte[] name) {
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
        this.retentionNanos = Math.max(0, retention.toNanos());
        this.maxRetained = maxRetained;
        this.ticker = ticker;
        this.clock = clock;
    }

    // ---------------------------------------------------------------- readers

    /** The cgroup with this id, live or retained. */
    public Optional<Cgroup> byId(long id) {
        Entry e = entries.get(id);
        return e == null ? Optional.empty() : Optional.of(view(e));
    }

    /**
     * Like {@link #byId}, and on a miss asks the kernel (an on-demand lookup, e.g. a cgroup
     * created a moment ago whose event is still queued). What it finds is added to the index.
     */
    public Optional<Cgroup> lookup(long id) {
        Optional<Cgroup> indexed = byId(id);
        if (indexed.isPresent()) {
            return indexed;
        }
        List<Discovered> chain;
        try {
            chain = resolver.apply(id);
        } catch (RuntimeException e) {
            health.count(IndexHealth.Counter.LOOKUP_FAILURES);
            return Optional.empty();
        }
        if (chain.isEmpty() || chain.getLast().id() != id) {
            return Optional.empty();
        }
        health.count(IndexHealth.Counter.LOOKUPS);
        // The chain runs from the first ancestor the index may lack down to the id; the writer adds what is missing.
        StringBuilder path = new StringBuilder();
        String known = pathOf(chain.getFirst().parentId());
        if (known != null && !known.equals("/")) {
            path.append(known);
        }
        for (Discovered d : chain) {
            if (!path.isEmpty()) {
                path.append('/');
            }
            path.append(CgroupNames.decode(d.name()));
            Entry e = new Entry(d.id(), d.parentId(), d.name(), State.LIVE, Entry.UNKNOWN, Entry.UNKNOWN, Source.LOOKUP);
            inbox.add(() -> {
                if (entries.get(e.id()) == null) {
                    insert(e, true);
                }
            });
        }
        Discovered last = chain.getLast();
        return Optional.of(new Cgroup(id, known == null ? null : path.toString(), last.parentId(), State.LIVE, null, null,
                Source.LOOKUP));
    }

    /** The path of a known id, or null when the id is unknown or an ancestor is not known yet. */
    public String pathOf(long id) {
        Entry e = entries.get(id);
        return e == null ? null : path(e);
    }

    /** Every cgroup with this path, newest (highest id) first. A leading slash is accepted. */
    public List<Cgroup> byPath(String path) {
        List<Long> ids = idsByPath(path);
        List<Cgroup> out = new ArrayList<>(ids.size());
        for (long id : ids) {
            Entry e = entries.get(id);
            if (e != null) {
                out.add(view(e));
            }
        }
        out.sort(Comparator.comparing(Cgroup::id, Long::compareUnsigned).reversed());
        return out;
    }

    private List<Long> idsByPath(String path) {
        if (path == null) {
            return List.of();
        }
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        List<Long> level = new ArrayList<>();
        level.add(rootId);
        if (p.isEmpty()) {
            return entries.get(rootId) == null ? List.of() : level;
        }
        for (String segment : p.split("/", -1)) {
            if (segment.isEmpty()) {
                return List.of();
            }
            List<Long> next = new ArrayList<>();
            for (byte[] name : CgroupNames.candidates(segment)) {
                for (long parent : level) {
                    children.ids(parent, name, next);
                }
            }
            if (next.isEmpty()) {
                return List.of();
            }
            level = next;
        }
        return level;
    }

    /** Which cgroups a listing shows. */
    public enum StateFilter { LIVE, DEAD, ALL }

    /** A listing: cgroups sorted by path (then newest first), and whether more matched than the limit. */
    public record Listing(List<Cgroup> cgroups, boolean truncated) {
    }

    /**
     * The cgroups whose path is {@code prefix} or below it (a path prefix by whole segments; empty
     * or {@code /} for all), sorted by path, at most {@code limit}.
     */
    public Listing list(String prefix, StateFilter filter, int limit) {
        String p = prefix == null ? "" : prefix.startsWith("/") ? prefix.substring(1) : prefix;
        if (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        List<Cgroup> matched = new ArrayList<>();
        String under = p;
        entries.forEach(e -> {
            if (filter == StateFilter.LIVE && !e.isLive() || filter == StateFilter.DEAD && e.isLive()) {
                return;
            }
            String path = path(e);
            if (path == null) {
                return;
            }
            if (!under.isEmpty()
                    && !(path.equals(under) || path.startsWith(under) && path.charAt(under.length()) == '/')) {
                return;
            }
            matched.add(view(e, path));
        });
        matched.sort(Comparator.comparing(Cgroup::path)
                .thenComparing(Comparator.comparing(Cgroup::id, Long::compareUnsigned).reversed()));
        boolean truncated = matched.size() > limit;
        return new Listing(truncated ? List.copyOf(matched.subList(0, limit)) : matched, truncated);
    }

    /** Every cgroup known, live and retained, in no particular order (metrics, tests). */
    public Collection<Cgroup> all() {
        List<Cgroup> out = new ArrayList<>(entries.size());
        entries.forEach(e -> out.add(view(e)));
        return out;
    }

    /** Live entries (kept as a counter: scrapes read it often). */
    public long liveCount() {
        return live.get();
    }

    /** Retained (dead) entries. */
    public long deadCount() {
        return Math.max(0, entries.size() - live.get());
    }

    /**
     * The raw path bytes of a known id relative to the root ({@code a/b}; empty for the root), as
     * the file system spells it: for system calls, where a shown name with {@code \xNN} would be wrong.
     * Null when the id or an ancestor is unknown.
     */
    public byte[] pathBytes(long id) {
        Ancestry a = Ancestry.of(entries.get(id), rootId, entries);
        return a == null ? null : a.bytes();
    }

    /** Now, by the clock that times creations and deletions. */
    public long nowMillis() {
        return clock.millis();
    }

    /** Live and retained entries. */
    public long size() {
        return entries.size();
    }

    public ChangeLog changes() {
        return changes;
    }

    /** How the index is kept: its state and counters, written by its keeper and sources. */
    public IndexHealth health() {
        return health;
    }

    public long rootId() {
        return rootId;
    }

    /**
     * Called on the writer thread for each retained cgroup whose retention ended, while it is still
     * in the index; it must return at once (no locks a reader may hold long).
     */
    public void onExpired(Consumer<ExpiredCgroup> listener) {
        expiryListeners.add(listener);
    }

    /**
     * Tells {@code observer} every id the writer learns from an event (a create or a delete with
     * {@link Source#EVENT}), on the writer's thread: for comparing two event sources
     * ({@code --cgroup.index-mode=crosscheck}). It must return at once.
     */
    public void observeEventIds(java.util.function.LongConsumer observer) {
        this.eventIds = observer;
    }

    /**
     * Installs the on-demand lookup used by {@link #lookup} (the kernel side lives outside this
     * package). Given an id it answers the chain of cgroups from below the root down to that id
     * (parents first), or an empty list when the kernel does not know the id as a cgroup.
     */
    public void setResolver(LongFunction<List<Discovered>> resolver) {
        this.resolver = resolver;
    }

    Cgroup view(Entry e) {
        return view(e, path(e));
    }

    private static Cgroup view(Entry e, String path) {
        byte status = e.status(); // one volatile read: state and source together, and it publishes the time
        State state = Entry.stateOf(status);
        return view(e, path, state, state == State.LIVE ? Entry.UNKNOWN : e.deletedMillis(), Entry.sourceOf(status));
    }

    /** The entry as a change saw it (its state then, not now). */
    Cgroup view(Entry e, State state, long deletedMillis, Source source) {
        return view(e, path(e), state, deletedMillis, source);
    }

    private static Cgroup view(Entry e, String path, State state, long deletedMillis, Source source) {
        return new Cgroup(e.id(), path, e.parentId(), state,
                e.createdMillis() == Entry.UNKNOWN ? null : Instant.ofEpochMilli(e.createdMillis()),
                deletedMillis == Entry.UNKNOWN ? null : Instant.ofEpochMilli(deletedMillis), source);
    }

    /** The path from the parent links; null when an ancestor is unknown. */
    private String path(Entry e) {
        Ancestry a = Ancestry.of(e, rootId, entries);
        return a == null ? null : a.path();
    }

    // ---------------------------------------------------------------- writer

    /** Records the root cgroup (writer). */
    public void root(long id) {
        rootId = id;
        if (entries.get(id) == null) {
            insert(new Entry(id, 0, new byte[0], State.LIVE, Entry.UNKNOWN, Entry.UNKNOWN, Source.SWEEP), false);
        }
    }

    /** A cgroup appeared (writer). A known id is left as it is: ids are never reused. */
    public void created(long id, long parentId, byte[] name, Source source) {
        java.util.function.LongConsumer observer = eventIds;
        if (observer != null && source == Source.EVENT) {
            observer.accept(id);
        }
        if (entries.get(id) != null) {
            return;
        }
        long now = eventMillis();
        insert(new Entry(id, parentId, name, State.LIVE, source == Source.EVENT ? now : Entry.UNKNOWN,
                Entry.UNKNOWN, source), true);
    }

    /**
     * A CREATE whose child was already gone when asked for its id (writer): remember when, so the
     * DELETE that brings the id can tell when it was created.
     */
    public void createdUnknownId(long parentId, byte[] name) {
        pendingCreates.add(parentId, name, eventMillis());
    }

    /**
     * Whether {@link #deleted} needs the name for this id: only for an id the index lacks, or
     * while CREATEs wait for their id (writer). Saves copying the name out of each DELETE event.
     */
    public boolean deleteNeedsName(long id) {
        return !pendingCreates.isEmpty() || entries.get(id) == null;
    }

    /**
     * A cgroup was removed (writer). An id never seen alive is added, dead: it still resolves.
     *
     * @param name may be null when {@link #deleteNeedsName} said so
     */
    public void deleted(long id, long parentId, byte[] name, Source source) {
        java.util.function.LongConsumer observer = eventIds;
        if (observer != null && source == Source.EVENT) {
            observer.accept(id);
        }
        long now = eventMillis();
        Entry known = entries.get(id);
        Long createdAt = pendingCreates.take(parentId, name);
        if (known == null) {
            Entry e = new Entry(id, parentId, name, State.DEAD, createdAt == null ? Entry.UNKNOWN : createdAt, now,
                    source);
            insert(e, false);
            died(e, now, false);
            publish(IndexChange.Type.CREATE, e, source, now);
            publish(IndexChange.Type.DELETE, e, source, now);
        } else if (known.isLive()) {
            known.die(now, known.source());
            live.decrementAndGet();
            died(known, now, true);
            publish(IndexChange.Type.DELETE, known, known.source(), now);
        }
    }

    /**
     * Makes the live entries equal to a sweep of the tree (writer): cgroups the sweep found and the
     * index lacks are added, live entries the sweep did not find become dead now. Pending CREATEs
     * are dropped (their DELETEs were lost) and counted as unresolved.
     *
     * @param announce publish the differences as changes (a re-sync does; the first sweep does not)
     */
    public Reconciled reconcile(List<Discovered> tree, Source source, boolean announce) {
        inBatch = false; // a sweep's changes are timed by the sweep, not by the batch it interrupted
        long now = clock.millis();
        Set<Long> seen = new HashSet<>(tree.size() * 2);
        seen.add(rootId);
        int added = 0;
        int removed = 0;
        for (Discovered d : tree) {
            seen.add(d.id());
            if (entries.get(d.id()) == null) {
                insert(new Entry(d.id(), d.parentId(), d.name(), State.LIVE, Entry.UNKNOWN, Entry.UNKNOWN, source),
                        announce);
                added++;
            }
        }
        List<Entry> vanished = new ArrayList<>();
        entries.forEach(e -> {
            if (e.isLive() && !seen.contains(e.id())) {
                vanished.add(e);
            }
        });
        for (Entry e : vanished) {
            e.die(now, source);
            live.decrementAndGet();
            died(e, now, true);
            if (announce) {
                publish(IndexChange.Type.DELETE, e, source, now);
            }
            removed++;
        }
        health.add(IndexHealth.Counter.UNRESOLVED, pendingCreates.clear());
        return new Reconciled(added, removed);
    }

    /** What a reconcile changed. */
    public record Reconciled(int added, int removed) {
    }

    /**
     * Periodic upkeep (writer): applies work submitted by readers, expires retained entries and
     * pending CREATEs older than the retention, and signals subscribers.
     */
    public void maintain() {
        Runnable r;
        while ((r = inbox.poll()) != null) {
            r.run();
        }
        evict();
        long cutoff = clock.millis() - retentionNanos / 1_000_000;
        health.add(IndexHealth.Counter.UNRESOLVED, pendingCreates.expire(cutoff));
        changes.signal();
    }

    /**
     * Starts a batch of events (writer): until {@link #flush} they are timed as of now, one clock
     * read per batch rather than two per event (the events of a batch happened before it was read
     * anyway, within the batching delay).
     */
    public void beginBatch() {
        batchMillis = clock.millis();
        batchTick = ticker.read();
        inBatch = true;
    }

    private long eventMillis() {
        return inBatch ? batchMillis : clock.millis();
    }

    private long eventTick() {
        return inBatch ? batchTick : ticker.read();
    }

    /** Tells subscribers about changes applied since the last call (writer, after each batch). */
    public void flush() {
        inBatch = false;
        Runnable r;
        while ((r = inbox.poll()) != null) {
            r.run();
        }
        if (deaths.size() > maxRetained) {
            evict(); // a burst of deaths: give up the oldest now, not a second later
        }
        changes.signal();
    }

    /**
     * Moves a dead entry from the live path index (if it was live there) to the dead's: added to
     * the dead first, so a reader between the two steps finds it twice (and lists it once), never
     * nowhere.
     */
    private void died(Entry e, long atMillis, boolean wasLive) {
        long chainKey = ChildIndex.key(e.parentId(), e.name());
        deaths.add(e.id(), eventTick(), atMillis, chainKey);
        if (wasLive) {
            children.remove(chainKey, e);
        }
    }

    /**
     * Ends the retention of the oldest dead cgroups: those dead longer than the retention, and
     * beyond {@code maxRetained} the oldest regardless. Listeners hear of each while it is still
     * in the index (so a scrape never finds it gone before its counters were folded), then it is
     * removed. Writer only.
     *
     * <p>Nothing written when the cgroup was made is touched but its slot in the id map (whose
     * neighbours are the cgroups made right after it): what this needs was kept with the death
     * ({@link DeadCgroups}), which also holds the dead's path index. A queued death is always of
     * a dead entry still in the index: a dead entry never lives again (ids are never reused, and
     * a known id is left as it is), and an entry dies once.
     */
    private void evict() {
        long now = ticker.read();
        while (!deaths.isEmpty()) {
            boolean expired = now - deaths.oldestTick() >= retentionNanos;
            boolean overBudget = deaths.size() > maxRetained;
            if (!expired && !overBudget) {
                return;
            }
            long id = deaths.oldestId();
            long deletedMillis = deaths.oldestMillis();
            if (!expiryListeners.isEmpty()) {
                tellExpired(id, deletedMillis);
            }
            deaths.removeOldest();
            if (entries.remove(id) == null) {
                continue;
            }
            health.count(expired ? IndexHealth.Counter.RETENTION_EXPIRED : IndexHealth.Counter.RETENTION_OVER_BUDGET);
        }
    }

    /** CREATEs still waiting for their DELETE to bring the id. */
    public int pendingCreates() {
        return pendingCreates.size();
    }

    private void insert(Entry e, boolean announce) {
        entries.put(e.id(), e);
        if (e.isLive()) {
            live.incrementAndGet();
        }
        if (e.isLive() && (e.parentId() != 0 || e.id() != rootId)) {
            children.add(e); // the dead's path index is DeadCgroups, from died()
        }
        if (announce) {
            publish(IndexChange.Type.CREATE, e, e.source(),
                    e.createdMillis() == Entry.UNKNOWN ? eventMillis() : e.createdMillis());
        }
    }

    private void publish(IndexChange.Type type, Entry e, Source source, long atMillis) {
        changes.append(type, atMillis, e, source);
    }

    private void tellExpired(long id, long deletedMillis) {
        expiring.set(id, deletedMillis);
        for (Consumer<ExpiredCgroup> l : expiryListeners) {
            try {
                l.accept(expiring);
            } catch (RuntimeException ex) {
                // a listener's bug must not break eviction
            }
        }
    }
}
