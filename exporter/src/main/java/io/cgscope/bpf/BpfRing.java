package io.cgscope.bpf;

import io.cgscope.linux.MappedRegion;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The consumer side of a {@code BPF_MAP_TYPE_RINGBUF}, read in Java from the map's own memory:
 * no system call and no upcall per record (libbpf's {@code ring_buffer__consume} calls a C
 * callback per record, which from Java is an FFM upcall each; {@code exporter/KERNEL.md} has
 * the measured difference). One owner thread.
 *
 * <p>Layout ({@code kernel/bpf/ringbuf.c}, the same since 5.8): the map's fd maps, at offset 0, one
 * page holding the consumer position (the only page userspace writes), and at one page, the
 * producer position's page followed by the data area, which is mapped twice in a row so that a
 * record that wraps around the end reads as one piece. Positions only grow; a position's byte in
 * the data is {@code pos & (size - 1)}. Each record starts with an 8-byte header: {@code u32 len}
 * whose bit 31 ({@code BPF_RINGBUF_BUSY_BIT}) says the producer has not committed it yet and bit
 * 30 ({@code BPF_RINGBUF_DISCARD_BIT}) that it was discarded, and a {@code u32} page offset used
 * by the kernel; the record's bytes follow, and the next record starts at the next multiple of 8.
 * The producer position is read with acquire semantics, then each header, and the consumer
 * position is published with release semantics once the records before it were handled: the
 * producers then reuse that space.
 */
public final class BpfRing implements AutoCloseable {
    static final int HEADER_SIZE = 8;                  // BPF_RINGBUF_HDR_SZ, <linux/bpf.h>
    static final int BUSY_BIT = 1 << 31;               // BPF_RINGBUF_BUSY_BIT
    static final int DISCARD_BIT = 1 << 30;            // BPF_RINGBUF_DISCARD_BIT
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    /** Receives each committed record; the bytes are valid only during the call. */
    interface RecordSink {
        void record(MemorySegment data, long offset, int length);
    }

    private final Runnable unmap;
    private final MemorySegment consumer;
    private final MemorySegment producer;
    private final MemorySegment data;
    private final long mask;

    /**
     * A ring over given memory: the consumer position's page, the producer position's page, and
     * the data area of twice {@code size} bytes (the same pages twice in the kernel's mapping).
     */
    BpfRing(MemorySegment consumer, MemorySegment producer, MemorySegment data, long size, Runnable unmap) {
        this.consumer = consumer;
        this.producer = producer;
        this.data = data;
        this.mask = size - 1;
        this.unmap = unmap;
    }

    /** Maps the ring of a created map: {@code size} is its {@code max_entries}, a power of 2 of pages. */
    static BpfRing map(BpfMap ring) throws BpfException {
        long size = Integer.toUnsignedLong(ring.maxEntries());
        int page = MappedRegion.pageSize();
        if (Long.bitCount(size) != 1 || size < page) {
            throw new BpfException("ring buffer " + ring.name() + " has " + size + " bytes: not a power of 2 of pages");
        }
        MappedRegion consumerPage = null;
        try {
            consumerPage = MappedRegion.map(ring.fd(), 0, page, true, "ring buffer " + ring.name() + " consumer page");
            MappedRegion rest = MappedRegion.map(ring.fd(), page, page + 2 * size, false,
                    "ring buffer " + ring.name() + " data");
            MappedRegion first = consumerPage;
            return new BpfRing(consumerPage.segment(), rest.segment(), rest.segment().asSlice(page), size, () -> {
                rest.close();
                first.close();
            });
        } catch (SyscallException e) {
            if (consumerPage != null) {
                consumerPage.close();
            }
            throw new BpfException(e.getMessage(), e);
        }
    }

    /**
     * Hands the records committed so far to {@code sink}, in order, up to the first one still
     * being written (records committed while this runs wait for the next call: a call's work is
     * bounded by the ring's size); then publishes the new consumer position. Returns how many
     * records were handed over.
     */
    int drain(RecordSink sink) {
        long start = (long) LONG.getOpaque(consumer, 0L); // written by this thread alone (or a tool reading the same map)
        long pos = start;
        long end = (long) LONG.getAcquire(producer, 0L);
        int count = 0;
        while (pos < end) {
            long at = pos & mask;
            int len = (int) INT.getAcquire(data, at);
            if ((len & BUSY_BIT) != 0) {
                break;
            }
            int length = len & ~(BUSY_BIT | DISCARD_BIT);
            if ((len & DISCARD_BIT) == 0) {
                sink.record(data, at + HEADER_SIZE, length);
                count++;
            }
            pos += (length + HEADER_SIZE + 7) & ~7L;
        }
        if (pos != start) {
            LONG.setRelease(consumer, 0L, pos); // the space is the producers' again
        }
        return count;
    }

    /** Bytes committed or being written that were not consumed yet (for tests and diagnostics). */
    long pending() {
        return (long) LONG.getAcquire(producer, 0L) - (long) LONG.getOpaque(consumer, 0L);
    }

    @Override
    public void close() {
        unmap.run();
    }
}
