package io.cgscope.testing;

import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.fanotify.ReaderHooks;
import io.cgscope.linux.Fd;
import io.cgscope.linux.SyscallException;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** Faults of the fanotify reader, made through its {@link ReaderHooks}. */
public final class ReaderFaults {
    private ReaderFaults() {
    }

    /**
     * Stops the reader from reading, as a stalled reader (a long GC pause, SIGSTOP) would, until
     * the returned handle is closed; returns once the reader is held.
     */
    public static AutoCloseable hold(CgroupWatcher watcher) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean once = new AtomicBoolean();
        watcher.hooks(new ReaderHooks() {
            @Override
            public void turn() {
                if (once.compareAndSet(false, true)) {
                    held.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        });
        held.await();
        return release::countDown;
    }

    /** The reader throws {@code failure} at its next turn, once, as a reader bug would. */
    public static void failOnce(CgroupWatcher watcher, RuntimeException failure) {
        AtomicBoolean once = new AtomicBoolean();
        watcher.hooks(new ReaderHooks() {
            @Override
            public void turn() {
                if (once.compareAndSet(false, true)) {
                    throw failure;
                }
            }
        });
    }

    /** A lost fd cannot be replaced: the new mark is refused with {@code refusal}, as after the privilege drop. */
    public static void refuseNewMarks(CgroupWatcher watcher, SyscallException refusal) {
        watcher.hooks(new ReaderHooks() {
            @Override
            public Fd reopen(ReaderHooks.Opener mark) throws SyscallException {
                throw refusal;
            }
        });
    }
}
