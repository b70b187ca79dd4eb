package io.cgscope.accounting;

/**
 * What the cgroupfs parsers share: unsigned decimal numbers and word matching in a file's bytes,
 * {@code buf[from, to)}. Pure and bounds-checked: no index outside {@code [0, length)} of what the
 * caller says was read is ever touched, and nothing allocates.
 */
final class Text {
    /** A value the file does not have, or one that could not be parsed. */
    static final long ABSENT = -1;

    private Text() {
    }

    /**
     * The unsigned decimal number {@code buf[from, to)}, or {@link #ABSENT} when the range is
     * empty, holds anything but digits, or does not fit in a signed 64-bit value.
     */
    static long number(byte[] buf, int from, int to) {
        if (from >= to) {
            return ABSENT;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = buf[i] - '0';
            if (d < 0 || d > 9) {
                return ABSENT;
            }
            if (v > (Long.MAX_VALUE - d) / 10) {
                return ABSENT; // overflow
            }
            v = v * 10 + d;
        }
        return v;
    }

    /** The index of the first {@code '\n'} at or after {@code from}, or {@code to}. */
    static int lineEnd(byte[] buf, int from, int to) {
        int i = from;
        while (i < to && buf[i] != '\n') {
            i++;
        }
        return i;
    }

    /** The index of the first space or tab at or after {@code from}, or {@code to}. */
    static int wordEnd(byte[] buf, int from, int to) {
        int i = from;
        while (i < to && buf[i] != ' ' && buf[i] != '\t') {
            i++;
        }
        return i;
    }

    /** The index of the first byte that is not a space or tab at or after {@code from}, or {@code to}. */
    static int skipBlanks(byte[] buf, int from, int to) {
        int i = from;
        while (i < to && (buf[i] == ' ' || buf[i] == '\t')) {
            i++;
        }
        return i;
    }

    /** Whether {@code buf[from, to)} is exactly {@code word}. */
    static boolean is(byte[] buf, int from, int to, byte[] word) {
        if (to - from != word.length) {
            return false;
        }
        for (int i = 0; i < word.length; i++) {
            if (buf[from + i] != word[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@code to} minus a trailing {@code '\r'} or blanks: the end of a line's content. */
    static int trimEnd(byte[] buf, int from, int to) {
        int i = to;
        while (i > from && (buf[i - 1] == ' ' || buf[i - 1] == '\t' || buf[i - 1] == '\r')) {
            i--;
        }
        return i;
    }

    static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
