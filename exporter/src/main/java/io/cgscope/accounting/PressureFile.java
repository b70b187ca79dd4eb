package io.cgscope.accounting;

/**
 * Parses a pressure stall file ({@code cpu.pressure}, {@code memory.pressure},
 * {@code io.pressure}, {@code irq.pressure} of a cgroup2 directory; {@code /proc/pressure/*}).
 * Pure: bytes in, numbers out.
 *
 * <p>Layout (Documentation/accounting/psi.rst): up to two lines, each a kind and
 * {@code key=value} fields separated by spaces:
 * <pre>
 * some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * </pre>
 * {@code total} is the stall time in microseconds since boot (or the cgroup's creation), a
 * counter. Which lines exist depends on the kernel and the resource: {@code cpu.pressure} had
 * only {@code some} before 5.13 (and its {@code full} is always 0 at the root), {@code irq.pressure}
 * (6.1+, {@code CONFIG_IRQ_TIME_ACCOUNTING}) has only {@code full}. The averages are not read: a
 * rate over the counter gives any window. Lines of another kind, fields other than
 * {@code total}, and a {@code total} that is not an unsigned number are skipped.
 */
public final class PressureFile {
    /** Slot of the {@code some} line's total in the output. */
    public static final int SOME = 0;
    /** Slot of the {@code full} line's total in the output. */
    public static final int FULL = 1;
    private static final byte[] SOME_WORD = Text.ascii("some");
    private static final byte[] FULL_WORD = Text.ascii("full");
    private static final byte[] TOTAL = Text.ascii("total");

    private PressureFile() {
    }

    /**
     * Parses {@code buf[0, length)}: the {@code some} total into {@code out[offset + SOME]} and
     * the {@code full} total into {@code out[offset + FULL]}, in microseconds.
     *
     * @return a bit mask of what was found: {@code 1 << SOME}, {@code 1 << FULL}
     */
    public static int parse(byte[] buf, int length, long[] out, int offset) {
        int end = Math.min(length, buf.length);
        int found = 0;
        int line = 0;
        while (line < end) {
            int eol = Text.lineEnd(buf, line, end);
            int kindEnd = Text.wordEnd(buf, line, eol);
            int slot = Text.is(buf, line, kindEnd, SOME_WORD) ? SOME : Text.is(buf, line, kindEnd, FULL_WORD) ? FULL : -1;
            if (slot >= 0) {
                long total = field(buf, kindEnd, Text.trimEnd(buf, kindEnd, eol), TOTAL);
                if (total != Text.ABSENT) {
                    out[offset + slot] = total;
                    found |= 1 << slot;
                }
            }
            line = eol + 1;
        }
        return found;
    }

    /** The unsigned value of {@code key=value} among the blank-separated fields of {@code buf[from, to)}. */
    static long field(byte[] buf, int from, int to, byte[] key) {
        int i = Text.skipBlanks(buf, from, to);
        while (i < to) {
            int end = Text.wordEnd(buf, i, to);
            int eq = i;
            while (eq < end && buf[eq] != '=') {
                eq++;
            }
            if (eq < end && Text.is(buf, i, eq, key)) {
                return Text.number(buf, eq + 1, end);
            }
            i = Text.skipBlanks(buf, end, to);
        }
        return Text.ABSENT;
    }
}
