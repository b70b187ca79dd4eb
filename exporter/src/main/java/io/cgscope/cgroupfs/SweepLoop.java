package io.cgscope.cgroupfs;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.Source;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The fallback: keeps the index by sweeping the tree every interval. It cannot see cgroups that
 * live shorter than the interval (the C reference saw 7-9 of 1.4 million short-lived cgroups with
 * 5 s sweeps), which is why fanotify is the default.
 */
public final class SweepLoop implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SweepLoop.class.getName());

    private final CgroupFs fs;
    private final CgroupIndex index;
    private final Duration interval;
    private final Arena arena = Arena.ofShared();
    private final Sweeper sweeper;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Thread thread;

    public SweepLoop(CgroupFs fs, CgroupIndex index, Duration interval) {
        this.fs = fs;
        this.index = index;
        this.interval = interval;
        this.sweeper = new Sweeper(fs, arena);
    }

    /** Sweeps once (the index then equals the tree) and starts the periodic sweeps. */
    public void start(String why) throws SyscallException {
        index.root(fs.rootId());
        sweep(false);
        index.stats().mode.set("sweep");
        index.stats().notFollowing.set(null);
        thread = Thread.ofPlatform().name("cgscope-sweep").daemon(true).start(this::run);
        LOG.info("index kept by sweeps every " + interval.toMillis() + " ms (" + why + ")");
    }

    /** One sweep now, on the caller's thread: for tests that need the index up to date. */
    public synchronized void sweep(boolean announce) throws SyscallException {
        long start = System.nanoTime();
        List<CgroupIndex.Discovered> tree = new ArrayList<>();
        sweeper.sweep((id, parentId, name) -> tree.add(new CgroupIndex.Discovered(id, parentId, name)));
        index.reconcile(tree, Source.SWEEP, announce);
        index.maintain();
        index.stats().lastSweepNanos.set(System.nanoTime() - start);
    }

    private void run() {
        try {
            while (!stop.await(interval.toMillis(), TimeUnit.MILLISECONDS)) {
                try {
                    sweep(true);
                    index.stats().notFollowing.set(null);
                } catch (SyscallException | RuntimeException e) {
                    index.stats().notFollowing.set("sweep failed: " + e.getMessage());
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
    }
}
