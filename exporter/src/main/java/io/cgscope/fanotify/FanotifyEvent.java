package io.cgscope.fanotify;

import io.cgscope.linux.FileHandles;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One parsed fanotify event of a FID-reporting group on cgroupfs. The parser hands out ONE
 * instance per parse, refilled for each event (the reader sees tens of thousands of events a
 * second; nothing per event is allocated unless the sink asks for the name): valid only inside
 * {@link EventParser.Sink#event}. {@link #copy()} keeps one beyond that.
 *
 * <p>Fields: {@code mask} may hold several events merged into one (CREATE|DELETE); {@code pid}
 * caused it (0 for an overflow); {@code dirId} is the kernfs id of the directory the name is in
 * (DFID_NAME or DFID), {@code objectId} that of the object itself (FID record, e.g. the deleted
 * child), each {@link FileHandles#NO_ID} when absent; {@code foreign}: an info record carried a file system
 * id other than the watched cgroupfs.
 */
public final class FanotifyEvent {
    private long mask;
    private int pid;
    private long dirId;
    private long objectId;
    private boolean foreign;
    /** Where the name's bytes are (the read buffer, or a copy's own array); length -1: no name. */
    private MemorySegment nameSource = MemorySegment.NULL;
    private long nameOffset;
    private int nameLength = -1;

    FanotifyEvent() {
    }

    void set(long mask, int pid, long dirId, long objectId, boolean foreign, MemorySegment nameSource,
             long nameOffset, int nameLength) {
        this.mask = mask;
        this.pid = pid;
        this.dirId = dirId;
        this.objectId = objectId;
        this.foreign = foreign;
        this.nameSource = nameSource;
        this.nameOffset = nameOffset;
        this.nameLength = nameLength;
    }

    /** An event that stays valid after the sink returns (tests, logs). */
    public FanotifyEvent copy() {
        FanotifyEvent c = new FanotifyEvent();
        byte[] n = name();
        c.set(mask, pid, dirId, objectId, foreign, n == null ? MemorySegment.NULL : MemorySegment.ofArray(n), 0,
                n == null ? -1 : n.length);
        return c;
    }

    public long mask() {
        return mask;
    }

    public int pid() {
        return pid;
    }

    public long dirId() {
        return dirId;
    }

    public long objectId() {
        return objectId;
    }

    public boolean foreign() {
        return foreign;
    }

    public boolean hasName() {
        return nameLength >= 0;
    }

    /** The entry's name within {@code dirId} (bytes, not necessarily UTF-8), a new array each call; or null. */
    public byte[] name() {
        if (nameLength < 0) {
            return null;
        }
        // Not asSlice(..).toArray(JAVA_BYTE): on JDK 25 that also allocated a new byte layout per call
        // (withOrder); JFR's allocation samples under churn d showed it next to the entries and names.
        byte[] name = new byte[nameLength];
        MemorySegment.copy(nameSource, ValueLayout.JAVA_BYTE, nameOffset, name, 0, nameLength);
        return name;
    }

    /** Where the name's bytes are (valid inside the sink call only), for a comparison without a copy. */
    MemorySegment nameSource() {
        return nameSource;
    }

    long nameOffset() {
        return nameOffset;
    }

    /** The name's length in bytes, -1 when there is none. */
    int nameLength() {
        return nameLength;
    }

    public boolean isOverflow() {
        return (mask & Fanotify.FAN_Q_OVERFLOW) != 0;
    }

    public boolean isCreate() {
        return (mask & Fanotify.FAN_CREATE) != 0;
    }

    public boolean isDelete() {
        return (mask & Fanotify.FAN_DELETE) != 0;
    }

    public boolean isDirectory() {
        return (mask & Fanotify.FAN_ONDIR) != 0;
    }

    @Override
    public String toString() {
        byte[] n = name();
        return "FanotifyEvent[mask=0x" + Long.toHexString(mask) + ", pid=" + pid + ", dirId=" + dirId + ", name="
                + (n == null ? "null" : new String(n, java.nio.charset.StandardCharsets.UTF_8)) + ", objectId="
                + objectId + ", foreign=" + foreign + "]";
    }
}
