package io.cgscope.fanotify;

import io.cgscope.linux.FileHandles;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.cgscope.fanotify.Fanotify.FAN_CREATE;
import static io.cgscope.fanotify.Fanotify.FAN_DELETE;
import static io.cgscope.fanotify.Fanotify.FAN_ONDIR;
import static io.cgscope.fanotify.Fanotify.FAN_Q_OVERFLOW;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventParserTest {
    private final EventParser parser = new EventParser(EventBytes.FSID0, EventBytes.FSID1);
    private final List<FanotifyEvent> events = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();

    private void parse(byte[] bytes) {
        parse(bytes, EventParser.ALL);
    }

    private void parse(byte[] bytes, long wanted) {
        parser.parse(MemorySegment.ofArray(bytes), bytes.length, wanted, new EventParser.Sink() {
            @Override
            public void event(FanotifyEvent event) {
                events.add(event.copy());
            }

            @Override
            public void malformed(String why) {
                errors.add(why);
            }
        });
    }

    @Test
    void createCarriesParentIdAndName() {
        parse(new EventBytes().event(FAN_CREATE | FAN_ONDIR, 42).dfidName(7, "nginx.service").end().bytes());
        assertEquals(List.of(), errors);
        FanotifyEvent e = events.getFirst();
        assertTrue(e.isCreate() && e.isDirectory() && !e.isDelete());
        assertEquals(7, e.dirId());
        assertEquals("nginx.service", new String(e.name(), StandardCharsets.UTF_8));
        assertEquals(FileHandles.NO_ID, e.objectId());
        assertEquals(42, e.pid());
        assertFalse(e.foreign());
    }

    @Test
    void deleteCarriesParentNameAndChildFid() {
        parse(new EventBytes().event(FAN_DELETE | FAN_ONDIR, 1).dfidName(7, "x").fid(4711).end().bytes());
        FanotifyEvent e = events.getFirst();
        assertTrue(e.isDelete());
        assertEquals(7, e.dirId());
        assertEquals(4711, e.objectId());
    }

    @Test
    void dfidWithoutNameGivesTheDirectory() {
        parse(new EventBytes().event(FAN_CREATE | FAN_ONDIR, 1).dfid(99).end().bytes());
        assertEquals(99, events.getFirst().dirId());
        assertNull(events.getFirst().name());
    }

    @Test
    void mergedMaskIsKeptWhole() {
        parse(new EventBytes().event(FAN_CREATE | FAN_DELETE | FAN_ONDIR, 1).dfidName(3, "a").fid(5).end().bytes());
        FanotifyEvent e = events.getFirst();
        assertTrue(e.isCreate() && e.isDelete());
        assertEquals(0x40000300L, e.mask());
    }

    @Test
    void severalEventsInOneBuffer() {
        EventBytes b = new EventBytes();
        for (int i = 0; i < 100; i++) {
            b.event(FAN_CREATE | FAN_ONDIR, i).dfidName(1, "c" + i).end();
            b.event(FAN_DELETE | FAN_ONDIR, i).dfidName(1, "c" + i).fid(1000 + i).end();
        }
        parse(b.bytes());
        assertEquals(200, events.size());
        assertEquals("c99", new String(events.get(198).name(), StandardCharsets.UTF_8));
        assertEquals(1099, events.get(199).objectId());
        assertEquals(List.of(), errors);
    }

    @Test
    void overflowIsAnEventWithoutRecords() {
        parse(new EventBytes().event(FAN_Q_OVERFLOW, 0).end()
                .event(FAN_CREATE | FAN_ONDIR, 1).dfidName(1, "after").end().bytes());
        assertTrue(events.get(0).isOverflow());
        assertEquals(FileHandles.NO_ID, events.get(0).dirId());
        assertEquals("after", new String(events.get(1).name(), StandardCharsets.UTF_8));
    }

    @Test
    void unknownInfoTypesAreSkippedByLength() {
        parse(new EventBytes().event(FAN_DELETE | FAN_ONDIR, 1)
                .unknown(Fanotify.FAN_EVENT_INFO_TYPE_PIDFD, 4)
                .unknown(200, 12)
                .dfidName(8, "svc").fid(9).end().bytes());
        assertEquals(List.of(), errors);
        assertEquals(8, events.getFirst().dirId());
        assertEquals(9, events.getFirst().objectId());
    }

    @Test
    void foreignFsidIsMarkedAndItsIdsIgnored() {
        parse(new EventBytes().event(FAN_CREATE | FAN_ONDIR, 1)
                .fidRecord(Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME, 1, 2, 77, "other".getBytes()).end().bytes());
        assertTrue(events.getFirst().foreign());
        assertEquals(FileHandles.NO_ID, events.getFirst().dirId());
    }

    @Test
    void nonUtf8NamesAreKeptAsBytes() {
        byte[] name = {'a', (byte) 0xff, 'b'};
        parse(new EventBytes().event(FAN_CREATE | FAN_ONDIR, 1)
                .fidRecord(Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME, EventBytes.FSID0, EventBytes.FSID1, 5, name)
                .end().bytes());
        assertArrayEquals(name, events.getFirst().name());
    }

    @Test
    void truncatedBufferReportsAndKeepsTheEventsBefore() {
        byte[] whole = new EventBytes().event(FAN_CREATE | FAN_ONDIR, 1).dfidName(1, "first").end()
                .event(FAN_CREATE | FAN_ONDIR, 1).dfidName(1, "second").end().bytes();
        byte[] cut = Arrays.copyOf(whole, whole.length - 5);
        parse(cut);
        assertEquals(1, events.size());
        assertEquals("first", new String(events.getFirst().name(), StandardCharsets.UTF_8));
        assertEquals(1, errors.size());
        assertTrue(errors.getFirst().contains("event_len"), errors.getFirst());
    }

    @Test
    void truncatedMetadataIsReported() {
        parse(new byte[10]);
        assertEquals(List.of(), events);
        assertTrue(errors.getFirst().contains("truncated event metadata"), errors.getFirst());
    }

    @Test
    void recordLongerThanItsEventSkipsOnlyThatEvent() {
        // An info header claiming 200 bytes inside an event of 24 + 8 bytes.
        ByteBuffer bad = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        bad.put((byte) 2).put((byte) 0).putShort((short) 200).putInt(0);
        byte[] bytes = new EventBytes().event(FAN_CREATE | FAN_ONDIR, 1).raw(bad.array()).end()
                .event(FAN_DELETE | FAN_ONDIR, 1).dfidName(4, "next").fid(6).end().bytes();
        parse(bytes);
        assertEquals(1, errors.size());
        assertTrue(errors.getFirst().contains("has length 200"), errors.getFirst());
        assertEquals(1, events.size(), "the following event is read at its right offset");
        assertEquals(6, events.getFirst().objectId());
    }

    @Test
    void onlyWantedEventsAreReadTheOthersSteppedOverByLength() {
        // The listing pass wants the CREATEs only: a DELETE, even a malformed one, is stepped over
        // (the applier's pass reports it), and a merged CREATE|DELETE is a CREATE too.
        ByteBuffer bad = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        bad.put((byte) 2).put((byte) 0).putShort((short) 200).putInt(0);
        byte[] bytes = new EventBytes()
                .event(FAN_DELETE | FAN_ONDIR, 1).raw(bad.array()).end()
                .event(FAN_CREATE | FAN_ONDIR, 2).dfidName(4, "made").end()
                .event(FAN_DELETE | FAN_ONDIR, 3).dfidName(4, "gone").fid(7).end()
                .event(FAN_CREATE | FAN_DELETE | FAN_ONDIR, 4).dfidName(4, "both").fid(8).end().bytes();
        parse(bytes, FAN_CREATE);
        assertEquals(List.of(), errors);
        assertEquals(List.of("made", "both"),
                events.stream().map(e -> new String(e.name(), StandardCharsets.UTF_8)).toList());
        parse(bytes);
        assertEquals(1, errors.size(), "all events: the malformed DELETE is reported");
    }

    @Test
    void eventLengthBelowMetadataStopsParsing() {
        parse(new EventBytes().event(FAN_CREATE | FAN_ONDIR, 1).eventLen(8).end().bytes());
        assertEquals(List.of(), events);
        assertEquals(1, errors.size());
    }

    @Test
    void nameWithoutNulIsReported() {
        ByteBuffer rec = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder());
        rec.put((byte) 2).put((byte) 0).putShort((short) 32).putInt(EventBytes.FSID0).putInt(EventBytes.FSID1);
        rec.putInt(8).putInt(0xfe).putLong(3).put(new byte[] {'a', 'b', 'c', 'd'});
        parse(new EventBytes().event(FAN_CREATE | FAN_ONDIR, 1).raw(rec.array()).end().bytes());
        assertEquals(List.of(), events);
        assertTrue(errors.getFirst().contains("NUL"), errors.getFirst());
    }
}
