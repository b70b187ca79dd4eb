package io.cgscope.http;

import io.cgscope.index.Cgroup;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The API's JSON, written by hand: a cgroup object is a handful of fields, and writing them
 * straight into a StringBuilder keeps {@code /cgroup/<id>} close to the cost of a constant
 * response. Ids are unsigned 64-bit numbers written in decimal; times are UTC with milliseconds.
 */
final class Json {
    static final String CONTENT_TYPE = "application/json";
    /** Always three fraction digits, unlike {@link Instant#toString()}: responses keep one shape. */
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Json() {
    }

    /**
     * {@code {"id":4711,"path":"system.slice/nginx.service","parent_id":12,"state":"live",
     * "created_at":"...","deleted_at":null,"source":"event"}}; {@code time} is added when not null
     * (the event stream). The root's parent_id is null.
     */
    static StringBuilder cgroup(StringBuilder sb, Cgroup c, Instant time) {
        sb.append("{\"id\":").append(Long.toUnsignedString(c.id()));
        sb.append(",\"path\":");
        string(sb, c.path());
        sb.append(",\"parent_id\":");
        if (c.parentId() == 0) {
            sb.append("null");
        } else {
            sb.append(Long.toUnsignedString(c.parentId()));
        }
        sb.append(",\"state\":\"").append(c.state().label()).append('"');
        sb.append(",\"created_at\":");
        time(sb, c.createdAt());
        sb.append(",\"deleted_at\":");
        time(sb, c.deletedAt());
        sb.append(",\"source\":\"").append(c.source().label()).append('"');
        if (time != null) {
            sb.append(",\"time\":");
            time(sb, time);
        }
        return sb.append('}');
    }

    static String cgroup(Cgroup c) {
        return cgroup(new StringBuilder(192), c, null).append('\n').toString();
    }

    static void time(StringBuilder sb, Instant t) {
        if (t == null) {
            sb.append("null");
        } else {
            sb.append('"');
            TIME.formatTo(t, sb);
            sb.append('"');
        }
    }

    /** A JSON string (or null), escaped per RFC 8259; non-ASCII stays as UTF-8. */
    static void string(StringBuilder sb, String s) {
        if (s == null) {
            sb.append("null");
            return;
        }
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
                        // control characters, and lone surrogates that would not survive UTF-8
                        sb.append("\\u").append(HEX[c >> 12 & 15]).append(HEX[c >> 8 & 15])
                                .append(HEX[c >> 4 & 15]).append(HEX[c & 15]);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /**
     * {@code /hierarchies}: the one in use (it names the metrics and answers {@code /cgroup/<id>}
     * by default) and why, and each indexed hierarchy with its mode and size.
     */
    static String hierarchies(io.cgscope.index.HierarchyIndexes all) {
        StringBuilder sb = new StringBuilder(256).append("{\"in_use\":");
        string(sb, all.inUse().name());
        sb.append(",\"why\":");
        string(sb, all.why());
        sb.append(",\"hierarchies\":[");
        boolean first = true;
        for (io.cgscope.index.HierarchyIndexes.Indexed h : all.all()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            io.cgscope.index.IndexHealth.Status st = h.index().health().status();
            sb.append("{\"id\":").append(h.id()).append(",\"name\":");
            string(sb, h.name());
            sb.append(",\"mount\":");
            string(sb, h.mountPoint());
            sb.append(",\"mode\":");
            string(sb, st.mode().label());
            sb.append(",\"following\":").append(st.following());
            if (!st.following()) {
                sb.append(",\"not_following\":");
                string(sb, st.notFollowing());
            }
            sb.append(",\"live\":").append(h.index().liveCount()).append(",\"dead\":").append(h.index().deadCount())
                    .append('}');
        }
        return sb.append("]}\n").toString();
    }
}
