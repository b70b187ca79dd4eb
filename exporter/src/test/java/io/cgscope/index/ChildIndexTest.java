package io.cgscope.index;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChildIndexTest {
    private final ChildIndex index = new ChildIndex();

    private static Entry entry(long id, long parent, String name) {
        return new Entry(id, parent, name.getBytes(StandardCharsets.UTF_8), State.LIVE, Entry.UNKNOWN, Entry.UNKNOWN,
                Source.EVENT);
    }

    private List<Long> ids(long parent, String name) {
        List<Long> out = new ArrayList<>();
        index.ids(parent, name.getBytes(StandardCharsets.UTF_8), out);
        return out;
    }

    @Test
    void sameNameInOneParentIsAChainNewestFirstAndRemovableAnywhere() {
        Entry[] e = new Entry[5];
        for (int i = 0; i < e.length; i++) {
            e[i] = entry(10 + i, 1, "app.service");
            index.add(e[i]);
        }
        index.add(entry(99, 2, "app.service")); // same name, other parent
        index.add(entry(98, 1, "other.service"));
        assertEquals(List.of(14L, 13L, 12L, 11L, 10L), ids(1, "app.service"));
        index.remove(e[2]); // middle
        index.remove(e[4]); // head
        index.remove(e[0]); // tail
        assertEquals(List.of(13L, 11L), ids(1, "app.service"));
        assertEquals(List.of(99L), ids(2, "app.service"));
        assertEquals(List.of(98L), ids(1, "other.service"));
        index.remove(e[1]);
        index.remove(e[3]);
        assertEquals(List.of(), ids(1, "app.service"));
        index.add(entry(20, 1, "app.service"));
        assertEquals(List.of(20L), ids(1, "app.service"));
    }

    @Test
    void aReaderOnARemovedEntryStillReachesTheOlderOnes() {
        Entry a = entry(1, 1, "x");
        Entry b = entry(2, 1, "x");
        Entry c = entry(3, 1, "x");
        index.add(a);
        index.add(b);
        index.add(c);
        Entry standingOn = c; // a reader that read the head before the removal
        index.remove(c);
        index.remove(b);
        List<Long> seen = new ArrayList<>();
        for (Entry e = standingOn; e != null; e = e.older) {
            seen.add(e.id());
        }
        assertEquals(List.of(3L, 2L, 1L), seen, "removed entries keep their links: a walk ends at the tail");
        assertEquals(List.of(1L), ids(1, "x"));
    }
}
