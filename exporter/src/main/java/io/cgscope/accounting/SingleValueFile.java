package io.cgscope.accounting;

/**
 * Parses the cgroupfs files that hold one value, or two: cgroup2's {@code memory.current},
 * {@code memory.peak}, {@code memory.max}, {@code pids.current}, {@code pids.max} and
 * {@code cpu.max}; cgroup v1's {@code memory.usage_in_bytes}, {@code memory.limit_in_bytes},
 * {@code memory.failcnt}, {@code cpu.cfs_quota_us}, {@code cpu.cfs_period_us}. Pure.
 *
 * <p>Layout: a value and a newline ({@code "4702208\n"}). A limit that is not set reads
 * {@code max} in cgroup2 ({@code memory.max}, {@code pids.max}; cgroup-v2.rst: "The default is
 * 'max'") and {@code -1} in v1's {@code cpu.cfs_quota_us}; both parse as {@link #UNLIMITED}.
 * v1's {@code memory.limit_in_bytes} shows an unset limit as a number instead (the largest page
 * count times the page size, {@code 9223372036854771712} with 4 KiB pages): that is the
 * caller's to interpret ({@link #isV1Unlimited}). {@code cpu.max} is {@code $MAX $PERIOD}
 * ({@code "max 100000"}, {@code "50000 100000"}).
 */
public final class SingleValueFile {
    /** A limit that is not set. */
    public static final long UNLIMITED = Long.MAX_VALUE;
    /** Not a value this parser understands (empty, not a number, out of range). */
    public static final long ABSENT = Text.ABSENT;
    private static final byte[] MAX = Text.ascii("max");
    private static final byte[] MINUS_ONE = Text.ascii("-1");
    /**
     * v1 shows an unset memory limit as {@code PAGE_COUNTER_MAX * PAGE_SIZE}, just below 2^63 for
     * any page size up to 64 KiB; no real limit comes within 64 KiB of it.
     */
    private static final long V1_UNLIMITED_FROM = Long.MAX_VALUE - (1L << 16);

    private SingleValueFile() {
    }

    /** The first value of {@code buf[0, length)}: a number, {@link #UNLIMITED} or {@link #ABSENT}. */
    public static long parse(byte[] buf, int length) {
        int end = Math.min(length, buf.length);
        int from = Text.skipBlanks(buf, 0, end);
        int to = Text.wordEnd(buf, from, Text.trimEnd(buf, from, Text.lineEnd(buf, from, end)));
        return value(buf, from, to);
    }

    /**
     * {@code cpu.max}: {@code out[offset]} the quota ({@link #UNLIMITED} for {@code max}),
     * {@code out[offset + 1]} the period, both in microseconds.
     *
     * @return whether both were read
     */
    public static boolean parsePair(byte[] buf, int length, long[] out, int offset) {
        int end = Math.min(length, buf.length);
        int lineEnd = Text.trimEnd(buf, 0, Text.lineEnd(buf, 0, end));
        int from = Text.skipBlanks(buf, 0, lineEnd);
        int to = Text.wordEnd(buf, from, lineEnd);
        long first = value(buf, from, to);
        int from2 = Text.skipBlanks(buf, to, lineEnd);
        int to2 = Text.wordEnd(buf, from2, lineEnd);
        long second = Text.number(buf, from2, to2);
        if (first == ABSENT || second == ABSENT || second == 0 || to2 != lineEnd) {
            return false;
        }
        out[offset] = first;
        out[offset + 1] = second;
        return true;
    }

    /** Whether a v1 {@code memory.limit_in_bytes} (or {@code memsw}) value means "no limit". */
    public static boolean isV1Unlimited(long bytes) {
        return bytes >= V1_UNLIMITED_FROM;
    }

    private static long value(byte[] buf, int from, int to) {
        if (Text.is(buf, from, to, MAX) || Text.is(buf, from, to, MINUS_ONE)) {
            return UNLIMITED;
        }
        return Text.number(buf, from, to);
    }
}
