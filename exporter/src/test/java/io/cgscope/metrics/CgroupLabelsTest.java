package io.cgscope.metrics;

import org.junit.jupiter.api.Test;

import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CgroupLabelsTest {
    @Test
    void rollUpKeepsTheFirstSegments() {
        CgroupLabels l = new CgroupLabels(2, null, null);
        assertEquals("a/b", l.label("a/b/c/d"));
        assertEquals("a/b", l.label("a/b"));
        assertEquals("a", l.label("a"));
        assertEquals("/", l.label("/"));
        assertEquals("/unknown", l.label(null));
        assertEquals("a/b/c/d", new CgroupLabels(0, null, null).label("a/b/c/d"));
    }

    @Test
    void filtersMatchTheWholeRolledUpLabel() {
        CgroupLabels l = new CgroupLabels(1, Pattern.compile("system\\.slice|/"), Pattern.compile("/"));
        assertEquals("system.slice", l.label("system.slice/x.service"));
        assertNull(l.label("/"));
        assertNull(l.label("system.slicey"));
        assertNull(l.label(null));
    }
}
