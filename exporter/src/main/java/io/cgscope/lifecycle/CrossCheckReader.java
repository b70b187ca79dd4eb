package io.cgscope.lifecycle;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.LifecycleEvent;
import io.cgscope.bpf.LifecycleProgram;
import io.cgscope.bpf.LifecycleRecords;
import io.cgscope.linux.EventFd;
import io.cgscope.linux.Poller;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The BPF side of {@code --cgroup.index-mode=crosscheck}: the lifecycle programs attached, their
 * ring drained by a thread of its own in 1 ms batches like the index's reader, and every id of the
 * unified hierarchy reported to the {@link CrossCheck}, which also settles on this thread. It
 * writes no index: fanotify keeps that. Records the ring had no room for are counted
 * ({@link #lost()}); their ids then show up as seen by fanotify only.
 */
public final class CrossCheckReader implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CrossCheckReader.class.getName());
    private static final int SETTLE_EVERY_MILLIS = 1000;

    private final CrossCheck tally;
    private final LifecycleProgram program;
    private final EventFd wake;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private final Thread thread;

    private final LifecycleRecords.Sink sink = new LifecycleRecords.Sink() {
        @Override
        public void event(LifecycleEvent e) {
            if (e.hierarchy() == LifecycleEvent.UNIFIED) {
                tally.seen(CrossCheck.Side.BPF, e.id());
            }
        }

        @Override
        public void malformed(String why) {
            LOG.warning("malformed lifecycle record: " + why);
        }
    };

    /** Attaches the programs and starts reading: from when this returns, every mkdir and rmdir reaches the tally. */
    public CrossCheckReader(CrossCheck tally, int ringBytes) throws BpfException, SyscallException {
        this.tally = tally;
        this.program = LifecycleProgram.start(ringBytes);
        try {
            this.wake = new EventFd();
        } catch (SyscallException e) {
            program.close();
            throw e;
        }
        thread = Thread.ofPlatform().name("cgscope-bpf-crosscheck").daemon(true).start(this::run);
    }

    /** Records lost because the ring was full. */
    public long lost() {
        return program.lost();
    }

    private void run() {
        try (Arena local = Arena.ofConfined()) {
            Poller poller = new Poller(local, program.ringFd(), wake.fd());
            Poller pause = new Poller(local, wake.fd());
            long lastSettle = System.nanoTime();
            boolean readNext = false;
            while (running) {
                int ready = readNext ? 1 : poller.await(SETTLE_EVERY_MILLIS);
                readNext = false;
                if (!running) {
                    break;
                }
                if ((ready & 1) != 0 && program.drain(sink) > 0) {
                    readNext = pause.await(1) == 0;
                }
                if (System.nanoTime() - lastSettle > SETTLE_EVERY_MILLIS * 1_000_000L) {
                    tally.settle(false);
                    lastSettle = System.nanoTime();
                }
            }
        } catch (SyscallException | RuntimeException e) {
            LOG.warning("the BPF cross-check reader failed and stopped: " + e);
        } finally {
            stopped.countDown();
        }
    }

    /** Stops the reader and unloads the programs; idempotent. */
    @Override
    public void close() {
        running = false;
        try {
            wake.signal();
        } catch (SyscallException ignored) {
            // closing anyway
        }
        try {
            if (!stopped.await(2, TimeUnit.SECONDS)) {
                LOG.warning("the BPF cross-check reader did not stop within 2 s");
                return; // it still owns the ring's memory
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        program.close();
        wake.close();
    }
}
