package io.cgscope.fanotify;

import io.cgscope.linux.FileHandles;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.cgscope.fanotify.Fanotify.FAN_EVENT_INFO_TYPE_DFID;
import static io.cgscope.fanotify.Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME;
import static io.cgscope.fanotify.Fanotify.FAN_EVENT_INFO_TYPE_FID;
import static io.cgscope.fanotify.Fanotify.FAN_EVENT_METADATA_LEN;

/**
 * Turns the bytes of one {@code read(2)} on a fanotify fd into {@link FanotifyEvent}s. Pure: no
 * system calls; hand-built bytes test it. One parser per thread: it refills one event object.
 *
 * <p>Layout ({@code <linux/fanotify.h>}): {@code struct fanotify_event_metadata} (event_len u32,
 * vers u8, reserved u8, metadata_len u16, mask u64, fd s32, pid s32), then info records until
 * event_len, each a header (info_type u8, pad u8, len u16) and, for the FID kinds, fsid (2 x s32),
 * {@code struct file_handle} (handle_bytes u32, handle_type s32, f_handle) and for DFID_NAME a
 * NUL-terminated name; {@code len} includes padding. Unknown info types are skipped by their length.
 */
public final class EventParser {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final int INFO_HEADER_LEN = 4;
    private static final int FSID_LEN = 8;
    private static final int FILE_HANDLE_HEADER_LEN = 8;
    /** Every event, whatever its mask ({@link #parse(MemorySegment, long, long, Sink)}). */
    public static final long ALL = -1L;

    /** Where parsed events go. */
    public interface Sink {
        /** One event; the object is reused for the next one: copy what must outlive the call. */
        void event(FanotifyEvent event);

        /** A record that cannot be read; {@code why} says what and where. Parsing goes on where it safely can. */
        void malformed(String why);
    }

    private final int fsid0;
    private final int fsid1;
    private final FanotifyEvent event = new FanotifyEvent();

    /** @param fsid0 first word of the watched file system's {@code f_fsid}; events of others are marked foreign */
    public EventParser(int fsid0, int fsid1) {
        this.fsid0 = fsid0;
        this.fsid1 = fsid1;
    }

    /** Parses {@code buf[0, length)}: all events in it, in order. */
    public void parse(MemorySegment buf, long length, Sink sink) {
        parse(buf, length, ALL, sink);
    }

    /**
     * Parses the events of {@code buf[0, length)} whose mask has a bit of {@code wanted}, in order;
     * the others are only stepped over by their length (their records are not read, nor reported
     * when malformed: a pass over the same buffer that wants them does that).
     */
    public void parse(MemorySegment buf, long length, long wanted, Sink sink) {
        long offset = 0;
        while (offset < length) {
            long remaining = length - offset;
            if (remaining < FAN_EVENT_METADATA_LEN) {
                sink.malformed("truncated event metadata at byte " + offset + ": " + remaining + " bytes left");
                return;
            }
            long eventLen = Integer.toUnsignedLong(buf.get(U32, offset));
            int version = Byte.toUnsignedInt(buf.get(ValueLayout.JAVA_BYTE, offset + 4));
            int metadataLen = Short.toUnsignedInt(buf.get(U16, offset + 6));
            if (eventLen < FAN_EVENT_METADATA_LEN || eventLen > remaining) {
                // Without a trustworthy length nothing after this point can be located.
                sink.malformed("event at byte " + offset + " has event_len " + eventLen + " with " + remaining
                        + " bytes left");
                return;
            }
            if (version != Fanotify.FANOTIFY_METADATA_VERSION || metadataLen < FAN_EVENT_METADATA_LEN
                    || metadataLen > eventLen) {
                sink.malformed("event at byte " + offset + " has metadata version " + version + " and length "
                        + metadataLen);
                offset += eventLen;
                continue;
            }
            if ((buf.get(U64, offset + 8) & wanted) != 0) {
                parseEvent(buf, offset, eventLen, metadataLen, sink);
            }
            offset += eventLen;
        }
    }

    private void parseEvent(MemorySegment buf, long start, long eventLen, int metadataLen, Sink sink) {
        long mask = buf.get(U64, start + 8);
        int pid = buf.get(U32, start + 20);
        long dirId = FileHandles.NO_ID;
        long objectId = FileHandles.NO_ID;
        long nameStart = 0;
        int nameLength = -1;
        boolean foreign = false;

        long end = start + eventLen;
        long info = start + metadataLen;
        while (info < end) {
            if (end - info < INFO_HEADER_LEN) {
                sink.malformed("truncated info header at byte " + info);
                return;
            }
            int type = Byte.toUnsignedInt(buf.get(ValueLayout.JAVA_BYTE, info));
            int len = Short.toUnsignedInt(buf.get(U16, info + 2));
            if (len < INFO_HEADER_LEN || len > end - info) {
                sink.malformed("info record type " + type + " at byte " + info + " has length " + len
                        + " with " + (end - info) + " bytes left in its event");
                return;
            }
            if (type == FAN_EVENT_INFO_TYPE_FID || type == FAN_EVENT_INFO_TYPE_DFID
                    || type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
                long body = info + INFO_HEADER_LEN;
                long recordEnd = info + len;
                if (recordEnd - body < FSID_LEN + FILE_HANDLE_HEADER_LEN) {
                    sink.malformed("info record type " + type + " at byte " + info + " too short for a file handle");
                    return;
                }
                boolean sameFs = buf.get(U32, body) == fsid0 && buf.get(U32, body + 4) == fsid1;
                long handle = body + FSID_LEN;
                long handleBytes = Integer.toUnsignedLong(buf.get(U32, handle));
                long handleData = handle + FILE_HANDLE_HEADER_LEN;
                if (handleBytes > recordEnd - handleData) {
                    sink.malformed("file handle of " + handleBytes + " bytes at byte " + handle
                            + " overruns its info record");
                    return;
                }
                // kernfs handles are 8 bytes: the node id. Anything else cannot be a cgroup.
                long id = handleBytes == 8 ? buf.get(U64, handleData) : FileHandles.NO_ID;
                if (!sameFs) {
                    foreign = true;
                } else if (type == FAN_EVENT_INFO_TYPE_FID) {
                    objectId = id;
                } else {
                    dirId = id;
                    if (type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
                        nameStart = handleData + handleBytes;
                        long nul = nameStart;
                        while (nul < recordEnd && buf.get(ValueLayout.JAVA_BYTE, nul) != 0) {
                            nul++;
                        }
                        if (nul == recordEnd) {
                            sink.malformed("name at byte " + nameStart + " is not NUL-terminated in its record");
                            return;
                        }
                        nameLength = (int) (nul - nameStart);
                    }
                }
            }
            // PIDFD, ERROR, OLD/NEW_DFID_NAME (renames: cgroup2 refuses them) and unknown types: skipped by length.
            info += len;
        }
        event.set(mask, pid, dirId, objectId, foreign, buf, nameStart, nameLength);
        sink.event(event);
    }
}
