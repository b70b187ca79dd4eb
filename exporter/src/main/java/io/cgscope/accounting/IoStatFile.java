package io.cgscope.accounting;

import java.util.Arrays;

/**
 * Parses the per-device IO counters of a cgroup: cgroup2's {@code io.stat}, and cgroup v1's
 * {@code blkio.throttle.io_service_bytes[_recursive]} and {@code blkio.throttle.io_serviced[_recursive]}.
 * Pure: bytes in, rows out ({@link Rows}, reused from parse to parse).
 *
 * <p>cgroup2 layout (cgroup-v2.rst, "IO Interface Files"): one line per device, keyed by
 * {@code $MAJ:$MIN}, not ordered, then {@code key=value} fields:
 * <pre>
 * 8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0
 * </pre>
 * Other fields (iocost's {@code cost.vrate=...}, iolatency's {@code use_delay=0 delay_nsec=0},
 * {@code avg_lat=...}) are skipped; so is a line whose device is not {@code MAJ:MIN}.
 *
 * <p>v1 layout (cgroup-v1/blkio-controller.rst): one line per device and operation, then a total:
 * <pre>
 * 254:0 Read 4096
 * 254:0 Write 8192
 * 254:0 Sync 8192
 * 254:0 Async 4096
 * 254:0 Discard 0
 * 254:0 Total 12288
 * Total 12288
 * </pre>
 * {@code Read}, {@code Write} and {@code Discard} are kept; {@code Sync}, {@code Async} and the
 * totals are sums of the others. The bytes file fills the byte words, the serviced file the
 * operation words, of the same rows.
 */
public final class IoStatFile {
    public static final int RBYTES = 0;
    public static final int WBYTES = 1;
    public static final int DBYTES = 2;
    public static final int RIOS = 3;
    public static final int WIOS = 4;
    public static final int DIOS = 5;
    /** Words per device row. */
    public static final int WORDS = 6;

    private static final byte[][] V2_KEYS = {Text.ascii("rbytes"), Text.ascii("wbytes"), Text.ascii("dbytes"),
            Text.ascii("rios"), Text.ascii("wios"), Text.ascii("dios")};
    private static final byte[][] V1_OPS = {Text.ascii("Read"), Text.ascii("Write"), Text.ascii("Discard")};

    /** The devices of one cgroup and their counters; {@link #clear()} before each file. */
    public static final class Rows {
        private int size;
        private int[] majors = new int[4];
        private int[] minors = new int[4];
        private long[] values = new long[4 * WORDS];
        /** Bit w of masks[i]: word w of row i was read. */
        private int[] masks = new int[4];

        public int size() {
            return size;
        }

        public int major(int row) {
            return majors[row];
        }

        public int minor(int row) {
            return minors[row];
        }

        public long value(int row, int word) {
            return values[row * WORDS + word];
        }

        /** Whether word {@code w} of row {@code i} was read from the file. */
        public boolean has(int row, int word) {
            return (masks[row] & 1 << word) != 0;
        }

        public void clear() {
            size = 0;
        }

        /** The row of a device, appended (all words unread) when new. */
        int row(int major, int minor) {
            for (int i = 0; i < size; i++) {
                if (majors[i] == major && minors[i] == minor) {
                    return i;
                }
            }
            if (size == majors.length) {
                majors = Arrays.copyOf(majors, size * 2);
                minors = Arrays.copyOf(minors, size * 2);
                values = Arrays.copyOf(values, size * 2 * WORDS);
                masks = Arrays.copyOf(masks, size * 2);
            }
            majors[size] = major;
            minors[size] = minor;
            Arrays.fill(values, size * WORDS, (size + 1) * WORDS, 0L);
            masks[size] = 0;
            return size++;
        }

        void set(int row, int word, long v) {
            values[row * WORDS + word] = v;
            masks[row] |= 1 << word;
        }
    }

    private IoStatFile() {
    }

    /** Parses cgroup2 {@code io.stat} {@code buf[0, length)} into {@code rows} (added to what they hold). */
    public static void parseV2(byte[] buf, int length, Rows rows) {
        int end = Math.min(length, buf.length);
        int line = 0;
        while (line < end) {
            int eol = Text.trimEnd(buf, line, Text.lineEnd(buf, line, end));
            int devEnd = Text.wordEnd(buf, line, eol);
            long dev = device(buf, line, devEnd);
            if (dev >= 0) {
                int row = -1;
                int i = Text.skipBlanks(buf, devEnd, eol);
                while (i < eol) {
                    int fieldEnd = Text.wordEnd(buf, i, eol);
                    int eq = i;
                    while (eq < fieldEnd && buf[eq] != '=') {
                        eq++;
                    }
                    int word = eq < fieldEnd ? keyOf(V2_KEYS, buf, i, eq) : -1;
                    if (word >= 0) {
                        long v = Text.number(buf, eq + 1, fieldEnd);
                        if (v != Text.ABSENT) {
                            if (row < 0) {
                                row = rows.row((int) (dev >>> 32), (int) dev);
                            }
                            rows.set(row, word, v);
                        }
                    }
                    i = Text.skipBlanks(buf, fieldEnd, eol);
                }
            }
            line = Text.lineEnd(buf, line, end) + 1;
        }
    }

    /**
     * Parses a v1 {@code blkio.throttle.*} file {@code buf[0, length)} into {@code rows}:
     * {@code bytes} for {@code io_service_bytes} (the byte words), else {@code io_serviced}
     * (the operation words).
     */
    public static void parseV1(byte[] buf, int length, Rows rows, boolean bytes) {
        int end = Math.min(length, buf.length);
        int line = 0;
        while (line < end) {
            int eol = Text.trimEnd(buf, line, Text.lineEnd(buf, line, end));
            int devEnd = Text.wordEnd(buf, line, eol);
            long dev = device(buf, line, devEnd);
            if (dev >= 0) {
                int opStart = Text.skipBlanks(buf, devEnd, eol);
                int opEnd = Text.wordEnd(buf, opStart, eol);
                int op = keyOf(V1_OPS, buf, opStart, opEnd);
                if (op >= 0) {
                    int valueStart = Text.skipBlanks(buf, opEnd, eol);
                    long v = Text.number(buf, valueStart, Text.wordEnd(buf, valueStart, eol));
                    if (v != Text.ABSENT) {
                        rows.set(rows.row((int) (dev >>> 32), (int) dev), (bytes ? RBYTES : RIOS) + op, v);
                    }
                }
            }
            line = Text.lineEnd(buf, line, end) + 1;
        }
    }

    /** {@code MAJ:MIN} as {@code major << 32 | minor}, or -1 when {@code buf[from, to)} is not that. */
    static long device(byte[] buf, int from, int to) {
        int colon = from;
        while (colon < to && buf[colon] != ':') {
            colon++;
        }
        if (colon == to) {
            return -1;
        }
        long major = Text.number(buf, from, colon);
        long minor = Text.number(buf, colon + 1, to);
        if (major < 0 || minor < 0 || major > 0xFFF || minor > 0xFFFFF) {
            return -1; // beyond the kernel's dev_t: 12 bits of major, 20 of minor
        }
        return major << 32 | minor;
    }

    private static int keyOf(byte[][] keys, byte[] buf, int from, int to) {
        for (int k = 0; k < keys.length; k++) {
            if (Text.is(buf, from, to, keys[k])) {
                return k;
            }
        }
        return -1;
    }
}
