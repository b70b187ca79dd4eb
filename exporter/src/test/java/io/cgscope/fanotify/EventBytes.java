package io.cgscope.fanotify;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds fanotify event bytes by hand, laid out as {@code <linux/fanotify.h>} says, for parser tests. */
final class EventBytes {
    static final int FSID0 = 0x1234_5678;
    static final int FSID1 = 0x0abc_def0;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Starts an event; finish it with {@link Event#end()}. */
    Event event(long mask, int pid) {
        return new Event(mask, pid);
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    final class Event {
        private final long mask;
        private final int pid;
        private final ByteArrayOutputStream infos = new ByteArrayOutputStream();
        private Integer eventLenOverride;

        Event(long mask, int pid) {
            this.mask = mask;
            this.pid = pid;
        }

        Event dfidName(long dirId, String name) {
            return fidRecord(Fanotify.FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, dirId,
                    name.getBytes(StandardCharsets.UTF_8));
        }

        Event fid(long id) {
            return fidRecord(Fanotify.FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, id, null);
        }

        Event dfid(long id) {
            return fidRecord(Fanotify.FAN_EVENT_INFO_TYPE_DFID, FSID0, FSID1, id, null);
        }

        Event fidRecord(int type, int fsid0, int fsid1, long id, byte[] name) {
            int bodyLen = 4 + 8 + 8 + 8 + (name == null ? 0 : name.length + 1);
            int len = (bodyLen + 3) & ~3; // padded to 4 bytes, as the kernel does
            ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.nativeOrder());
            b.put((byte) type).put((byte) 0).putShort((short) len);
            b.putInt(fsid0).putInt(fsid1);
            b.putInt(8).putInt(0xfe).putLong(id);
            if (name != null) {
                b.put(name).put((byte) 0);
            }
            infos.writeBytes(b.array());
            return this;
        }

        /** An info record of a type the parser does not know, with some payload. */
        Event unknown(int type, int payload) {
            int len = 4 + payload;
            ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.nativeOrder());
            b.put((byte) type).put((byte) 0).putShort((short) len);
            for (int i = 0; i < payload; i++) {
                b.put((byte) 0x5a);
            }
            infos.writeBytes(b.array());
            return this;
        }

        /** Raw bytes appended to the info area (to build malformed records). */
        Event raw(byte[] bytes) {
            infos.writeBytes(bytes);
            return this;
        }

        Event eventLen(int len) {
            eventLenOverride = len;
            return this;
        }

        EventBytes end() {
            int len = 24 + infos.size();
            ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder());
            b.putInt(eventLenOverride != null ? eventLenOverride : len).put((byte) 3).put((byte) 0).putShort((short) 24);
            b.putLong(mask).putInt(-1).putInt(pid);
            out.writeBytes(b.array());
            out.writeBytes(infos.toByteArray());
            return EventBytes.this;
        }
    }
}
