package io.cgscope.programs;

import io.cgscope.bpf.RawTable;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@code perf_event_array: true} counter's counts: each record a BPF program writes with
 * {@code bpf_perf_event_output} counts one for the key made of its first bytes (the labels' sizes
 * and paddings; the kernel may pad a record, so the rest is ignored), as ebpf_exporter counts
 * them. Filled by the perf buffer's poller thread, read and pruned by the scraping thread.
 */
final class PerfCounts implements UserMetric.Rows {
    /** A record's key bytes as a hash key. */
    private record Key(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    private final int keySize;
    private final Map<Key, LongAdder> counts = new ConcurrentHashMap<>();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong shortRecords = new AtomicLong();

    PerfCounts(int keySize) {
        this.keySize = keySize;
    }

    /** One record (the poller thread). */
    void record(byte[] data) {
        if (data.length < keySize) {
            shortRecords.incrementAndGet();
            return;
        }
        byte[] key = data.length == keySize ? data : Arrays.copyOf(data, keySize);
        counts.computeIfAbsent(new Key(key), k -> new LongAdder()).increment();
    }

    /** Records the kernel dropped (a full ring; the poller thread). */
    void lost(long n) {
        lost.addAndGet(n);
    }

    long lost() {
        return lost.get();
    }

    /** Records shorter than the labels' bytes, since the last call (each is a decoder error). */
    long takeShortRecords() {
        return shortRecords.getAndSet(0);
    }

    @Override
    public void read(RawTable into) {
        into.reset(keySize, 1);
        for (Map.Entry<Key, LongAdder> e : counts.entrySet()) {
            int row = into.append(e.getKey().bytes(), 0);
            into.add(row, 0, e.getValue().sum());
        }
    }

    @Override
    public void delete(byte[] key) {
        counts.remove(new Key(key));
    }

    /** Forgets every count ({@code flush_interval}). */
    void clear() {
        counts.clear();
    }
}
