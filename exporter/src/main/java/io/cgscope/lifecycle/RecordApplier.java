package io.cgscope.lifecycle;

import io.cgscope.bpf.LifecycleEvent;
import io.cgscope.bpf.LifecycleRecords;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.Source;

import java.util.logging.Logger;

/**
 * Applies lifecycle records of one hierarchy to its index as they come (the reader thread's
 * sink), with fanotify's semantics: a mkdir is a CREATE, an rmdir a DELETE; both carry the id,
 * the parent's id and the name, so no system call is needed per cgroup and none is missed.
 * Records of other hierarchies are counted and skipped.
 */
final class RecordApplier implements LifecycleRecords.Sink {
    private static final Logger LOG = Logger.getLogger(LifecycleWatcher.class.getName());

    private final CgroupIndex index;
    private final IndexHealth health;
    private final int hierarchy;

    RecordApplier(CgroupIndex index, int hierarchy) {
        this.index = index;
        this.health = index.health();
        this.hierarchy = hierarchy;
    }

    @Override
    public void event(LifecycleEvent e) {
        if (e.hierarchy() != hierarchy) {
            health.count(IndexHealth.Counter.FOREIGN_EVENTS);
            return;
        }
        if (e.isMkdir()) {
            health.count(IndexHealth.Counter.CREATE_EVENTS);
            index.created(e.id(), e.parentId(), e.name(), Source.EVENT);
        } else {
            health.count(IndexHealth.Counter.DELETE_EVENTS);
            // The name only matters for an id the index lacks.
            index.deleted(e.id(), e.parentId(), index.deleteNeedsName(e.id()) ? e.name() : null, Source.EVENT);
        }
    }

    @Override
    public void malformed(String why) {
        health.count(IndexHealth.Counter.MALFORMED_EVENTS);
        LOG.warning("malformed lifecycle record: " + why);
    }
}
