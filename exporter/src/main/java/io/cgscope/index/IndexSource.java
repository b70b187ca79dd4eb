package io.cgscope.index;

import java.io.IOException;

/**
 * One way of keeping a {@link CgroupIndex} equal to the kernel's tree: fanotify events
 * ({@code fanotify.CgroupWatcher}), periodic sweeps ({@code cgroupfs.SweepLoop}), BPF lifecycle
 * events next. An {@link IndexKeeper} starts a source without a race, in this order, written once
 * ({@link IndexKeeper#start}):
 * <ol>
 * <li>{@link #attach()}: start observing the kernel (place the fanotify mark, attach the BPF
 *     programs). From when it returns no change is lost: it waits in the kernel's queue or ring
 *     buffer. A source that observes nothing (sweeps) does nothing here.</li>
 * <li>The keeper sweeps the tree and makes the index equal to it.</li>
 * <li>{@link #catchUp()}: apply what was queued since {@code attach}, to the end, on the keeper's
 *     thread. Changes the sweep already saw are applied again harmlessly (a known id is left as it
 *     is, a dead one stays dead).</li>
 * <li>{@link #follow()}: start the source's own thread, the index's one writer from then on.</li>
 * </ol>
 * The source gets its keeper when it is made, and reports to it while it follows: lost events
 * (a queue overflow, a full ring buffer) are counted in {@link IndexHealth} and repaired with
 * {@link IndexKeeper#resync()}; a reader failure is told with {@link IndexKeeper#readerFailed} and
 * {@link IndexKeeper#readerRecovered}; a source that cannot go on (its fd lost, a new one refused)
 * calls {@link IndexKeeper#giveUp} on its own thread and ends, and the keeper's fallback takes over.
 */
public interface IndexSource {
    /** Which mode the index is in while this source keeps it. */
    IndexHealth.Mode mode();

    /**
     * Starts observing the kernel: after this returns, every change reaches {@link #catchUp()}
     * or the reader thread.
     *
     * @throws IOException the kernel refused (the caller may try the next source)
     */
    void attach() throws IOException;

    /** Applies what was queued since {@link #attach()}, to the end (the keeper's thread, the writer). */
    void catchUp() throws IOException;

    /** Starts the source's own thread, which writes the index until {@link #close()} or a give-up. */
    void follow();

    /** Stops the thread and releases the kernel side; idempotent, safe after a failed attach. */
    void close();
}
