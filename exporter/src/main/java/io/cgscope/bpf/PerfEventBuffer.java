package io.cgscope.bpf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.logging.Logger;

/**
 * The records a user program writes into a {@code BPF_MAP_TYPE_PERF_EVENT_ARRAY} with
 * {@code bpf_perf_event_output}: libbpf's perf buffer (a ring of {@link #PAGES} pages per CPU),
 * polled by a thread of its own, each record handed on as a byte array, each loss (a full ring)
 * as a count. The thread holds the buffer: it frees it when {@link #close()} ends it, never while
 * it polls. The rings stay readable after {@code --run-as} drops privileges (mapped and open already).
 */
public final class PerfEventBuffer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PerfEventBuffer.class.getName());
    /** Pages per CPU (a power of 2): 256 KiB per CPU with 4 KiB pages. */
    static final long PAGES = 64;
    private static final int POLL_MS = 200;

    private final String name;
    private final Thread poller;
    private volatile boolean closed;

    private PerfEventBuffer(String name, MemorySegment pb, long sinkId) {
        this.name = name;
        this.poller = Thread.ofPlatform().name("cgscope-perf-" + name).daemon().unstarted(() -> poll(pb, sinkId));
    }

    /**
     * Opens the buffer of a {@code perf_event_array} map and starts polling it.
     *
     * @param onRecord gets each record's bytes, on the poller thread
     * @param onLost   gets the number of records the kernel dropped (a ring was full)
     */
    static PerfEventBuffer open(UserMap map, Consumer<byte[]> onRecord, LongConsumer onLost) throws BpfException {
        if (map.type() != UserMap.PERF_EVENT_ARRAY) {
            throw new BpfException("map " + map.name() + " is a " + UserMap.typeName(map.type())
                    + " map, not a perf_event_array");
        }
        LibBpf.PerfSink sink = new LibBpf.PerfSink() {
            @Override
            public void sample(int cpu, MemorySegment data) {
                onRecord.accept(data.toArray(ValueLayout.JAVA_BYTE));
            }

            @Override
            public void lost(int cpu, long count) {
                onLost.accept(count);
            }
        };
        long[] sinkId = new long[1];
        MemorySegment pb = LibBpf.perfBufferNew(map.fd(), map.name(), PAGES, sink, sinkId);
        PerfEventBuffer b = new PerfEventBuffer(map.name(), pb, sinkId[0]);
        b.poller.start();
        return b;
    }

    private void poll(MemorySegment pb, long sinkId) {
        try {
            while (!closed) {
                int rc = LibBpf.perfBufferPoll(pb, POLL_MS);
                if (rc < 0 && rc != -io.cgscope.linux.Errno.EINTR) {
                    LOG.warning("perf buffer of map " + name + ": " + LibBpf.strerror(rc) + "; no more records");
                    return;
                }
            }
        } finally {
            LibBpf.perfBufferFree(pb, sinkId);
        }
    }

    /** Stops polling and frees the buffer; returns once the poller is done. */
    @Override
    public void close() {
        closed = true;
        try {
            poller.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
