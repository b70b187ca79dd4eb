package io.cgscope.index;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LongMapTest {
    @Test
    void behavesLikeAMapThroughGrowthRemovalsAndRevivedKeys() {
        LongMap<String> map = new LongMap<>();
        Map<Long, String> truth = new HashMap<>();
        Random random = new Random(42);
        for (int i = 0; i < 200_000; i++) {
            long key = 1 + random.nextInt(5_000) * 0x1_0000_0001L; // clustered, with revived keys
            if (random.nextInt(3) == 0) {
                assertEquals(truth.remove(key), map.remove(key));
            } else {
                String v = "v" + i;
                assertEquals(truth.put(key, v), map.put(key, v));
            }
        }
        assertEquals(truth.size(), map.size());
        for (Map.Entry<Long, String> e : truth.entrySet()) {
            assertEquals(e.getValue(), map.get(e.getKey()));
        }
        Map<String, Boolean> seen = new HashMap<>();
        map.forEach(v -> seen.put(v, true));
        assertEquals(truth.size(), seen.size());
        assertNull(map.get(-7));
        assertThrows(IllegalArgumentException.class, () -> map.put(0, "x"));
    }

    @Test
    void aReaderAlwaysFindsWhatStaysWhileTheWriterChurnsAndRebuilds() throws Exception {
        LongMap<Long> map = new LongMap<>();
        for (long k = 1; k <= 1_000; k++) {
            map.put(k, k); // these stay all along
        }
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!done.get() && failure.get() == null) {
                for (long k = 1; k <= 1_000; k++) {
                    Long v = map.get(k);
                    if (v == null || v != k) {
                        failure.set("key " + k + " read as " + v);
                        return;
                    }
                }
            }
        });
        for (long k = 1_001; k < 400_000; k++) { // insert and remove: tombstones, rebuilds, growth
            map.put(k, k);
            if (k > 2_000) {
                map.remove(k - 1_000);
            }
        }
        done.set(true);
        reader.join();
        assertNull(failure.get());
        assertEquals(2_000, map.size());
    }
}
