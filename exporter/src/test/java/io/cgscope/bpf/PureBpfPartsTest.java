package io.cgscope.bpf;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
