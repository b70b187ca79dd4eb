package io.cgscope.index;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a user's path means: the one normalisation of the project. */
class CgroupPathsTest {
    @Test
    void slashesAroundAPathAreDropped() {
        assertEquals("system.slice/nginx.service", CgroupPaths.canonical("/system.slice/nginx.service/"));
        assertEquals("system.slice", CgroupPaths.canonical("//system.slice//"));
        assertEquals("a//b", CgroupPaths.canonical("a//b"), "inside a path, slashes stay: no such cgroup");
        assertEquals("/", CgroupPaths.canonical("/"));
        assertEquals("/", CgroupPaths.canonical("///"));
        assertEquals("", CgroupPaths.canonical(""));
    }

    @Test
    void withinIsByWholeSegments() {
        assertTrue(CgroupPaths.within("a/b", "a"));
        assertTrue(CgroupPaths.within("a", "a"));
        assertFalse(CgroupPaths.within("ab", "a"));
        assertTrue(CgroupPaths.within("/", "/"));
        assertTrue(CgroupPaths.within("x", ""));
        assertFalse(CgroupPaths.within("/", "a"));
    }
}
