package io.cgscope.index;

import com.github.benmanes.caffeine.cache.Ticker;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongConsumer;

/**
 * What the index's one writer does (the thread of the source that keeps it, or the keeper while
 * it starts one): applies creates, deletes and sweeps to the {@link CgroupStore}, publishes each
 * change to the {@link ChangeLog}, remembers CREATEs whose id has not arrived, ends retention, and
 * runs the work readers submitted (on-demand lookups' inserts). Nothing here is safe from another
 * thread but {@link #submit}.
 */
final class IndexWriter {
    private final CgroupStore store;
    private final ChangeLog changes;
    private final Retention retention;
    private final IndexHealth health;
    private final Ticker ticker;
    private final Clock clock;
    /** CREATEs whose child was already gone: (parent, name) -> when seen, until the DELETE brings the id. */
    private final PendingCreates pendingCreates = new PendingCreates();
    /** Work for the writer submitted by readers (on-demand lookups). */
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    /** Told every id learned from an event ({@code --cgroup.index-mode=crosscheck}); null otherwise. */
    private volatile LongConsumer eventIds;
    /** The time of the batch being applied ({@link #beginBatch}). */
    private boolean inBatch;
    private long batchMillis;
    private long batchTick;

    IndexWriter(CgroupStore store, ChangeLog changes, Retention retention, IndexHealth health, Ticker ticker,
                Clock clock) {
        this.store = store;
        this.changes = changes;
        this.retention = retention;
        this.health = health;
        this.ticker = ticker;
        this.clock = clock;
    }

    /** Any thread: {@code work} runs on the writer at its next flush or upkeep. */
    void submit(Runnable work) {
        inbox.add(work);
    }

    /** Any thread: {@code observer} is told every id an event brings, on the writer ({@link CgroupIndex#observeEventIds}). */
    void observeEventIds(LongConsumer observer) {
        this.eventIds = observer;
    }

    /** An id learned from an event, told to the crosscheck's observer if there is one. */
    private void observe(long id, Source source) {
        LongConsumer observer = eventIds;
        if (observer != null && source == Source.EVENT) {
            observer.accept(id);
        }
    }

    void root(long id) {
        store.root(id);
    }

    /** A cgroup appeared. A known id is left as it is: ids are never reused. */
    void created(long id, long parentId, byte[] name, Source source) {
        observe(id, source);
        if (store.get(id) != null) {
            return;
        }
        insert(source == Source.EVENT ? Entry.created(id, parentId, name, source, eventMillis())
                : Entry.found(id, parentId, name, source), true);
    }

    /** A live entry the index lacks, announced as a change when asked to. */
    void insert(Entry e, boolean announce) {
        store.insert(e);
        if (announce) {
            changes.append(IndexChange.Type.CREATE,
                    e.createdMillis() == Entry.NO_TIME ? eventMillis() : e.createdMillis(), e, e.source());
        }
    }

    /** Work a reader submitted: adds a cgroup found by a lookup, unless an event or a sweep added it meanwhile. */
    void insertIfAbsent(Entry e) {
        if (store.get(e.id()) == null) {
            insert(e, true);
        }
    }

    /** A CREATE whose child was already gone when asked for its id: remembered until its DELETE. */
    void createdUnknownId(long parentId, byte[] name) {
        pendingCreates.add(parentId, name, eventMillis());
    }

    /** Whether {@link #deleted} needs the name: only for an id the index lacks, or while CREATEs wait for their id. */
    boolean deleteNeedsName(long id) {
        return !pendingCreates.isEmpty() || store.get(id) == null;
    }

    /** A cgroup was removed. An id never seen alive is added, dead: it still resolves. */
    void deleted(long id, long parentId, byte[] name, Source source) {
        observe(id, source);
        long now = eventMillis();
        Entry known = store.get(id);
        Long createdAt = pendingCreates.take(parentId, name);
        if (known == null) {
            Entry e = Entry.created(id, parentId, name, source, createdAt == null ? Entry.NO_TIME : createdAt);
            store.insertDead(e, now, eventTick(), source);
            changes.append(IndexChange.Type.CREATE, now, e, source);
            changes.append(IndexChange.Type.DELETE, now, e, source);
        } else if (known.isLive()) {
            store.die(known, now, eventTick(), known.source());
            changes.append(IndexChange.Type.DELETE, now, known, known.source());
        }
    }

    /**
     * Makes the live entries equal to a sweep of the tree: cgroups the sweep found and the index
     * lacks are added, live entries the sweep did not find die now. Pending CREATEs are dropped
     * (their DELETEs were lost) and counted as unresolved.
     */
    CgroupIndex.Reconciled reconcile(List<CgroupIndex.Discovered> tree, Source source, boolean announce) {
        inBatch = false; // a sweep's changes are timed by the sweep, not by the batch it interrupted
        long now = clock.millis();
        Set<Long> seen = new HashSet<>(tree.size() * 2);
        seen.add(store.rootId());
        int added = 0;
        for (CgroupIndex.Discovered d : tree) {
            seen.add(d.id());
            if (store.get(d.id()) == null) {
                insert(Entry.found(d.id(), d.parentId(), d.name(), source), announce);
                added++;
            }
        }
        List<Entry> vanished = new ArrayList<>();
        store.forEach(e -> {
            if (e.isLive() && !seen.contains(e.id())) {
                vanished.add(e);
            }
        });
        for (Entry e : vanished) {
            store.die(e, now, eventTick(), source);
            if (announce) {
                changes.append(IndexChange.Type.DELETE, now, e, source);
            }
        }
        health.add(IndexHealth.Counter.UNRESOLVED, pendingCreates.clear());
        return new CgroupIndex.Reconciled(added, vanished.size());
    }

    /**
     * Starts a batch of events: until {@link #flush} they are timed as of now, one clock read per
     * batch rather than two per event (the events of a batch happened before it was read anyway,
     * within the batching delay).
     */
    void beginBatch() {
        batchMillis = clock.millis();
        batchTick = ticker.read();
        inBatch = true;
    }

    /** After each batch: runs submitted work, evicts a burst of deaths over the budget, tells subscribers. */
    void flush() {
        inBatch = false;
        drainInbox();
        if (retention.overBudget()) {
            retention.evict(); // a burst of deaths: give up the oldest now, not a second later
        }
        changes.signal();
    }

    /** Periodic upkeep: submitted work, the end of retention, CREATEs that waited too long, subscribers. */
    void maintain() {
        drainInbox();
        retention.evict();
        health.add(IndexHealth.Counter.UNRESOLVED, pendingCreates.expire(retention.cutoffMillis(clock.millis())));
        changes.signal();
    }

    /** CREATEs still waiting for their DELETE to bring the id. */
    int pendingCreates() {
        return pendingCreates.size();
    }

    private void drainInbox() {
        Runnable r;
        while ((r = inbox.poll()) != null) {
            r.run();
        }
    }

    private long eventMillis() {
        return inBatch ? batchMillis : clock.millis();
    }

    private long eventTick() {
        return inBatch ? batchTick : ticker.read();
    }
}
