package io.cgscope.lifecycle;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.LifecycleEvent;
import io.cgscope.bpf.LifecycleProgram;
import io.cgscope.bpf.LifecycleRecords;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.IndexKeeper;
import io.cgscope.linux.EventFd;
import io.cgscope.linux.Poller;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The lifecycle programs shared by every hierarchy the BPF source keeps: one load, one ring, one
 * reader thread that hands each record to its hierarchy's index (the tracepoints fire for every
 * hierarchy; a record names its hierarchy). Each hierarchy joins through its own
 * {@link LifecycleWatcher} (an {@code IndexSource} started by that hierarchy's keeper).
 *
 * <p>Start without a race, per hierarchy, while others are already followed: from {@link #join}
 * (the programs attached) until {@link #follow} the hierarchy's records are held back in memory by
 * whoever drains the ring, since its keeper's thread is sweeping its index meanwhile; at
 * {@code follow} its keeper's thread applies them (records the sweep saw already change nothing)
 * and from then on the reader thread writes its index. The first hierarchy to join finds no reader
 * thread: its keeper's thread drains the ring itself in {@link #catchUp}, and its {@code follow}
 * starts the thread.
 *
 * <p>A record the ring had no room for (counted by the programs) means every joined hierarchy
 * may have missed one: each followed one is re-synced by its keeper at once; one still starting
 * re-syncs when it follows.
 */
public final class LifecycleHub implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LifecycleHub.class.getName());
    private static final int BATCH_DELAY_MILLIS = 1;
    private static final int MAINTAIN_EVERY_MILLIS = 1000;
    private static final long MAX_BACKOFF_MILLIS = 5000;
    /** A drain of more records than this found a backlog: the next drain follows at once. */
    private static final int BACKLOG_RECORDS = 4096;

    /** One joined hierarchy. */
    static final class Member {
        final int hierarchy;
        final IndexKeeper keeper;
        final CgroupIndex index;
        final RecordApplier applier;
        /** Written by the drainer only while true; until then its records are held back in {@link #held}. */
        volatile boolean followed;
        /** The drainer applies to this member's index directly (its keeper's thread drains: the first joiner). */
        volatile boolean drainerWrites;
        final List<LifecycleEvent> held = new ArrayList<>();
        boolean resyncWhenFollowed;

        Member(int hierarchy, IndexKeeper keeper) {
            this.hierarchy = hierarchy;
            this.keeper = keeper;
            this.index = keeper.index();
            this.applier = new RecordApplier(index, hierarchy);
        }
    }

    private final int ringBytes;
    private final Map<Integer, Member> members = new ConcurrentHashMap<>();
    private LifecycleProgram program;
    private EventFd wake;
    private Thread thread;
    private volatile boolean running;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private long lostSeen;
    private volatile CountDownLatch hold;
    private volatile CountDownLatch held;
    private final LifecycleRecords.Sink dispatch = new LifecycleRecords.Sink() {
        @Override
        public void event(LifecycleEvent e) {
            Member m = members.get(e.hierarchy());
            if (m == null) {
                return; // a hierarchy nobody indexes (not mounted, or kept by another source)
            }
            if (m.followed || m.drainerWrites) {
                m.applier.event(e);
                return;
            }
            synchronized (m) {
                if (m.followed) {
                    m.applier.event(e);
                } else {
                    m.held.add(e.copy());
                }
            }
        }

        @Override
        public void malformed(String why) {
            for (Member m : members.values()) {
                m.index.health().count(IndexHealth.Counter.MALFORMED_EVENTS);
            }
            LOG.warning("malformed lifecycle record: " + why);
        }
    };

    public LifecycleHub(int ringBytes) {
        this.ringBytes = ringBytes;
    }

    /** The ring's size in bytes. */
    public int ringBytes() {
        return ringBytes;
    }

    /** Records lost so far (the ring was full). */
    public synchronized long lost() {
        return program == null ? 0 : program.lost();
    }

    /**
     * A hierarchy joins (its source's {@code attach}): the programs are loaded and attached at
     * the first join; from when this returns, the hierarchy's records are kept for it.
     */
    synchronized Member join(int hierarchy, IndexKeeper keeper) throws IOException {
        if (members.containsKey(hierarchy)) {
            throw new IllegalStateException("hierarchy " + hierarchy + " joined twice");
        }
        if (program == null) {
            try {
                program = LifecycleProgram.start(ringBytes);
                wake = new EventFd();
            } catch (BpfException e) {
                closeProgram();
                throw new IOException(e.getMessage(), e);
            }
            lostSeen = program.lost();
        }
        Member m = new Member(hierarchy, keeper);
        members.put(hierarchy, m);
        return m;
    }

    /**
     * Its keeper swept: apply what was kept for it since {@link #join} (its keeper's thread). With
     * no reader thread yet, this thread drains the ring itself.
     */
    void catchUp(Member m) throws IOException {
        if (!running) {
            m.drainerWrites = true;
            drainAll();
        }
        applyHeld(m);
    }

    /**
     * From now on the reader thread writes this hierarchy's index (started here for the first).
     * What is still held back is applied first, and a re-sync made when records were lost while
     * it started, all before the reader may write (it waits for this member meanwhile).
     */
    void follow(Member m) throws IOException {
        synchronized (m) {
            applyHeldLocked(m);
            if (m.resyncWhenFollowed) {
                m.resyncWhenFollowed = false;
                LOG.info("re-sync of hierarchy " + m.hierarchy + " (records were lost while it started): "
                        + m.keeper.resync().describe());
            }
            m.index.flush();
            m.drainerWrites = false;
            m.followed = true;
        }
        synchronized (this) {
            if (!running) {
                running = true;
                thread = Thread.ofPlatform().name("cgscope-bpf-index").daemon(true).unstarted(this::run);
                thread.start();
            }
        }
    }

    private void applyHeld(Member m) {
        synchronized (m) {
            applyHeldLocked(m);
        }
    }

    private void applyHeldLocked(Member m) {
        if (m.held.isEmpty()) {
            return;
        }
        m.index.beginBatch();
        for (LifecycleEvent e : m.held) {
            m.applier.event(e);
        }
        m.held.clear();
    }

    /** A hierarchy leaves (its source closed); the last one out detaches the programs. */
    void leave(Member m) {
        boolean last;
        synchronized (this) {
            if (members.get(m.hierarchy) != m) {
                return;
            }
            members.remove(m.hierarchy);
            last = members.isEmpty();
        }
        if (last) {
            close();
        }
    }

    /** Test hook: the reader stops draining until {@code release} counts down; returns once it is held. */
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
                        forFollowed(m -> m.index.flush());
                        // Batch: let records accumulate briefly; the wake fd still ends the wait at once.
                        readNext = wakeOnly.await(BATCH_DELAY_MILLIS) == 0;
                    }
                    if (System.nanoTime() - lastMaintain > MAINTAIN_EVERY_MILLIS * 1_000_000L) {
                        forFollowed(m -> m.index.maintain());
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

    private interface MemberAction {
        void apply(Member m) throws IOException;
    }

    /** Each member whose index the drainer writes now. */
    private void forFollowed(MemberAction action) throws IOException {
        for (Member m : members.values()) {
            if (m.followed || m.drainerWrites) {
                action.apply(m);
            }
        }
    }

    /**
     * Drains the ring until it is about empty; after any loss, the drainer's indexes are
     * re-synced (once what was queued before the loss has been applied, so that the sweep has
     * the last word), and the others when they follow.
     */
    private int drainAll() throws IOException {
        int total = 0;
        while (true) {
            forFollowed(m -> m.index.beginBatch());
            int n = program.drain(dispatch);
            total += n;
            long lost = program.lost();
            if (lost != lostSeen) {
                long lostNow = lost - lostSeen;
                lostSeen = lost;
                LOG.warning("the BPF lifecycle ring was full: " + lostNow + " records lost, re-syncing");
                for (Member m : members.values()) {
                    m.index.health().count(IndexHealth.Counter.OVERFLOWS);
                    m.index.health().add(IndexHealth.Counter.LOST_RECORDS, lostNow);
                    synchronized (m) {
                        if (!(m.followed || m.drainerWrites)) {
                            m.resyncWhenFollowed = true;
                            continue;
                        }
                    }
                    LOG.info("re-sync of hierarchy " + m.hierarchy + ": " + m.keeper.resync().describe());
                }
            }
            if (n <= BACKLOG_RECORDS) {
                return total;
            }
        }
    }

    /** The reader failed: say so in /healthz, wait (backing off), then re-sync every followed hierarchy. */
    private long recover(Exception e, Poller poller, long backoff) {
        String reason = "BPF lifecycle reader failed: " + e.getMessage() + "; retrying";
        try {
            forFollowed(m -> m.keeper.readerFailed(reason));
        } catch (IOException impossible) {
            // readerFailed does no I/O
        }
        LOG.log(Level.WARNING, "BPF lifecycle reader failed, re-syncing in " + backoff + " ms: " + e, e);
        try {
            poller.await((int) backoff); // still ends at once on shutdown
            if (!running) {
                return backoff;
            }
            forFollowed(m -> {
                LOG.info("re-sync of hierarchy " + m.hierarchy + ": " + m.keeper.resync().describe());
                m.index.flush();
                m.keeper.readerRecovered();
            });
            LOG.info("BPF lifecycle reader recovered");
            return 100;
        } catch (IOException | RuntimeException again) {
            LOG.warning("re-sync after reader failure failed: " + again);
            return Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
        }
    }

    /** Stops the reader, detaches and unloads the programs; idempotent. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
            if (wake != null) {
                try {
                    wake.signal();
                } catch (SyscallException | IllegalStateException ignored) {
                    // closing anyway
                }
            }
        }
        if (t != null && t != Thread.currentThread()) {
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
        closeProgram();
    }

    private synchronized void closeProgram() {
        if (program != null) {
            program.close();
            program = null;
        }
        if (wake != null) {
            wake.close();
            wake = null;
        }
    }
}
