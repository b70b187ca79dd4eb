package io.cgscope.bpf;

import org.junit.jupiter.api.Test;

import io.cgscope.testing.CProbe;

import java.lang.foreign.MemoryLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
            assertEquals(p, Feature.of(p).label());
        }
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
