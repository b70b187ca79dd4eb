package io.cgscope.fanotify;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.Sweeper;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.IndexKeeper;
import io.cgscope.index.IndexSource;
import io.cgscope.linux.Errno;
import io.cgscope.linux.EventFd;
import io.cgscope.linux.Fd;
import io.cgscope.linux.Libc;
import io.cgscope.linux.Poller;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fanotify source: keeps a {@link CgroupIndex} equal to the cgroup tree by following fanotify
 * events on the whole cgroup2 file system. Owns the fanotify fd and the one thread that reads it
 * and writes the index.
 *
 * <p>Started by its {@link IndexKeeper} without a race: {@link #attach()} places the mark, the
 * keeper sweeps the tree, {@link #catchUp()} applies the events queued meanwhile, {@link #follow()}
 * starts the reader thread, which then waits only on the kernel ({@code poll}). A queue overflow,
 * or a read error that may have lost events, triggers a re-sync sweep.
 *
 * <p>Each read goes through three stages, in this order ({@link #readBatch()}): {@link EventBatch}
 * parses the buffer once, {@link BatchListings} answers the CREATEs' child ids by listing their
 * parents where that pays, {@link EventApplier} applies the events in order (looking up the ids
 * no listing gave).
 */
public final class CgroupWatcher implements IndexSource, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CgroupWatcher.class.getName());
    private static final int READ_BUFFER = 256 * 1024;
    /**
     * After a non-empty read the reader waits this long before reading again, so events arrive in
     * batches: the C reference halved the CPU per event this way (5.9 us instead of 10-14 us).
     * The wait watches the wake fd only: a poll that includes the fanotify fd ends at the first
     * new event, which is no batching at all (measured: 10-15 us of reader CPU per event).
     */
    private static final int BATCH_DELAY_MILLIS = 1;
    private static final int MAINTAIN_EVERY_MILLIS = 1000;
    /** A failed reader waits this long before it re-syncs and reads again, doubling up to the maximum. */
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 5000;
    /** {@link Poller#await}'s bits for the reader's poller, whose fds are (fanotify, wake) in that order. */
    private static final int FANOTIFY_READY = 1;
    private static final int WAKE_READY = 1 << 1;

    // What it watches and reports to.
    private final CgroupFs fs;
    private final IndexKeeper keeper;
    private final CgroupIndex index;
    private final IndexHealth health;
    private final boolean unlimitedQueue;
    /** The sweeper this watcher made for its own keeper (the standalone constructor), or null. */
    private final Sweeper ownTree;

    // The reader's pipeline: its native memory (arena), the read buffer and the three stages.
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf;
    private final ParentDirs dirs;
    private final EventBatch batch;
    private final BatchListings listings;
    private final EventApplier applier;

    // The kernel side and the thread.
    private volatile Fd fanotify;
    private boolean unlimited;
    private final EventFd wake;
    private Thread thread;
    private volatile boolean running;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** The reader gave the index up to the keeper's fallback: it releases what it holds as it ends. */
    private volatile boolean gaveUp;
    private boolean released;
    private volatile ReaderHooks hooks = ReaderHooks.NONE;

    /** A watcher that {@code keeper} starts ({@link IndexKeeper#start}). */
    public CgroupWatcher(CgroupFs fs, IndexKeeper keeper, boolean unlimitedQueue) throws SyscallException {
        this(fs, keeper, unlimitedQueue, null);
    }

    /** A watcher with a keeper of its own (no fallback), for tests and benchmarks: {@link #start()} starts it. */
    public CgroupWatcher(CgroupFs fs, CgroupIndex index, boolean unlimitedQueue) throws SyscallException {
        this(fs, index, unlimitedQueue, new Sweeper(fs));
    }

    private CgroupWatcher(CgroupFs fs, CgroupIndex index, boolean unlimitedQueue, Sweeper ownTree)
            throws SyscallException {
        this(fs, new IndexKeeper(index, ownTree), unlimitedQueue, ownTree);
    }

    private CgroupWatcher(CgroupFs fs, IndexKeeper keeper, boolean unlimitedQueue, Sweeper ownTree)
            throws SyscallException {
        this.fs = fs;
        this.keeper = keeper;
        this.index = keeper.index();
        this.health = keeper.health();
        this.unlimitedQueue = unlimitedQueue;
        this.ownTree = ownTree;
        this.buf = arena.allocate(READ_BUFFER, 8);
        ParentPaths paths = new ParentPaths(index);
        this.dirs = new ParentDirs(fs, paths, arena);
        this.listings = new BatchListings(dirs, health, arena);
        this.applier = new EventApplier(index, new ChildLookup(fs, paths, dirs, health, arena), dirs);
        this.batch = new EventBatch(new EventParser(fs.fsid0(), fs.fsid1()), applier::malformed);
        this.wake = new EventFd();
    }

    /**
     * Has the keeper start this watcher: mark, sweep, drain the queued events, start the reader.
     *
     * @throws IOException when the kernel refuses the group or the mark (the caller may fall back to sweeps)
     */
    public void start() throws IOException {
        keeper.start(this);
    }

    @Override
    public IndexHealth.Mode mode() {
        return IndexHealth.Mode.FANOTIFY;
    }

    /** Places the mark: from now on the kernel queues every cgroup's CREATE and DELETE for us. */
    @Override
    public void attach() throws SyscallException {
        fanotify = openGroup();
    }

    private Fd openGroup() throws SyscallException {
        FanotifyGroup group = FanotifyGroup.open(fs, unlimitedQueue);
        unlimited = group.unlimitedQueue();
        return group.fd();
    }

    /** Applies everything queued since the mark, to the end. */
    @Override
    public void catchUp() throws IOException {
        while (readBatch() > 0) {
            // to the end of the queue
        }
    }

    @Override
    public void follow() {
        running = true;
        thread = Thread.ofPlatform().name("cgscope-fanotify").daemon(true).unstarted(this::run);
        thread.start();
    }

    /** Whether the kernel granted FAN_UNLIMITED_QUEUE. */
    public boolean unlimitedQueue() {
        return unlimited;
    }

    /** The fanotify fd: stays valid for the life of the watcher (e.g. across a privilege drop). */
    public Fd fd() {
        return fanotify;
    }

    /** Installs a test's hooks ({@link ReaderHooks}) and wakes the reader, so that its next turn runs them at once. */
    public void hooks(ReaderHooks hooks) {
        this.hooks = hooks;
        try {
            wake.signal();
        } catch (SyscallException ignored) {
            // the reader runs them at its next wake-up anyway
        }
    }

    private void run() {
        try (Arena local = Arena.ofShared()) {
            Turns turns = new Turns(local);
            while (running && turns.next()) {
                // each turn is a call: see Turns
            }
        } finally {
            stopped.countDown();
            if (gaveUp) {
                release(); // the keeper dropped this source: nobody else will close it
            }
        }
    }

    /**
     * The reader's loop, one turn per call: wait, read a batch, upkeep. A turn is a method of its
     * own so that the JIT compiles it after a few thousand calls, while the loop around it, which
     * runs for the life of the process, stays in the interpreter: with the turn inlined in that
     * loop, an on-stack replacement comes only after tens of thousands of turns (about a minute of
     * churn at one turn per millisecond), and until then it ran interpreted (perf of the reader
     * under churn d, after 40 s of churn: the interpreter's share of its samples fell from 3.1 %
     * to 2.4 % with this).
     */
    private final class Turns {
        private final Arena local;
        private Poller poller;
        private final Poller wakeOnly;
        private long lastMaintain = System.nanoTime();
        private long backoff = MIN_BACKOFF_MILLIS;
        /**
         * After a batch and its delay the next read is tried at once, without a poll first: under
         * churn there is nearly always a batch waiting, so a batch costs one read and one wait, as
         * in the C reference. Only a read that finds nothing leads back to the poll.
         */
        private boolean readNext;

        Turns(Arena local) {
            this.local = local;
            this.poller = new Poller(local, fanotify, wake.fd());
            this.wakeOnly = new Poller(local, wake.fd());
        }

        /** One turn; false when the reader is to stop. */
        boolean next() {
            try {
                int ready = readNext ? FANOTIFY_READY : poller.await(MAINTAIN_EVERY_MILLIS);
                readNext = false;
                if ((ready & WAKE_READY) != 0) {
                    wake.drain();
                }
                hooks.turn();
                if (!running) {
                    return false;
                }
                if ((ready & FANOTIFY_READY) != 0 && readBatch() > 0) {
                    index.flush();
                    // Batch: let events accumulate briefly (like usleep); the wake fd still ends the
                    // wait at once, and stays readable for the poll above to see.
                    readNext = wakeOnly.await(BATCH_DELAY_MILLIS) == 0;
                    if (!running) {
                        return false;
                    }
                }
                if (System.nanoTime() - lastMaintain > MAINTAIN_EVERY_MILLIS * 1_000_000L) {
                    index.maintain();
                    lastMaintain = System.nanoTime();
                }
                backoff = MIN_BACKOFF_MILLIS;
                return true;
            } catch (IOException | RuntimeException e) {
                if (!running) {
                    return false;
                }
                if (fdLost(e)) {
                    Fd fresh = replaceLostFd(e);
                    if (fresh == null) {
                        return false; // handed over to the fallback
                    }
                    fanotify = fresh;
                    poller = new Poller(local, fanotify, wake.fd());
                }
                backoff = recover(e, poller, backoff);
                return true;
            }
        }
    }

    private boolean fdLost(Exception e) {
        return !fanotify.isOpen() || e instanceof SyscallException se && se.errno() == Errno.EBADF;
    }

    /** A new group for a lost fd, or null when refused: then the keeper's fallback takes over the index. */
    private Fd replaceLostFd(Exception cause) {
        fanotify.closeQuietly();
        try {
            Fd fresh = hooks.reopen(this::openGroup);
            LOG.warning("the fanotify fd was lost (" + cause + "): placed a new mark");
            return fresh;
        } catch (SyscallException refused) {
            String reason = "fanotify fd lost (" + cause.getMessage() + ") and a new mark was refused: "
                    + refused.getMessage();
            LOG.warning(reason + "; falling back to sweeps");
            running = false;
            gaveUp = true;
            keeper.giveUp(this, reason);
            return null;
        }
    }

    /**
     * The reader failed: say so in /healthz, wait (backing off), then re-sync on the same fd,
     * since events may have been lost with the failed batch.
     */
    private long recover(Exception e, Poller poller, long backoff) {
        keeper.readerFailed("fanotify reader failed: " + e.getMessage() + "; retrying");
        LOG.log(Level.WARNING, "fanotify reader failed, re-syncing in " + backoff + " ms: " + e, e);
        try {
            poller.await((int) backoff); // still ends at once on shutdown
            if (!running) {
                return backoff;
            }
            resync();
            index.flush();
            keeper.readerRecovered();
            LOG.info("fanotify reader recovered");
            return MIN_BACKOFF_MILLIS;
        } catch (IOException | RuntimeException again) {
            LOG.warning("re-sync after reader failure failed: " + again);
            return Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
        }
    }

    /**
     * Reads one batch and puts it through the three stages; returns the number of bytes consumed.
     * A read that filled more than half the buffer is followed by another at once: the reader is
     * behind (a backlog after a stall or at start), and catching up matters more than batching.
     * Otherwise the queue was about empty, and a read to prove it (EAGAIN) would be one system
     * call more per batch for nothing.
     */
    private long readBatch() throws IOException {
        long total = 0;
        while (true) {
            long n = Libc.read(fanotify, buf);
            if (n <= 0) {
                return total;
            }
            total += n;
            index.beginBatch();
            batch.parse(buf, n);          // 1. every event of the read, parsed once
            listings.resolve(batch);      // 2. CREATEs' child ids from one listing per parent, where that pays
            applier.apply(batch);         // 3. in order; ids no listing gave are looked up here
            if (applier.takeResyncNeeded()) {
                health.count(IndexHealth.Counter.OVERFLOWS);
                LOG.warning("fanotify queue overflowed: events were lost, re-syncing");
                resync();
            }
            if (n <= buf.byteSize() / 2) {
                return total;
            }
        }
    }

    /** The keeper's re-sync (the index is swept again), logged. */
    private void resync() throws IOException {
        LOG.info("re-sync: " + keeper.resync().describe());
    }

    /** Stops the reader thread and closes the fd; idempotent. */
    @Override
    public void close() {
        running = false;
        try {
            wake.signal();
        } catch (SyscallException | IllegalStateException ignored) {
            // closing anyway (or already released after a give-up)
        }
        if (thread != null && thread != Thread.currentThread()) {
            try {
                if (!stopped.await(2, TimeUnit.SECONDS)) {
                    LOG.warning("fanotify reader did not stop within 2 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        release();
    }

    /** Closes the fds; the reader's directories and native memory too once it has stopped. */
    private synchronized void release() {
        if (released) {
            return;
        }
        if (fanotify != null) {
            fanotify.closeQuietly();
        }
        wake.close();
        // The reader's directories and native memory: it owns them while it runs, so a reader that
        // did not stop keeps them (asked once: both go, or neither).
        if (thread == null || stopped.getCount() == 0) {
            dirs.close();
            arena.close();
            if (ownTree != null) {
                ownTree.close();
            }
        }
        released = true;
    }
}
