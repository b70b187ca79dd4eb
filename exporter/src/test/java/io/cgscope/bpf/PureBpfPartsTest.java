package io.cgscope.bpf;

import org.junit.jupiter.api.Test;

import io.cgscope.testing.CProbe;

import java.lang.foreign.MemoryLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the BPF side that need no kernel. */
class PureBpfPartsTest {
    @Test
    void onlineCpuLists() {
        assertEquals(List.of(0, 1), Links.parseCpuList("0-1\n"));
        assertEquals(List.of(0, 2, 3, 4, 7), Links.parseCpuList("0,2-4,7"));
    }

    @Test
    void libbpfLogTail() {
        assertEquals("c\nd", LibBpfLog.lastLines("a\nb\nc\nd", 2, 100));
        assertEquals("cd", LibBpfLog.lastLines("abcd", 5, 2));
    }

    @Test
    void tableGrowsAndKeepsWords() {
        MapTable t = new MapTable(2, 1);
        for (int i = 0; i < 100; i++) {
            t.put(i, i, 2L * i);
        }
        assertEquals(100, t.size());
        assertEquals(99, t.key(99));
        assertEquals(198, t.value(99, 1));
        t.clear();
        assertEquals(0, t.size());
    }

    @Test
    void featuresMatchTheFlagValues() {
        for (String p : io.cgscope.config.Config.PROGRAMS) {
            if (p.equals(OomKills.PROGRAM)) {
                continue; // its own object, not a feature of the companion
            }
            assertEquals(p, Feature.of(p).label());
        }
        assertTrue(io.cgscope.config.Config.PROGRAMS.contains(OomKills.PROGRAM));
    }

    /** A record as oom.bpf.c lays it out (struct oom_event), built by hand. */
    static byte[] oomRecord(long time, long cgroup, long memcg, int pid, int tid, int hierarchy, int kind, int source,
                            String comm, String[] cgroupNames, String[] memcgNames) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(OomRecord.SIZE).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, time).putLong(8, cgroup).putLong(16, memcg).putLong(24, 77).putInt(32, pid).putInt(36, tid)
                .putInt(40, hierarchy).put(44, (byte) kind).put(45, (byte) source);
        byte[] c = comm.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        b.put(48, c, 0, Math.min(16, c.length));
        names(b, 64, cgroupNames);
        names(b, 64 + 12 * 128, memcgNames);
        return b.array();
    }

    private static void names(java.nio.ByteBuffer b, int at, String[] leafFirst) {
        for (int i = 0; i < leafFirst.length; i++) {
            byte[] n = leafFirst[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
            b.put(at + i * 128, n, 0, Math.min(127, n.length));
        }
    }

    @Test
    void oomRecords() {
        OomRecord r = OomRecord.parse(oomRecord(123456789L, 4711, 4242, 100, 101, 4, 1, 2, "python3",
                new String[] {"oom.service", "test.slice"}, new String[] {"oom", "4e9edd", "process_api"}), OomRecord.SIZE);
        assertEquals(123456789L, r.timeNanos());
        assertEquals(4711, r.cgroupId());
        assertEquals(4242, r.memcgId());
        assertEquals(77, r.victimMemcgId());
        assertEquals(100, r.pid());
        assertEquals(101, r.tid());
        assertEquals(4, r.memcgHierarchy());
        assertEquals(OomRecord.Kind.CGROUP, r.kind());
        assertEquals("cgroup", r.kind().label());
        assertEquals(OomRecord.MemcgSource.INFERRED, r.memcgSource());
        assertEquals("python3", r.comm());
        assertEquals("test.slice/oom.service", r.cgroupPath());
        assertEquals("process_api/4e9edd/oom", r.memcgPath());
        // a comm of 16 bytes has no NUL; the root has no names; a global OOM has no memcg
        OomRecord g = OomRecord.parse(oomRecord(1, 1, 0, 5, 5, 0, 2, 1, "sixteen-bytes-xx", new String[0],
                new String[0]), OomRecord.SIZE);
        assertEquals("sixteen-bytes-xx", g.comm());
        assertEquals("", g.cgroupPath());
        assertEquals(OomRecord.Kind.GLOBAL, g.kind());
        assertEquals("oom_control", g.memcgSource().label());
        // deeper than 12 levels: cut at the top, and said so
        String[] deep = new String[12];
        for (int i = 0; i < 12; i++) {
            deep[i] = "l" + (11 - i);
        }
        assertEquals(".../l0/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11", OomRecord.parse(oomRecord(1, 1, 0, 5, 5, 0, 0, 0, "x",
                deep, new String[0]), OomRecord.SIZE).cgroupPath());
        assertEquals(null, OomRecord.parse(oomRecord(1, 1, 0, 5, 5, 0, 0, 0, "x", deep, new String[0]), OomRecord.SIZE)
                .kind().label());
    }

    @Test
    void malformedOomRecordsAreRefused() {
        byte[] ok = oomRecord(1, 1, 0, 5, 5, 0, 1, 1, "x", new String[0], new String[0]);
        assertThrows(IllegalArgumentException.class, () -> OomRecord.parse(ok, OomRecord.SIZE - 1), "short");
        byte[] kind = ok.clone();
        kind[44] = 3;
        assertThrows(IllegalArgumentException.class, () -> OomRecord.parse(kind, OomRecord.SIZE), "kind 3");
        byte[] source = ok.clone();
        source[45] = 9;
        assertThrows(IllegalArgumentException.class, () -> OomRecord.parse(source, OomRecord.SIZE), "source 9");
    }

    /** Every named field of {@link ProgInfo#LAYOUT} at the offset the installed {@code <linux/bpf.h>} gives it. */
    @Test
    void progInfoLayoutMatchesTheHeader() throws Exception {
        Map<String, String> exprs = new LinkedHashMap<>();
        Map<String, Long> ours = new LinkedHashMap<>();
        for (MemoryLayout field : ProgInfo.LAYOUT.memberLayouts()) {
            field.name().filter(name -> !name.equals("gpl_compatible")).ifPresent(name -> { // a bit field: no offsetof
                exprs.put(name, "offsetof(struct bpf_prog_info, " + name + ")");
                ours.put(name, ProgInfo.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(name)));
            });
        }
        exprs.put("sizeof", "sizeof(struct bpf_prog_info)");
        Map<String, Long> c = CProbe.evaluate(List.of("linux/bpf.h"), exprs);
        long headerSize = c.remove("sizeof");
        assertEquals(c, ours);
        assertTrue(headerSize >= ProgInfo.SIZE, "a newer header only adds fields: " + headerSize);
        assertEquals(232, ProgInfo.SIZE);
        assertEquals(192, ProgInfo.RUN_TIME_NS);
        assertEquals(200, ProgInfo.RUN_CNT);
    }
}
