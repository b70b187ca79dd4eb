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
    void risingIdsRemovedOldestFirstAsUnderChurn() {
        // Cgroup ids rise (each cgroup's files take inode numbers too: strides of ~10-100), and
        // under churn the oldest deaths are evicted first: runs of neighbouring slots fill and empty.
        LongMap<Long> map = new LongMap<>();
        Map<Long, Long> truth = new HashMap<>();
        Random random = new Random(7);
        java.util.ArrayDeque<Long> order = new java.util.ArrayDeque<>();
        long id = 1L << 32; // kernfs keeps a generation in the upper 32 bits (1 on the test machine)
        for (int i = 0; i < 300_000; i++) {
            id += 1 + random.nextInt(2 * (1 + i % 97));
            assertNull(map.put(id, id));
            truth.put(id, id);
            order.add(id);
            if (order.size() > 20_000) {
                long old = order.poll();
                assertEquals(truth.remove(old), map.remove(old));
                assertNull(map.get(old));
            }
            assertNull(map.get(id + 1 + random.nextInt(1000)), "an id not yet handed out"); // probe for the unseen
        }
        assertEquals(truth.size(), map.size());
        for (long k : truth.keySet()) {
            assertEquals(k, map.get(k));
        }
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
