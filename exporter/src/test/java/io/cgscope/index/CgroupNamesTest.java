package io.cgscope.index;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class CgroupNamesTest {
    @Test
    void validNamesAreShownAsTheyAre() {
        for (String s : List.of("nginx.service", "a b", "q\"uote", "back\\slash", "k=v", "x:y", "Grüße-日本")) {
            assertEquals(s, CgroupNames.decode(s.getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    void invalidBytesAreShownAsHexEscapes() {
        assertEquals("a\\xffb", CgroupNames.decode(new byte[] {'a', (byte) 0xff, 'b'}));
        assertEquals("\\xc3", CgroupNames.decode(new byte[] {(byte) 0xc3})); // truncated sequence
        assertEquals("é\\x80", CgroupNames.decode(new byte[] {(byte) 0xc3, (byte) 0xa9, (byte) 0x80}));
    }

    @Test
    void candidatesReadEscapesBackAndKeepTheLiteral() {
        List<byte[]> c = CgroupNames.candidates("a\\xffb");
        assertEquals(2, c.size());
        assertArrayEquals("a\\xffb".getBytes(StandardCharsets.UTF_8), c.get(0));
        assertArrayEquals(new byte[] {'a', (byte) 0xff, 'b'}, c.get(1));
        assertEquals(1, CgroupNames.candidates("plain\\name").size());
    }
}
