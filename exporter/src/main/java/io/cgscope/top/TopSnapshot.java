package io.cgscope.top;

import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.ChangeLog;
import io.cgscope.index.IndexChange;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the live page shows at one moment: the cgroups (live ones by path, then the most recently
 * removed ones still retained), the rates of each, and the index's counts. Built from the index's
 * public readers and its change history; never blocks the index's writer.
 *
 * <p><b>Consistent with the event stream.</b> {@link #lastEventId} is read before anything else:
 * every change after it is on {@code /events} with a higher id, and replaying those on top of this
 * snapshot gives the current state (a create shows the cgroup live, a delete dead; both are
 * idempotent), so a client starts its stream, takes a snapshot, and applies the events after
 * {@code lastEventId}.
 *
 * <p><b>The removed ones</b> come from the change history, newest first, at most {@code maxDead},
 * and only while the index still retains them: with up to 250,000 retained, walking them all for
 * each page load would cost more than the rest together.
 */
public final class TopSnapshot {
    /** Changes read from the history per step, newest steps first. */
    private static final int STEP = 1024;

    public final long lastEventId;
    public final long nowMillis;
    /** Live ones sorted by path, then removed ones newest death first. */
    public final List<Cgroup> cgroups;
    /** Whether live cgroups were left out ({@code liveLimit}). */
    public final boolean truncated;
    public final long live;
    public final long dead;
    public final ShortLived.Count shortLived;
    public final Rates rates;

    private TopSnapshot(long lastEventId, long nowMillis, List<Cgroup> cgroups, boolean truncated, long live, long dead,
                        ShortLived.Count shortLived, Rates rates) {
        this.lastEventId = lastEventId;
        this.nowMillis = nowMillis;
        this.cgroups = cgroups;
        this.truncated = truncated;
        this.live = live;
        this.dead = dead;
        this.shortLived = shortLived;
        this.rates = rates;
    }

    /**
     * The whole tree: every live cgroup (at most {@code liveLimit}, by path) and up to
     * {@code maxDead} retained dead ones, newest death first.
     */
    public static TopSnapshot tree(CgroupIndex index, Rates rates, ShortLived.Count shortLived, int liveLimit,
                                   int maxDead) {
        long lastEventId = index.changes().lastSeq();
        long now = index.nowMillis();
        CgroupIndex.Listing live = index.list("", CgroupIndex.StateFilter.LIVE, liveLimit);
        List<Cgroup> out = new ArrayList<>(live.cgroups().size() + Math.min(maxDead, 1024));
        out.addAll(live.cgroups());
        recentDead(index, lastEventId, maxDead, out);
        return new TopSnapshot(lastEventId, now, out, live.truncated(), index.liveCount(), index.deadCount(),
                shortLived, rates);
    }

    /**
     * Only the cgroups that counted anything in the window (the page's periodic refresh: the
     * tree itself it keeps from the event stream).
     */
    public static TopSnapshot active(CgroupIndex index, Rates rates, ShortLived.Count shortLived) {
        long lastEventId = index.changes().lastSeq();
        long now = index.nowMillis();
        List<Cgroup> out = new ArrayList<>();
        for (int row = 0; row < rates.rows(); row++) {
            if (rates.active(row)) {
                index.byId(rates.id(row)).ifPresent(out::add);
            }
        }
        return new TopSnapshot(lastEventId, now, out, false, index.liveCount(), index.deadCount(), shortLived, rates);
    }

    /** Adds up to {@code max} retained dead cgroups to {@code out}, the last removed first, from the history up to {@code end}. */
    private static void recentDead(CgroupIndex index, long end, int max, List<Cgroup> out) {
        ChangeLog log = index.changes();
        int added = 0;
        while (added < max && end >= log.firstSeq()) {
            long from = Math.max(log.firstSeq() - 1, end - STEP);
            List<IndexChange> step = log.after(from, (int) (end - from));
            if (step == null) {
                return; // the writer overwrote the older part meanwhile: what is left is older still
            }
            for (int i = step.size() - 1; i >= 0 && added < max; i--) {
                IndexChange c = step.get(i);
                if (c.type() != IndexChange.Type.DELETE) {
                    continue;
                }
                Optional<Cgroup> retained = index.byId(c.cgroup().id());
                if (retained.isPresent() && !retained.get().isLive()) {
                    out.add(retained.get());
                    added++;
                }
            }
            end = from;
        }
    }
}
