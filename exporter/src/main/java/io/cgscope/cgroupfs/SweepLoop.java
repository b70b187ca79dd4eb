package io.cgscope.cgroupfs;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.IndexKeeper;
import io.cgscope.index.IndexSource;
import io.cgscope.index.Source;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The fallback source: keeps the index by sweeping the tree every interval. It cannot see cgroups
 * that live shorter than the interval (the C reference saw 7-9 of 1.4 million short-lived cgroups
 * with 5 s sweeps), which is why fanotify is the default. It observes nothing between sweeps, so
 * {@link #attach()} and {@link #catchUp()} have nothing to do: the keeper's first sweep is its start.
 */
public final class SweepLoop implements IndexSource {
    private static final Logger LOG = Logger.getLogger(SweepLoop.class.getName());

    private final IndexKeeper keeper;
    private final CgroupIndex index;
    private final Duration interval;
    /** The sweeper this loop made for itself (the standalone constructor), or null. */
    private final Sweeper ownTree;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private String why;
    private Thread thread;

    /** @param why why the index is kept by sweeps, for the log line ({@code --cgroup.index-mode=sweep}, a refusal) */
    public SweepLoop(IndexKeeper keeper, Duration interval, String why) {
        this(keeper, interval, why, null);
    }

    /** A loop with a keeper of its own, for tests: {@link #start(String)} starts it. */
    public SweepLoop(CgroupFs fs, CgroupIndex index, Duration interval) {
        this(new Sweeper(fs), index, interval);
    }

    private SweepLoop(Sweeper tree, CgroupIndex index, Duration interval) {
        this(new IndexKeeper(index, tree), interval, "", tree);
    }

    private SweepLoop(IndexKeeper keeper, Duration interval, String why, Sweeper ownTree) {
        this.keeper = keeper;
        this.index = keeper.index();
        this.interval = interval;
        this.why = why;
        this.ownTree = ownTree;
    }

    /** Has the keeper start this loop: one sweep now (the index then equals the tree), then every interval. */
    public void start(String why) throws IOException {
        this.why = why;
        keeper.start(this);
    }

    @Override
    public IndexHealth.Mode mode() {
        return IndexHealth.Mode.SWEEP;
    }

    @Override
    public void attach() {
        // a sweep sees the whole tree: nothing to observe in between
    }

    @Override
    public void catchUp() {
        // nothing was queued
    }

    @Override
    public void follow() {
        thread = Thread.ofPlatform().name("cgscope-sweep").daemon(true).start(this::run);
        LOG.info("index kept by sweeps every " + interval.toMillis() + " ms (" + why + ")");
    }

    /** One sweep now, on the caller's thread: for tests that need the index up to date. */
    public synchronized void sweep(boolean announce) throws IOException {
        keeper.sweep(Source.SWEEP, announce);
        index.maintain();
    }

    private void run() {
        try {
            while (!stop.await(interval.toMillis(), TimeUnit.MILLISECONDS)) {
                try {
                    sweep(true);
                    keeper.health().followingAgain();
                } catch (IOException | RuntimeException e) {
                    keeper.health().notFollowing("sweep failed: " + e.getMessage());
                    LOG.warning("sweep failed: " + e.getMessage());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopped.countDown();
        }
    }

    @Override
    public void close() {
        stop.countDown();
        if (thread != null) {
            try {
                stopped.await(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (ownTree != null && (thread == null || stopped.getCount() == 0)) {
            ownTree.close();
        }
    }
}
