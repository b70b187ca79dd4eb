package io.cgscope.bpf;

import java.util.Arrays;

/**
 * The contents of one per-cgroup map as read at a scrape: cgroup ids and their values, each
 * value {@code width} u64 words already summed over the CPUs. Reused from read to read (its
 * arrays grow, never shrink), so it is valid until the next read into it. Pure Java, no native memory.
 */
public final class MapTable {
    private final int width;
    private long[] keys;
    private long[] values;
    private int size;

    public MapTable(int width) {
        this(width, 64);
    }

    public MapTable(int width, int capacity) {
        this.width = width;
        this.keys = new long[Math.max(1, capacity)];
        this.values = new long[Math.max(1, capacity) * width];
    }

    /** u64 words per value: 1 for a counter, {@link BpfMaps#RUNQ_WORDS} for the histogram. */
    public int width() {
        return width;
    }

    public int size() {
        return size;
    }

    public long key(int i) {
        return keys[i];
    }

    /** Word {@code w} of entry {@code i}. */
    public long value(int i, int w) {
        return values[i * width + w];
    }

    public void clear() {
        size = 0;
    }

    /** Appends an entry with all words zero and returns its index (to fill with {@link #add}). */
    public int append(long key) {
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            values = Arrays.copyOf(values, size * 2 * width);
        }
        keys[size] = key;
        Arrays.fill(values, size * width, (size + 1) * width, 0L);
        return size++;
    }

    /**
     * Appends an entry whose words are the sums over {@code cpus} per-CPU copies laid out in
     * {@code src} from {@code offset}, {@code strideWords} apart (a per-CPU map value as the kernel
     * returns it).
     */
    public void appendSummed(long key, long[] src, int offset, int cpus, int strideWords) {
        int row = append(key);
        int base = row * width;
        for (int c = 0; c < cpus; c++) {
            int from = offset + c * strideWords;
            for (int w = 0; w < width; w++) {
                values[base + w] += src[from + w];
            }
        }
    }

    /** Adds to word {@code w} of entry {@code i}. */
    public void add(int i, int w, long v) {
        values[i * width + w] += v;
    }

    /** For tests and hand-built data: appends a key with its words. */
    public MapTable put(long key, long... words) {
        if (words.length != width) {
            throw new IllegalArgumentException("expected " + width + " words, got " + words.length);
        }
        int i = append(key);
        System.arraycopy(words, 0, values, i * width, width);
        return this;
    }
}
