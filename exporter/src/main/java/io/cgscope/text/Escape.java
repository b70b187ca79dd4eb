package io.cgscope.text;

/**
 * The project's string escapers, one per output format, each writing a quoted or escaped string
 * into a {@link StringBuilder}. Cgroup names reach all three (a name may hold quotes, backslashes,
 * angle brackets, control characters and any Unicode), so each format's rules are written here
 * once:
 * <ul>
 * <li>{@link #json}: a JSON string, RFC 8259. {@code "} and {@code \} are backslash-escaped;
 *     newline, carriage return and tab as {@code \n}, {@code \r}, {@code \t}; the other control
 *     characters (U+0000-U+001F), DEL (U+007F), U+2028 and U+2029 (line breaks to JavaScript) and
 *     lone surrogates (which would not survive UTF-8) as {@code \}{@code uXXXX}; everything else,
 *     non-ASCII included, as it is (the body is UTF-8).</li>
 * <li>{@link #logfmt}: a logfmt value in double quotes, as Prometheus exporters' logfmt writes it:
 *     {@code "}, {@code \} and newline backslash-escaped (one line per record); everything else as
 *     it is.</li>
 * <li>{@link #html}: HTML text or a double- or single-quoted attribute value: {@code &}, {@code <},
 *     {@code >}, {@code "} and {@code '} as character references; everything else as it is (the
 *     page is UTF-8).</li>
 * </ul>
 * The Prometheus exposition format's label escaping is simpleclient's (backslash, quote, newline).
 */
public final class Escape {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Escape() {
    }

    /** {@code s} as a JSON string, quotes included. */
    public static StringBuilder json(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029'
                            || Character.isSurrogate(c) && !validSurrogateAt(s, i)) {
                        sb.append("\\u").append(HEX[c >> 12 & 15]).append(HEX[c >> 8 & 15])
                                .append(HEX[c >> 4 & 15]).append(HEX[c & 15]);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }

    /** {@code s} as a quoted logfmt value, quotes included. */
    public static StringBuilder logfmt(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c);
            }
        }
        return sb.append('"');
    }

    /** {@code s} as HTML text or attribute value (no quotes added). */
    public static StringBuilder html(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb;
    }

    /** {@link #html(StringBuilder, String)} into a new string. */
    public static String html(String s) {
        return html(new StringBuilder(s.length() + 16), s).toString();
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
