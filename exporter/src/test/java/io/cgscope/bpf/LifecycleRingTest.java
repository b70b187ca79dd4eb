package io.cgscope.bpf;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The ring-buffer consumer and the lifecycle record parser on hand-built bytes laid out as the
 * kernel lays them out ({@code kernel/bpf/ringbuf.c}): positions, 8-byte headers with the busy and
 * discard bits, records padded to 8 bytes, and a data area mapped twice.
 */
class LifecycleRingTest {
    private static final int SIZE = 1024;
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment consumer = arena.allocate(8, 8);
    private final MemorySegment producer = arena.allocate(8, 8);
    /** Twice the ring: what the kernel maps twice in a row, written twice here. */
    private final MemorySegment data = arena.allocate(2 * SIZE, 8);
    private final BpfRing ring = new BpfRing(consumer, producer, data, SIZE, () -> { });
    private long producerPos;

    /** Appends a record as a producer would; {@code flags} are the header's busy/discard bits. */
    private void produce(byte[] record, int flags) {
        long at = producerPos & (SIZE - 1);
        write(at, record.length | flags, record);
        producerPos += (record.length + BpfRing.HEADER_SIZE + 7) & ~7L;
        producer.set(ValueLayout.JAVA_LONG, 0, producerPos);
    }

    private void write(long at, int header, byte[] record) {
        for (long copy : new long[] {0, SIZE}) {
            // the record's bytes at their place in both mappings, wrapping as the pages do
            data.set(ValueLayout.JAVA_INT_UNALIGNED, (at + copy) % (2 * SIZE), header);
            for (int i = 0; i < record.length; i++) {
                long p = (at + BpfRing.HEADER_SIZE + i + copy) % (2 * SIZE);
                data.set(ValueLayout.JAVA_BYTE, p, record[i]);
            }
        }
    }

    static byte[] record(int type, int hierarchy, long id, long parentId, int level, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment r = MemorySegment.ofArray(new byte[LifecycleRecords.HEADER_SIZE + n.length]);
        r.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, id);
        r.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, parentId);
        r.set(ValueLayout.JAVA_INT_UNALIGNED, 16, hierarchy);
        r.set(ValueLayout.JAVA_SHORT_UNALIGNED, 20, (short) level);
        r.set(ValueLayout.JAVA_BYTE, 22, (byte) type);
        r.set(ValueLayout.JAVA_BYTE, 23, (byte) n.length);
        MemorySegment.copy(n, 0, r, ValueLayout.JAVA_BYTE, LifecycleRecords.HEADER_SIZE, n.length);
        return r.toArray(ValueLayout.JAVA_BYTE);
    }

    private final List<String> seen = new ArrayList<>();
    private final LifecycleRecords.Sink sink = new LifecycleRecords.Sink() {
        @Override
        public void event(LifecycleEvent e) {
            seen.add(e.toString());
        }

        @Override
        public void malformed(String why) {
            seen.add("malformed: " + why);
        }
    };
    private final LifecycleRecords records = new LifecycleRecords();

    private int drain() {
        return ring.drain(records.to(sink));
    }

    @Test
    void recordsArriveInOrderAndTheConsumerPositionIsPublished() {
        produce(record(1, 0, 100, 1, 1, "a.slice"), 0);
        produce(record(2, 0, 100, 1, 1, "a.slice"), 0);
        assertEquals(2, drain());
        assertEquals(List.of("mkdir hierarchy 0 id 100 parent 1 level 1 name a.slice",
                "rmdir hierarchy 0 id 100 parent 1 level 1 name a.slice"), seen);
        assertEquals(producerPos, consumer.get(ValueLayout.JAVA_LONG, 0), "space handed back to the producers");
        assertEquals(0, drain(), "nothing new");
    }

    @Test
    void aRecordStillBeingWrittenStopsTheDrainAndADiscardedOneIsSkipped() {
        produce(record(1, 0, 100, 1, 1, "first"), 0);
        produce(record(1, 0, 101, 1, 1, "discarded"), BpfRing.DISCARD_BIT);
        produce(record(1, 0, 102, 1, 1, "third"), 0);
        long busyAt = producerPos;
        produce(record(1, 0, 103, 1, 1, "busy"), BpfRing.BUSY_BIT);
        produce(record(1, 0, 104, 1, 1, "after"), 0);
        assertEquals(2, drain());
        assertEquals(busyAt, consumer.get(ValueLayout.JAVA_LONG, 0), "stopped at the busy record");
        // committed: the header's busy bit cleared, as bpf_ringbuf_commit does
        write(busyAt & (SIZE - 1), record(1, 0, 103, 1, 1, "busy").length, record(1, 0, 103, 1, 1, "busy"));
        assertEquals(2, drain());
        assertEquals(List.of("first", "third", "busy", "after"),
                seen.stream().map(s -> s.substring(s.lastIndexOf(' ') + 1)).toList());
    }

    @Test
    void aRecordWrappingAroundTheEndReadsAsOnePiece() {
        // 40-byte records (header 8, 24 + 8 of record): the 26th starts at 1000 and wraps past 1024
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 6; i++) {
                produce(record(1, 0, 1000 + round * 10 + i, 1, 1, "name" + i + "xy"), 0);
            }
            assertEquals(6, drain());
        }
        assertEquals(30, seen.size());
        assertEquals("mkdir hierarchy 0 id 1045 parent 1 level 1 name name5xy", seen.getLast());
    }

    @Test
    void malformedRecordsAreReportedAndSkipped() {
        produce(new byte[10], 0);
        produce(record(9, 0, 100, 1, 1, "x"), 0);
        byte[] lying = record(1, 0, 100, 1, 1, "x");
        lying[23] = (byte) 200; // a name longer than the record
        produce(lying, 0);
        produce(record(1, 0, 0, 1, 1, "no-id"), 0);
        produce(record(2, 3, 7, 2, 1, "ok"), 0);
        assertEquals(5, drain(), "records handed over, good or not");
        assertEquals(List.of("malformed: lifecycle record of 10 bytes, shorter than its 24-byte header",
                "malformed: lifecycle record of unknown type 9",
                "malformed: lifecycle record of 25 bytes with a name of 200 bytes",
                "malformed: lifecycle record without a cgroup id",
                "rmdir hierarchy 3 id 7 parent 2 level 1 name ok"), seen);
    }

    @Test
    void namesAreBytesAndTheLongestFits() {
        String longest = "x".repeat(255);
        produce(record(1, 0, 5, 1, 1, longest), 0);
        LifecycleEvent[] kept = new LifecycleEvent[1];
        ring.drain(records.to(new LifecycleRecords.Sink() {
            @Override
            public void event(LifecycleEvent e) {
                kept[0] = e.copy();
            }

            @Override
            public void malformed(String why) {
                throw new AssertionError(why);
            }
        }));
        assertEquals(longest, new String(kept[0].name(), StandardCharsets.UTF_8));
    }
}
