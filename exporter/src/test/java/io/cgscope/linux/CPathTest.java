package io.cgscope.linux;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CPathTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The bytes up to (not including) the first NUL, failing if there is none in the segment. */
    private static byte[] cString(MemorySegment s) {
        for (long i = 0; i < s.byteSize(); i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) == 0) {
                return s.asSlice(0, i).toArray(ValueLayout.JAVA_BYTE);
            }
        }
        throw new AssertionError("not NUL-terminated");
    }

    @Test
    void joinsWithOneSlashAndTerminates() {
        try (Arena arena = Arena.ofConfined()) {
            CPath p = new CPath(arena);
            assertArrayEquals(b("system.slice/nginx.service"), cString(p.of(b("system.slice"), b("nginx.service"))));
            assertEquals("system.slice/nginx.service", p.toString());
            assertArrayEquals(b("top"), cString(p.of(new byte[0], b("top"))), "a child of the root: just its name");
            assertArrayEquals(b("."), cString(p.of(new byte[0])), "empty: the directory itself");
            assertArrayEquals(b("a/b"), cString(p.of(b("a/b"))));
            // A shorter path after a longer one: the NUL ends it, nothing of the old one shows.
            p.of(b("a-very-long-name/with/parts"));
            assertArrayEquals(b("x"), cString(p.of(b("x"))));
        }
    }

    @Test
    void keepsNamesThatAreNotUtf8AsBytes() {
        try (Arena arena = Arena.ofConfined()) {
            byte[] raw = {'b', 'a', 'd', (byte) 0xff, (byte) 0xc0};
            assertArrayEquals(new byte[] {'p', '/', 'b', 'a', 'd', (byte) 0xff, (byte) 0xc0},
                    cString(new CPath(arena).of(b("p"), raw)));
        }
    }

    @Test
    void refusesPathsLongerThanPathMax() {
        try (Arena arena = Arena.ofConfined()) {
            CPath p = new CPath(arena);
            byte[] dir = new byte[CPath.PATH_MAX - 2];
            java.util.Arrays.fill(dir, (byte) 'd');
            assertTrue(CPath.fits(dir, b("x")));
            assertEquals(CPath.PATH_MAX, cString(p.of(dir, b("x"))).length, "exactly PATH_MAX fits");
            assertFalse(CPath.fits(dir, b("xy")));
            assertEquals(CPath.PATH_MAX + 1, CPath.length(dir, b("xy")));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.of(dir, b("xy")));
            assertTrue(e.getMessage().contains("4097 bytes"), e.getMessage());
        }
    }
}
