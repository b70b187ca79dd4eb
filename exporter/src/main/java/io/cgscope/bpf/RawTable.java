package io.cgscope.bpf;

import java.util.Arrays;

/**
 * The contents of one user map as read at a scrape: each row a key (its bytes, as the kernel
 * holds them) and its u64 value, or one value per CPU for a per-CPU map read with the CPUs apart.
 * Reused from read to read (its arrays grow, never shrink). Pure Java, no native memory.
 */
public final class RawTable {
    private int keySize;
    private int values = 1;
    private byte[] keys = new byte[0];
    private long[] words = new long[0];
    private int size;

    /** Empties the table for rows of this key size and values per row. */
    public void reset(int keySize, int valuesPerRow) {
        this.keySize = keySize;
        this.values = valuesPerRow;
        this.size = 0;
    }

    public int size() {
        return size;
    }

    public int keySize() {
        return keySize;
    }

    /** Values per row: 1, or the number of possible CPUs for a per-CPU map read apart. */
    public int valuesPerRow() {
        return values;
    }

    /** The key bytes of every row, row {@code i} from {@code i * keySize()}. */
    public byte[] keys() {
        return keys;
    }

    /** Value {@code v} of row {@code i}. */
    public long value(int i, int v) {
        return words[i * values + v];
    }

    /** A copy of row {@code i}'s key. */
    public byte[] key(int i) {
        return Arrays.copyOfRange(keys, i * keySize, (i + 1) * keySize);
    }

    /** Appends a row and returns its index; its values start at zero. */
    public int append(byte[] src, int offset) {
        ensure(size + 1);
        System.arraycopy(src, offset, keys, size * keySize, keySize);
        Arrays.fill(words, size * values, (size + 1) * values, 0L);
        return size++;
    }

    /** Adds to value {@code v} of row {@code i}. */
    public void add(int i, int v, long x) {
        words[i * values + v] += x;
    }

    /** For tests and hand-built data: a row with its values. */
    public RawTable put(byte[] key, long... perRow) {
        if (key.length != keySize || perRow.length != values) {
            throw new IllegalArgumentException("expected a " + keySize + "-byte key and " + values + " values");
        }
        int i = append(key, 0);
        System.arraycopy(perRow, 0, words, i * values, values);
        return this;
    }

    private void ensure(int rows) {
        if ((long) rows * keySize > keys.length) {
            keys = Arrays.copyOf(keys, Math.max(rows * keySize, keys.length * 2));
        }
        if ((long) rows * values > words.length) {
            words = Arrays.copyOf(words, Math.max(rows * values, words.length * 2));
        }
    }
}
