package io.cgscope.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * One OOM kill as {@code oom.bpf.c} sends it through its ring buffer, parsed. Pure: bytes in,
 * a record out; hand-built bytes test it.
 *
 * <p>Layout ({@code struct oom_event}, little-endian, {@value #SIZE} bytes):
 * <pre>
 *    0 u64 time_ns           bpf_ktime_get_ns(): CLOCK_MONOTONIC, System.nanoTime()'s clock
 *    8 u64 cgroup_id         the victim's cgroup in the hierarchy the program was set to (BpfHierarchy); 0 when unknown
 *   16 u64 memcg_id          the memory cgroup whose limit was hit; 0 for none (a global OOM, or unknown)
 *   24 u64 victim_memcg_id   the victim's own memory cgroup
 *   32 u32 pid               the victim's process (tgid)
 *   36 u32 tid               its thread
 *   40 u32 memcg_hierarchy   hierarchy id of memcg_id: 0 is cgroup2, else a v1 hierarchy (/proc/self/cgroup's first field)
 *   44 u8  kind              0 unknown, 1 cgroup OOM, 2 global OOM
 *   45 u8  memcg_source      0 unknown, 1 the kill's oom_control (fentry), 2 inferred (the nearest memcg at its limit)
 *   46 u8[2] pad
 *   48 char comm[16]         NUL-terminated unless 16 long
 *   64 char cgroup_path[12][128]   the victim cgroup's names (that hierarchy), its own first, up to the root (excluded);
 * 1600 char memcg_path[12][128]    the memcg's, the same way   an empty name ends a path
 * </pre>
 * A path deeper than 12 levels is cut at the top: {@link #cgroupPath()} then starts with
 * {@code .../}. A name of 127 bytes or more may have been cut at 127 (not shown).
 */
public record OomRecord(long timeNanos, long cgroupId, long memcgId, long victimMemcgId, int pid, int tid,
                        int memcgHierarchy, Kind kind, MemcgSource memcgSource, String comm, String cgroupPath,
                        String memcgPath) {
    public static final int SIZE = 3136;
    static final int LEVELS = 12;
    static final int NAME_LEN = 128;
    private static final int COMM = 48;
    private static final int CGROUP_PATH = 64;
    private static final int MEMCG_PATH = CGROUP_PATH + LEVELS * NAME_LEN;

    /** What kind of OOM made the kill. */
    public enum Kind {
        UNKNOWN, CGROUP, GLOBAL;

        /** {@code cgroup}, {@code global}, or null when unknown. */
        public String label() {
            return this == UNKNOWN ? null : name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How the memcg was found. */
    public enum MemcgSource {
        UNKNOWN, OOM_CONTROL, INFERRED;

        /** {@code oom_control}, {@code inferred}, or null. */
        public String label() {
            return this == UNKNOWN ? null : name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * Parses one record.
     *
     * @throws IllegalArgumentException when it is shorter than {@value #SIZE} bytes (another
     *     version of the program), or a kind or source is out of range
     */
    public static OomRecord parse(byte[] data, int length) {
        if (length < SIZE || data.length < SIZE) {
            throw new IllegalArgumentException("OOM record of " + length + " bytes, expected " + SIZE);
        }
        ByteBuffer b = ByteBuffer.wrap(data, 0, SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int kind = Byte.toUnsignedInt(b.get(44));
        int source = Byte.toUnsignedInt(b.get(45));
        if (kind >= Kind.values().length || source >= MemcgSource.values().length) {
            throw new IllegalArgumentException("OOM record with kind " + kind + " and memcg source " + source);
        }
        return new OomRecord(b.getLong(0), b.getLong(8), b.getLong(16), b.getLong(24), b.getInt(32), b.getInt(36),
                b.getInt(40), Kind.values()[kind], MemcgSource.values()[source], string(data, COMM, 16),
                path(data, CGROUP_PATH), path(data, MEMCG_PATH));
    }

    /** The names from the root down, {@code a/b/c}; empty for the root itself (or nothing recorded). */
    static String path(byte[] data, int at) {
        String[] names = new String[LEVELS];
        int n = 0;
        while (n < LEVELS && data[at + n * NAME_LEN] != 0) {
            names[n] = string(data, at + n * NAME_LEN, NAME_LEN);
            n++;
        }
        StringBuilder sb = new StringBuilder();
        if (n == LEVELS) {
            sb.append("...");
        }
        for (int i = n - 1; i >= 0; i--) {
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(names[i]);
        }
        return sb.toString();
    }

    private static String string(byte[] data, int at, int max) {
        int end = at;
        while (end < at + max && data[end] != 0) {
            end++;
        }
        return new String(data, at, end - at, StandardCharsets.UTF_8);
    }
}
