package io.cgscope.top;

import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.ChangeLog;
import io.cgscope.index.IndexChange;

import java.util.List;

/**
 * The "short-lived in the last minute" count of the live page: cgroups removed in the last minute
 * after living less than a minute, the ones a top that refreshes every few seconds never shows.
 *
 * <p>It follows the index's change history from where the last request left it, so each change
 * is looked at once (a removal's creation time needs its cgroup's view, which builds its path:
 * about a microsecond). The first request starts with whatever of the last minute the history
 * still holds. Deaths are counted per second of their time in a ring of {@link #SECONDS} slots.
 * When changes left the history before they were read (more than {@link CgroupIndex#HISTORY}
 * between two requests, or in the minute before the first), the count is a lower bound for the
 * next minute: {@link Count#complete()} says so.
 */
public final class ShortLived {
    /** How far back it counts, and how long a cgroup may have lived to count. */
    public static final long WINDOW_MILLIS = 60_000;
    private static final int SECONDS = (int) (WINDOW_MILLIS / 1000) + 1;
    private static final int STEP = 4096;

    /** The count, and whether every removal of the last minute was seen. */
    public record Count(int shortLived, boolean complete) {
    }

    private final CgroupIndex index;
    private final long[] slotSecond = new long[SECONDS];
    private final int[] slotCount = new int[SECONDS];
    /** The last change looked at; -1 before the first request. */
    private long cursor = -1;
    private long incompleteUntil;

    public ShortLived(CgroupIndex index) {
        this.index = index;
        java.util.Arrays.fill(slotSecond, -1);
    }

    public synchronized Count count() {
        ChangeLog log = index.changes();
        long now = index.nowMillis();
        long last = log.lastSeq();
        boolean firstEver = cursor < 0;
        if (firstEver) {
            cursor = log.firstSeq() - 1;
        }
        while (cursor < last) {
            if (cursor + 1 < log.firstSeq()) {
                // Changes left the history before they were read: deaths of the next minute may be missing.
                incompleteUntil = Math.max(incompleteUntil, now + WINDOW_MILLIS);
                cursor = log.firstSeq() - 1;
            }
            List<IndexChange> step = log.after(cursor, (int) Math.min(STEP, last - cursor));
            if (step == null) {
                continue; // overwritten while read: the check above moves past what is gone
            }
            for (IndexChange c : step) {
                cursor = c.seq();
                long time = c.time().toEpochMilli();
                if (firstEver) {
                    firstEver = false;
                    if (c.seq() > 1 && time >= now - WINDOW_MILLIS) {
                        // The history starts within the minute: what came before it is not known.
                        incompleteUntil = time + WINDOW_MILLIS;
                    }
                }
                if (c.type() != IndexChange.Type.DELETE || time < now - WINDOW_MILLIS) {
                    continue;
                }
                Cgroup gone = c.cgroup();
                if (gone.createdAt() != null && time - gone.createdAt().toEpochMilli() < WINDOW_MILLIS) {
                    add(time / 1000);
                }
            }
        }
        long nowSecond = now / 1000;
        int sum = 0;
        for (int i = 0; i < SECONDS; i++) {
            if (slotSecond[i] > nowSecond - SECONDS && slotSecond[i] <= nowSecond) {
                sum += slotCount[i];
            }
        }
        return new Count(sum, now >= incompleteUntil);
    }

    private void add(long second) {
        int slot = (int) (second % SECONDS);
        if (slotSecond[slot] != second) {
            slotSecond[slot] = second;
            slotCount[slot] = 0;
        }
        slotCount[slot]++;
    }
}
