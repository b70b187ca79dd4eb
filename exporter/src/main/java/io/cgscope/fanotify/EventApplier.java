package io.cgscope.fanotify;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.Source;
import io.cgscope.linux.FileHandles;
import io.cgscope.linux.SyscallException;

import java.util.logging.Logger;

/**
 * Stage 3 of the reader: applies a batch's events to the index, in the order read. A CREATE whose
 * child's id no listing gave ({@link BatchListings}) is looked up now ({@link ChildLookup}), in
 * order, not in a stage of its own: a lookup by path needs the parent's path, and a parent created
 * earlier in the same batch is known to the index only once its own CREATE was applied. An
 * overflow, or a created cgroup whose id cannot be had for a reason other than a race, is
 * remembered: the reader then re-syncs ({@link #takeResyncNeeded()}).
 */
final class EventApplier {
    private static final Logger LOG = Logger.getLogger(CgroupWatcher.class.getName());

    private final CgroupIndex index;
    private final IndexHealth health;
    private final ChildLookup lookup;
    private final ParentDirs dirs;
    private boolean resyncNeeded;

    EventApplier(CgroupIndex index, ChildLookup lookup, ParentDirs dirs) {
        this.index = index;
        this.health = index.health();
        this.lookup = lookup;
        this.dirs = dirs;
    }

    /** Whether events were lost since the last call (then the index needs a re-sync sweep). */
    boolean takeResyncNeeded() {
        boolean r = resyncNeeded;
        resyncNeeded = false;
        return r;
    }

    /** Applies every event of the batch, in order. */
    void apply(EventBatch batch) {
        for (int i = 0; i < batch.size(); i++) {
            apply(batch, i);
        }
    }

    private void apply(EventBatch batch, int i) {
        if (batch.isOverflow(i)) {
            resyncNeeded = true;
            return;
        }
        if (batch.foreign(i)) {
            health.count(IndexHealth.Counter.FOREIGN_EVENTS);
            return;
        }
        if (!batch.isCgroupEvent(i)) {
            return; // not a cgroup: files in cgroupfs, or nothing we can name
        }
        long parentId = batch.dirId(i);
        try {
            // A merged CREATE|DELETE is a create followed by a delete.
            byte[] name = null;
            if (batch.isCreate(i)) {
                health.count(IndexHealth.Counter.CREATE_EVENTS);
                name = batch.name(i); // kept by the index: the one copy of it
                long id = childId(batch, i, parentId, name);
                if (id == FileHandles.NO_ID) {
                    index.createdUnknownId(parentId, name);
                } else {
                    index.created(id, parentId, name, Source.EVENT);
                }
            }
            if (batch.isDelete(i)) {
                health.count(IndexHealth.Counter.DELETE_EVENTS);
                long id = batch.objectId(i);
                if (id == FileHandles.NO_ID) {
                    malformed("DELETE without the child's FID record");
                } else {
                    // The name only matters for an id the index lacks or a CREATE waiting for its id.
                    if (name == null && index.deleteNeedsName(id)) {
                        name = batch.name(i);
                    }
                    index.deleted(id, parentId, name, Source.EVENT);
                    dirs.forget(id); // a parent whose directory was kept open
                }
            }
        } catch (SyscallException ex) {
            // The child's id could not be had for a reason other than a race: a re-sync repairs it.
            LOG.warning("cannot resolve a created cgroup (" + ex.getMessage() + "), re-syncing");
            resyncNeeded = true;
        }
    }

    /** The created child's id: from the event, from the listing, or looked up now. */
    private long childId(EventBatch batch, int i, long parentId, byte[] name) throws SyscallException {
        if (!batch.needsChildId(i)) {
            return batch.objectId(i);
        }
        return batch.isListed(i) ? batch.listedId(i) : lookup.childId(parentId, name);
    }

    /** A record that could not be parsed ({@link EventBatch}'s parse reports it): counted and logged. */
    void malformed(String why) {
        health.count(IndexHealth.Counter.MALFORMED_EVENTS);
        LOG.warning("malformed fanotify event: " + why);
    }
}
