package io.cgscope.top;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnlineCpusTest {
    @Test
    void cpuLists() {
        assertEquals(1, OnlineCpus.parse("0"));
        assertEquals(4, OnlineCpus.parse("0-3"));
        assertEquals(6, OnlineCpus.parse("0-3,6,8"));
        assertEquals(0, OnlineCpus.parse("3-1"));
        assertTrue(OnlineCpus.count() >= 1);
    }
}
