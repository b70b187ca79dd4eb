package io.cgscope.index;

import com.github.benmanes.caffeine.cache.Ticker;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * How long removed cgroups stay resolvable: for the retention period (timed by a Caffeine
 * {@link Ticker} that tests replace), at most {@code maxRetained} of them, the oldest going first
 * beyond that, so endless churn cannot exhaust the heap. Deaths arrive in time order and the
 * retention is one length, so the oldest death is always the next to end ({@link CgroupStore}
 * keeps them in that order). Expiry listeners hear of each while it is still in the index (so a
 * scrape never finds it gone before its counters were folded), then it is removed. Writer only,
 * but for {@link #onExpired}.
 */
final class Retention {
    private final CgroupStore store;
    private final IndexHealth health;
    private final long retentionNanos;
    private final int maxRetained;
    private final Ticker ticker;
    private final List<Consumer<ExpiredCgroup>> listeners = new CopyOnWriteArrayList<>();
    /** One object for every expiry: valid only inside a listener's call. */
    private final ExpiredCgroup expiring;

    Retention(CgroupStore store, CgroupPaths paths, IndexHealth health, Duration retention, int maxRetained,
              Ticker ticker) {
        this.store = store;
        this.health = health;
        this.retentionNanos = Math.max(0, retention.toNanos());
        this.maxRetained = maxRetained;
        this.ticker = ticker;
        this.expiring = new ExpiredCgroup(paths);
    }

    /** Any thread: {@code listener} hears of each retained cgroup whose retention ends, on the writer thread. */
    void onExpired(Consumer<ExpiredCgroup> listener) {
        listeners.add(listener);
    }

    /** Whether more cgroups are retained than the budget allows (a burst of deaths: evict now). */
    boolean overBudget() {
        return store.retained() > maxRetained;
    }

    /** When, by the index's clock, a CREATE still waiting for its id is given up: one retention ago. */
    long cutoffMillis(long nowMillis) {
        return nowMillis - retentionNanos / 1_000_000;
    }

    /**
     * Ends the retention of the oldest dead cgroups: those dead longer than the retention, and
     * beyond {@code maxRetained} the oldest regardless.
     */
    void evict() {
        long now = ticker.read();
        while (store.retained() > 0) {
            boolean expired = now - store.oldestDeathTick() >= retentionNanos;
            boolean overBudget = store.retained() > maxRetained;
            if (!expired && !overBudget) {
                return;
            }
            if (!listeners.isEmpty()) {
                tell(store.oldestDeathId(), store.oldestDeathMillis());
            }
            if (store.evictOldestDeath()) {
                health.count(expired ? IndexHealth.Counter.RETENTION_EXPIRED : IndexHealth.Counter.RETENTION_OVER_BUDGET);
            }
        }
    }

    private void tell(long id, long deletedMillis) {
        expiring.set(id, deletedMillis);
        for (Consumer<ExpiredCgroup> l : listeners) {
            try {
                l.accept(expiring);
            } catch (RuntimeException ex) {
                // a listener's bug must not break eviction
            }
        }
    }
}
