package io.cgscope.bpf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Turns the bytes of one ring-buffer record of {@code lifecycle.bpf.c} into a
 * {@link LifecycleEvent}. Pure: no system calls; hand-built bytes test it. One parser per thread:
 * it refills one event object.
 *
 * <p>Layout ({@code struct lifecycle_event}, host byte order): id u64, parent_id u64, hierarchy
 * u32, level u16, type u8, name_len u8, then name_len bytes of name (no NUL). The ring pads the
 * record to 8 bytes, so the record may be longer than its name needs, never shorter.
 */
public final class LifecycleRecords implements BpfRing.RecordSink {
    static final int HEADER_SIZE = 24;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** Where parsed records go. */
    public interface Sink {
        /** One record; the object is reused for the next one: copy what must outlive the call. */
        void event(LifecycleEvent event);

        /** A record that cannot be read; {@code why} says what. The next record is read as usual. */
        void malformed(String why);
    }

    private final LifecycleEvent event = new LifecycleEvent();
    private Sink sink;

    /** Parses one record of {@code length} bytes at {@code offset}. */
    public void parse(MemorySegment data, long offset, int length, Sink sink) {
        if (length < HEADER_SIZE) {
            sink.malformed("lifecycle record of " + length + " bytes, shorter than its " + HEADER_SIZE + "-byte header");
            return;
        }
        long id = data.get(U64, offset);
        long parentId = data.get(U64, offset + 8);
        int hierarchy = data.get(U32, offset + 16);
        int level = Short.toUnsignedInt(data.get(U16, offset + 20));
        int type = Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, offset + 22));
        int nameLength = Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, offset + 23));
        if (HEADER_SIZE + nameLength > length) {
            sink.malformed("lifecycle record of " + length + " bytes with a name of " + nameLength + " bytes");
            return;
        }
        if (type != LifecycleEvent.MKDIR && type != LifecycleEvent.RMDIR) {
            sink.malformed("lifecycle record of unknown type " + type);
            return;
        }
        if (id == 0) {
            sink.malformed("lifecycle record without a cgroup id");
            return;
        }
        event.set(type, hierarchy, id, parentId, level, data, offset + HEADER_SIZE, nameLength);
        sink.event(event);
    }

    /** Sets where {@link #record} sends what it parses: for draining a ring straight into a sink. */
    LifecycleRecords to(Sink target) {
        this.sink = target;
        return this;
    }

    @Override
    public void record(MemorySegment data, long offset, int length) {
        parse(data, offset, length, sink);
    }
}
