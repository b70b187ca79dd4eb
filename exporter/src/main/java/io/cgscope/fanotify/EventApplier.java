package io.cgscope.fanotify;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.Source;
import io.cgscope.linux.FileHandles;
import io.cgscope.linux.SyscallException;

import java.util.logging.Logger;

/**
 * Applies parsed fanotify events to the index as they come (the reader thread's sink). An
 * overflow, or a created cgroup whose id cannot be had for a reason other than a race, is
 * remembered: the drain loop then re-syncs ({@link #takeResyncNeeded()}).
 */
final class EventApplier implements EventParser.Sink {
    private static final Logger LOG = Logger.getLogger(CgroupWatcher.class.getName());

    private final CgroupIndex index;
    private final ChildIds childIds;
    private boolean resyncNeeded;

    EventApplier(CgroupIndex index, ChildIds childIds) {
        this.index = index;
        this.childIds = childIds;
    }

    /** Whether events were lost since the last call (then the index needs a re-sync sweep). */
    boolean takeResyncNeeded() {
        boolean r = resyncNeeded;
        resyncNeeded = false;
        return r;
    }

    /** A directory event with a parent and a name: a cgroup's (files in cgroupfs and the overflow are not). */
    static boolean isCgroupEvent(FanotifyEvent e) {
        return !e.isOverflow() && !e.foreign() && e.isDirectory() && e.dirId() != FanotifyEvent.NONE && e.hasName();
    }

    /**
     * Whether applying {@code e} asks {@link ChildIds} for the child's id: a CREATE, which on cgroupfs
     * carries no FID of the child. {@link CreateBatch} collects exactly these, in the same order.
     */
    static boolean needsChildId(FanotifyEvent e) {
        return isCgroupEvent(e) && e.isCreate() && e.objectId() == FanotifyEvent.NONE;
    }

    @Override
    public void event(FanotifyEvent e) {
        if (e.isOverflow()) {
            resyncNeeded = true;
            return;
        }
        if (e.foreign()) {
            index.health().count(IndexHealth.Counter.FOREIGN_EVENTS);
            return;
        }
        if (!isCgroupEvent(e)) {
            return; // not a cgroup: files in cgroupfs, or nothing we can name
        }
        try {
            // A merged CREATE|DELETE is a create followed by a delete.
            byte[] name = null;
            if (e.isCreate()) {
                index.health().count(IndexHealth.Counter.CREATE_EVENTS);
                name = e.name(); // kept by the index: the one copy of it
                long id = needsChildId(e) ? childIds.of(e.dirId(), name) : e.objectId();
                if (id == FileHandles.GONE) {
                    index.createdUnknownId(e.dirId(), name);
                } else {
                    index.created(id, e.dirId(), name, Source.EVENT);
                }
            }
            if (e.isDelete()) {
                index.health().count(IndexHealth.Counter.DELETE_EVENTS);
                if (e.objectId() == FanotifyEvent.NONE) {
                    malformed("DELETE without the child's FID record");
                } else {
                    // The name only matters for an id the index lacks or a CREATE waiting for its id.
                    if (name == null && index.deleteNeedsName(e.objectId())) {
                        name = e.name();
                    }
                    index.deleted(e.objectId(), e.dirId(), name, Source.EVENT);
                    childIds.deleted(e.objectId());
                }
            }
        } catch (SyscallException ex) {
            // The child's id could not be had for a reason other than a race: a re-sync repairs it.
            LOG.warning("cannot resolve a created cgroup (" + ex.getMessage() + "), re-syncing");
            resyncNeeded = true;
        }
    }

    @Override
    public void malformed(String why) {
        index.health().count(IndexHealth.Counter.MALFORMED_EVENTS);
        LOG.warning("malformed fanotify event: " + why);
    }
}
