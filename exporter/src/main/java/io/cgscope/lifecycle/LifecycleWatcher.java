package io.cgscope.lifecycle;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.LifecycleEvent;
import io.cgscope.bpf.LifecycleProgram;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.Sweeper;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.IndexKeeper;
import io.cgscope.index.IndexSource;
import io.cgscope.linux.EventFd;
import io.cgscope.linux.Poller;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The BPF source: keeps a {@link CgroupIndex} equal to the cgroup tree from the records of the
 * lifecycle programs (mkdir and rmdir tracepoints, {@link LifecycleProgram}), for kernels whose
 * kernfs has no fsid, where fanotify refuses the mark. Owns the programs and the one thread that
 * drains their ring and writes the index.
 *
 * <p>Started by its {@link IndexKeeper} without a race: {@link #attach()} attaches the programs,
 * the keeper sweeps the tree, {@link #catchUp()} applies the records queued meanwhile,
 * {@link #follow()} starts the reader, which waits in {@code poll} on the ring, drains it in
 * batches (1 ms apart while records keep coming), and has the keeper re-sync whenever the
 * programs counted a record the ring had no room for.
 */
public final class LifecycleWatcher implements IndexSource, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LifecycleWatcher.class.getName());
    /** As the fanotify reader: records arrive in batches, the reader wakes about once per millisecond under churn. */
    private static final int BATCH_DELAY_MILLIS = 1;
    private static final int MAINTAIN_EVERY_MILLIS = 1000;
    private static final long MAX_BACKOFF_MILLIS = 5000;
    /** A drain of more records than this found a backlog: the next drain follows at once. */
    private static final int BACKLOG_RECORDS = 4096;

    private final IndexKeeper keeper;
    private final CgroupIndex index;
    private final IndexHealth health;
    private final int ringBytes;
    /** The sweeper this watcher made for its own keeper (the standalone constructor), or null. */
    private final Sweeper ownTree;
    private final EventFd wake;
    private final RecordApplier applier;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private LifecycleProgram program;
    private long lostSeen;
    private Thread thread;
    private volatile boolean running;
    private volatile CountDownLatch hold;
    private volatile CountDownLatch held;

    /** A source that {@code keeper} starts ({@link IndexKeeper#start}), for the unified hierarchy. */
    public LifecycleWatcher(IndexKeeper keeper, int ringBytes) throws SyscallException {
        this(keeper, ringBytes, null);
    }

    /** A source with a keeper of its own (no fallback), for tests: {@link #start()} starts it. */
    public LifecycleWatcher(CgroupFs fs, CgroupIndex index, int ringBytes) throws SyscallException {
        this(fs, index, ringBytes, new Sweeper(fs));
    }

    private LifecycleWatcher(CgroupFs fs, CgroupIndex index, int ringBytes, Sweeper ownTree) throws SyscallException {
        this(new IndexKeeper(index, ownTree), ringBytes, ownTree);
    }

    private LifecycleWatcher(IndexKeeper keeper, int ringBytes, Sweeper ownTree) throws SyscallException {
        this.keeper = keeper;
        this.index = keeper.index();
        this.health = keeper.health();
        this.ringBytes = ringBytes;
        this.ownTree = ownTree;
        this.wake = new EventFd();
        this.applier = new RecordApplier(index, LifecycleEvent.UNIFIED);
    }

    /**
     * Has the keeper start this source: attach, sweep, apply the records queued meanwhile, start the reader.
     *
     * @throws IOException when the kernel refuses the programs, or the sweep fails
     */
    public void start() throws IOException {
        keeper.start(this);
    }

    @Override
    public IndexHealth.Mode mode() {
        return IndexHealth.Mode.BPF;
    }

    /** Loads and attaches the programs: from when this returns, every mkdir and rmdir waits in the ring. */
    @Override
    public void attach() throws IOException {
        try {
            program = LifecycleProgram.start(ringBytes);
        } catch (BpfException e) {
            throw new IOException(e.getMessage(), e);
        }
        lostSeen = program.lost();
    }

    /** Applies what was queued since {@link #attach()}, to the end (on the keeper's thread, the writer). */
    @Override
    public void catchUp() throws IOException {
        drainAll();
    }

    /** Starts the reader thread, the index's one writer from now on. */
    @Override
    public void follow() {
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
                } catch (IOException | RuntimeException e) {
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
    private int drainAll() throws IOException {
        int total = 0;
        while (true) {
            index.beginBatch();
            int n = program.drain(applier);
            total += n;
            long lost = program.lost();
            if (lost != lostSeen) {
                health.count(IndexHealth.Counter.OVERFLOWS);
                health.add(IndexHealth.Counter.LOST_RECORDS, lost - lostSeen);
                LOG.warning("the BPF lifecycle ring was full: " + (lost - lostSeen) + " records lost, re-syncing");
                lostSeen = lost;
                LOG.info("re-sync: " + keeper.resync().describe());
            }
            if (n <= BACKLOG_RECORDS) {
                return total;
            }
        }
    }

    /**
     * The reader failed: say so in /healthz, wait (backing off), then re-sync, since records may
     * have been lost with the failed batch.
     */
    private long recover(Exception e, Poller poller, long backoff) {
        keeper.readerFailed("BPF lifecycle reader failed: " + e.getMessage() + "; retrying");
        LOG.log(Level.WARNING, "BPF lifecycle reader failed, re-syncing in " + backoff + " ms: " + e, e);
        try {
            poller.await((int) backoff); // still ends at once on shutdown
            if (!running) {
                return backoff;
            }
            LOG.info("re-sync: " + keeper.resync().describe());
            index.flush();
            keeper.readerRecovered();
            LOG.info("BPF lifecycle reader recovered");
            return 100;
        } catch (IOException | RuntimeException again) {
            LOG.warning("re-sync after reader failure failed: " + again);
            return Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
        }
    }

    /** Stops the reader, detaches and unloads the programs; idempotent, safe after a failed attach. */
    @Override
    public void close() {
        running = false;
        try {
            wake.signal();
        } catch (SyscallException | IllegalStateException ignored) {
            // closing anyway
        }
        if (thread != null && thread != Thread.currentThread()) {
            try {
                if (!stopped.await(2, TimeUnit.SECONDS)) {
                    LOG.warning("BPF lifecycle reader did not stop within 2 s");
                    return; // it still owns the ring's memory
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        synchronized (this) {
            if (program != null) {
                program.close();
            }
            wake.close();
            if (ownTree != null) {
                ownTree.close();
            }
        }
    }
}
