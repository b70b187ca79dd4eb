package io.cgscope.accounting;

import java.util.List;

/**
 * Parses a flat-keyed cgroupfs file: one {@code key value} pair per line, the value an unsigned
 * decimal number. cgroup2's {@code cpu.stat}, {@code memory.events}, {@code memory.stat}; cgroup
 * v1's {@code cpu.stat}, {@code memory.stat}, {@code memory.oom_control}. Pure: bytes in, numbers out.
 *
 * <p>Layout (Documentation/admin-guide/cgroup-v2.rst, "Interface Files": "KEY0 VAL0\n"):
 * <pre>
 * usage_usec 308914882
 * nr_periods 0
 * </pre>
 * The kernel documents that "new entries can show up in the middle": only the keys asked for are
 * read, by name, wherever they are; other keys, and lines that are not a key and an unsigned
 * number (a negative or fractional value, a missing value), are skipped.
 */
public final class FlatKeyedFile {
    /** The keys to read and the slot each goes to (its position in the list), at most 64. */
    public static final class Keys {
        private final byte[][] keys;

        private Keys(List<String> names) {
            if (names.size() > 64) {
                throw new IllegalArgumentException("at most 64 keys: " + names.size());
            }
            keys = new byte[names.size()][];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = Text.ascii(names.get(i));
            }
        }

        public static Keys of(String... names) {
            return new Keys(List.of(names));
        }

        public int size() {
            return keys.length;
        }

        /** The slot of {@code buf[from, to)}, or -1. */
        int slot(byte[] buf, int from, int to) {
            int len = to - from;
            for (int k = 0; k < keys.length; k++) {
                byte[] key = keys[k];
                // length and first byte first: most lines of memory.stat are keys nobody asked for
                if (key.length == len && key[0] == buf[from] && Text.is(buf, from, to, key)) {
                    return k;
                }
            }
            return -1;
        }
    }

    private FlatKeyedFile() {
    }

    /**
     * Parses {@code buf[0, length)}: the value of key {@code k} of {@code keys} goes into
     * {@code out[offset + k]}.
     *
     * @return a bit mask of the slots found (bit {@code k} for key {@code k})
     */
    public static long parse(byte[] buf, int length, Keys keys, long[] out, int offset) {
        int end = Math.min(length, buf.length);
        long found = 0;
        int line = 0;
        while (line < end) {
            int eol = Text.lineEnd(buf, line, end);
            int keyEnd = Text.wordEnd(buf, line, eol);
            if (keyEnd > line) {
                int slot = keys.slot(buf, line, keyEnd);
                if (slot >= 0) {
                    int valueStart = Text.skipBlanks(buf, keyEnd, eol);
                    long v = Text.number(buf, valueStart, Text.trimEnd(buf, valueStart, eol));
                    if (v != Text.ABSENT) {
                        out[offset + slot] = v;
                        found |= 1L << slot;
                    }
                }
            }
            line = eol + 1;
        }
        return found;
    }
}
