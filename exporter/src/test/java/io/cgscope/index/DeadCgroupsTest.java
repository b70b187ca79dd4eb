package io.cgscope.index;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeadCgroupsTest {
    private final DeadCgroups dead = new DeadCgroups();

    private List<Long> ids(long key) {
        List<Long> out = new ArrayList<>();
        dead.ids(key, out::add);
        return out;
    }

    @Test
    void deathsLeaveOldestFirstAcrossGenerationsOfGrowingSize() {
        int n = 3 * DeadCgroups.MAX_GENERATION + 5; // generations of 64, 128, ... up to the maximum
        for (int i = 0; i < n; i++) {
            dead.add(1000 + i, 10L * i, 20L * i, 7 + i % 3);
        }
        assertEquals(n, dead.size());
        for (int i = 0; i < n; i++) {
            assertEquals(1000 + i, dead.oldestId(), "death " + i);
            assertEquals(10L * i, dead.oldestTick());
            assertEquals(20L * i, dead.oldestMillis());
            dead.removeOldest();
        }
        assertTrue(dead.isEmpty());
        assertEquals(List.of(), ids(7), "every generation was dropped");
        dead.add(5, 0, 0, 7);
        assertEquals(List.of(5L), ids(7), "and a new one starts");
    }

    @Test
    void aKeyListsItsDeathsNewestFirstInEachGeneration() {
        for (int i = 0; i < 200; i++) { // over the first two generations (64, 128) into the third
            dead.add(i + 1, i, i, i % 2 == 0 ? 42 : 43); // neighbouring slots in every generation
        }
        List<Long> even = ids(42);
        assertEquals(100, even.size());
        assertTrue(even.stream().allMatch(id -> id % 2 == 1), "ids of key 42 only (ids are i + 1)");
        // Oldest generation first, each newest first: the first holds ids 1..64, of which 32 have key 42.
        assertEquals(List.of(63L, 61L, 59L), even.subList(0, 3));
        assertEquals(1L, even.get(31));
        assertEquals(191L, even.get(32), "then the second generation's newest");
        assertEquals(100, ids(43).size());
        assertEquals(List.of(), ids(44));
    }

    @Test
    void aGenerationLingersUntilItsLastDeathIsEvictedThenGoesWhole() {
        for (int i = 0; i < DeadCgroups.MIN_GENERATION + 1; i++) {
            dead.add(i + 1, i, i, 9);
        }
        for (int i = 0; i < DeadCgroups.MIN_GENERATION - 1; i++) {
            dead.removeOldest();
        }
        assertEquals(DeadCgroups.MIN_GENERATION + 1, ids(9).size(), "the first generation still answers (callers check the id)");
        dead.removeOldest();
        assertEquals(List.of((long) DeadCgroups.MIN_GENERATION + 1), ids(9), "its last death evicted: gone whole");
    }
}
