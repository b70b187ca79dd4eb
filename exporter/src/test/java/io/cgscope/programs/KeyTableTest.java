package io.cgscope.programs;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Key states by their bytes: found by a slice of a bigger buffer, grown, pruned. */
class KeyTableTest {
    private static KeyState state(byte[] key) {
        return new KeyState(key, KeyTable.hash(key, 0, key.length), key,
                new KeyDecoder.Decoded(new String[0], new long[0], new int[0], null, false), 0);
    }

    @Test
    void findsBySliceGrowsAndPrunes() {
        KeyTable t = new KeyTable();
        KeyState[] all = new KeyState[5000];
        for (int i = 0; i < all.length; i++) {
            all[i] = state(UserMetricTest.key((1L << 32) + 100_000 + i, i % 5));
            all[i].epoch = i % 2;
            t.put(all[i]);
        }
        assertEquals(5000, t.size());
        byte[] buffer = new byte[40];
        System.arraycopy(all[1234].key, 0, buffer, 7, 16);
        assertSame(all[1234], t.get(buffer, 7, 16, KeyTable.hash(buffer, 7, 16)), "a slice of a read buffer");
        assertNull(t.get(new byte[16], 0, 16, KeyTable.hash(new byte[16], 0, 16)));
        assertNull(t.get(all[1].key, 0, 8, KeyTable.hash(all[1].key, 0, 8)), "a prefix is another key");
        t.removeIf(s -> s.epoch == 0);
        assertEquals(2500, t.size());
        assertNull(t.get(all[1234].key, 0, 16, all[1234].hash));
        assertSame(all[1235], t.get(all[1235].key, 0, 16, all[1235].hash));
        t.clear();
        assertEquals(0, t.size());
    }

    @Test
    void idsThatDifferInLowBitsSpread() {
        int a = KeyTable.hash(UserMetricTest.key(1L << 32), 0, 8);
        int b = KeyTable.hash(UserMetricTest.key((1L << 32) + 1), 0, 8);
        assertNotEquals(a & 1023, b & 1023);
    }
}
