package io.cgscope.programs;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * The {@link KeyState}s of one metric by their key bytes: open addressing over one array of
 * states (each holds its key and hash), so an entry costs a slot, not a map node and a key
 * object; looked up by a slice of the read buffer without copying it. Removal rebuilds the
 * table (the collector prunes once per scrape). One thread.
 */
final class KeyTable {
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private KeyState[] slots = new KeyState[64];
    private int size;

    int size() {
        return size;
    }

    /** The hash of {@code len} bytes of {@code b} from {@code off}. */
    static int hash(byte[] b, int off, int len) {
        // Eight bytes at a time, each word mixed (murmur3's finalizer): keys are mostly u64 fields
        // (cgroup ids that differ in their low bits), which a byte-wise polynomial spreads poorly.
        long h = len;
        int i = off;
        for (; i + 8 <= off + len; i += 8) {
            h = h * 0x9E3779B97F4A7C15L + mix((long) WORDS.get(b, i));
        }
        for (; i < off + len; i++) {
            h = h * 31 + b[i];
        }
        return (int) mix(h);
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        return x ^ (x >>> 33);
    }

    /** The state of these key bytes, or null. */
    KeyState get(byte[] b, int off, int len, int hash) {
        int mask = slots.length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask) {
            KeyState s = slots[i];
            if (s == null) {
                return null;
            }
            if (s.hash == hash && s.key.length == len && Arrays.equals(s.key, 0, len, b, off, off + len)) {
                return s;
            }
        }
    }

    /** Adds a state whose key is not in the table. */
    void put(KeyState s) {
        if ((size + 1) * 2 > slots.length) {
            rebuild(slots.length * 2, x -> true);
        }
        insert(slots, s);
        size++;
    }

    /** Removes every state {@code drop} accepts. */
    void removeIf(Predicate<KeyState> drop) {
        int keep = 0;
        for (KeyState s : slots) {
            if (s != null && !drop.test(s)) {
                keep++;
            }
        }
        if (keep == size) {
            return;
        }
        int capacity = 64;
        while (capacity < keep * 2) {
            capacity *= 2;
        }
        rebuild(capacity, s -> !drop.test(s));
    }

    void clear() {
        slots = new KeyState[64];
        size = 0;
    }

    private void rebuild(int capacity, Predicate<KeyState> keep) {
        KeyState[] next = new KeyState[capacity];
        int n = 0;
        for (KeyState s : slots) {
            if (s != null && keep.test(s)) {
                insert(next, s);
                n++;
            }
        }
        slots = next;
        size = n;
    }

    private static void insert(KeyState[] into, KeyState s) {
        int mask = into.length - 1;
        int i = s.hash & mask;
        while (into[i] != null) {
            i = (i + 1) & mask;
        }
        into[i] = s;
    }
}
