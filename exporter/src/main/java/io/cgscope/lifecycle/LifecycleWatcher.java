package io.cgscope.lifecycle;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.LifecycleProgram;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.Sweeper;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.Source;
import io.cgscope.linux.EventFd;
import io.cgscope.linux.Poller;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps a {@link CgroupIndex} equal to the cgroup tree from the BPF lifecycle programs' records
 * (mkdir and rmdir tracepoints, {@link LifecycleProgram}): the index source for kernels whose
 * kernfs has no fsid, where fanotify refuses the mark. Owns the programs and the one thread that
 * drains their ring and writes the index.
 *
 * <p>Start without a race, as the fanotify source does: the programs are attached first, then the
 * tree is swept, then the records queued meanwhile are applied. Afterwards the reader waits in
 * {@code poll} on the ring, drains it in batches (1 ms apart while records keep coming), and
 * re-syncs with a sweep whenever the programs counted a record the ring had no room for.
 */
public final class LifecycleWatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LifecycleWatcher.class.getName());
    /** As the fanotify reader: records arrive in batches, the reader wakes about once per millisecond under churn. */
    private static final int BATCH_DELAY_MILLIS = 1;
    private static final int MAINTAIN_EVERY_MILLIS = 1000;
    private static final long MAX_BACKOFF_MILLIS = 5000;
    /** A drain of more records than this found a backlog: the next drain follows at once. */
    private static final int BACKLOG_RECORDS = 4096;

    private final CgroupFs fs;
    private final CgroupIndex index;
    private final int ringBytes;
    private final Arena arena = Arena.ofShared();
    private final Sweeper sweeper;
    private final EventFd wake;
    private final RecordApplier applier;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private LifecycleProgram program;
    private long lostSeen;
    private Thread thread;
    private volatile boolean running;
    private volatile CountDownLatch hold;
    private volatile CountDownLatch held;

    public LifecycleWatcher(CgroupFs fs, CgroupIndex index, int ringBytes) throws SyscallException {
        this.fs = fs;
        this.index = index;
        this.ringBytes = ringBytes;
        this.sweeper = new Sweeper(fs, arena);
        this.wake = new EventFd();
        this.applier = new RecordApplier(index, io.cgscope.bpf.LifecycleEvent.UNIFIED);
    }

    /**
     * Attaches the programs, sweeps, applies the records queued meanwhile and starts the reader.
     *
     * @throws BpfException     when the kernel refuses the programs (the caller may fall back to sweeps)
     * @throws SyscallException when the sweep fails
     */
    public void start() throws BpfException, SyscallException {
        attach();
        try {
            index.root(fs.rootId());
            resync(Source.SWEEP, false);
            catchUp();
        } catch (SyscallException | RuntimeException e) {
            program.close();
            throw e;
        }
        index.flush();
        index.stats().mode.set("bpf");
        index.stats().notFollowing.set(null);
        follow();
    }

    /** Loads and attaches the programs: from when this returns, every mkdir and rmdir waits in the ring. */
    void attach() throws BpfException {
        program = LifecycleProgram.start(ringBytes);
        lostSeen = program.lost();
    }

    /** Applies what was queued since {@link #attach()}, to the end (on the caller's thread, the writer). */
    void catchUp() throws SyscallException {
        drainAll();
    }

    /** Starts the reader thread, the index's one writer from now on. */
    void follow() {
        running = true;
        thread = Thread.ofPlatform().name("cgscope-bpf-index").daemon(true).unstarted(this::run);
        thread.start();
    }

    /** The ring's size in bytes. */
    public int ringBytes() {
        return ringBytes;
    }

    /** Records lost so far (the ring was full): each loss was followed by a re-sync. */
    public long lost() {
        return lostSeen;
    }

    /**
     * Test hook: the reader stops draining until {@code release} counts down, as a stalled reader
     * would; returns once the reader is held.
     */
    void holdReader(CountDownLatch release) throws InterruptedException, SyscallException {
        CountDownLatch ack = new CountDownLatch(1);
        held = ack;
        hold = release;
        wake.signal();
        ack.await();
    }

    private void checkHold() {
        CountDownLatch release = hold;
        if (release != null) {
            hold = null;
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        try (Arena local = Arena.ofShared()) {
            Poller poller = new Poller(local, program.ringFd(), wake.fd());
            Poller wakeOnly = new Poller(local, wake.fd());
            long lastMaintain = System.nanoTime();
            long backoff = 100;
            boolean readNext = false;
            while (running) {
                try {
                    int ready = readNext ? 1 : poller.await(MAINTAIN_EVERY_MILLIS);
                    readNext = false;
                    if ((ready & 2) != 0) {
                        wake.drain();
                    }
                    checkHold();
                    if (!running) {
                        break;
                    }
                    if ((ready & 1) != 0 && drainAll() > 0) {
                        index.flush();
                        // Batch: let records accumulate briefly; the wake fd still ends the wait at once.
                        readNext = wakeOnly.await(BATCH_DELAY_MILLIS) == 0;
                    }
                    if (System.nanoTime() - lastMaintain > MAINTAIN_EVERY_MILLIS * 1_000_000L) {
                        index.maintain();
                        lastMaintain = System.nanoTime();
                    }
                    backoff = 100;
                } catch (SyscallException | RuntimeException e) {
                    if (!running) {
                        break;
                    }
                    backoff = recover(e, poller, backoff);
                }
            }
        } finally {
            stopped.countDown();
        }
    }

    /**
     * Drains the ring until it is about empty; after any loss, re-syncs (once what was queued
     * before the loss has been applied, so that the sweep has the last word on what is live).
     */
    private int drainAll() throws SyscallException {
        int total = 0;
        while (true) {
            index.beginBatch();
            int n = program.drain(applier);
            total += n;
            long lost = program.lost();
            if (lost != lostSeen) {
                index.stats().overflows.increment();
                LOG.warning("the BPF lifecycle ring was full: " + (lost - lostSeen) + " records lost, re-syncing");
                lostSeen = lost;
                resync(Source.RESYNC, true);
            }
            if (n <= BACKLOG_RECORDS) {
                return total;
            }
        }
    }

    private long recover(Exception e, Poller poller, long backoff) {
        index.stats().notFollowing.set("BPF lifecycle reader failed: " + e.getMessage() + "; retrying");
        index.stats().readerRestarts.increment();
        LOG.log(Level.WARNING, "BPF lifecycle reader failed, re-syncing in " + backoff + " ms: " + e, e);
        try {
            poller.await((int) backoff);
            if (!running) {
                return backoff;
            }
            resync(Source.RESYNC, true);
            index.flush();
            index.stats().notFollowing.set(null);
            LOG.info("BPF lifecycle reader recovered");
            return 100;
        } catch (SyscallException | RuntimeException again) {
            LOG.warning("re-sync after reader failure failed: " + again);
            return Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
        }
    }

    private void resync(Source source, boolean announce) throws SyscallException {
        long start = System.nanoTime();
        List<CgroupIndex.Discovered> tree = new ArrayList<>();
        sweeper.sweep((id, parentId, name) -> tree.add(new CgroupIndex.Discovered(id, parentId, name)));
        CgroupIndex.Reconciled r = index.reconcile(tree, source, announce);
        long took = System.nanoTime() - start;
        index.stats().lastSweepNanos.set(took);
        if (source == Source.RESYNC) {
            index.stats().resyncs.increment();
            index.stats().resyncNanos.add(took);
            LOG.info("re-sync: " + tree.size() + " cgroups swept in " + took / 1_000_000 + " ms, " + r.added()
                    + " found, " + r.removed() + " gone");
        }
    }

    /** Stops the reader, detaches and unloads the programs; idempotent. */
    @Override
    public void close() {
        running = false;
        try {
            wake.signal();
        } catch (SyscallException ignored) {
            // closing anyway
        }
        if (thread != null) {
            try {
                if (!stopped.await(2, TimeUnit.SECONDS)) {
                    LOG.warning("BPF lifecycle reader did not stop within 2 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // The ring's memory is the reader's while it runs: a reader that did not stop keeps it.
        if (thread == null || stopped.getCount() == 0) {
            if (program != null) {
                program.close();
            }
            arena.close();
        }
        wake.close();
    }
}
