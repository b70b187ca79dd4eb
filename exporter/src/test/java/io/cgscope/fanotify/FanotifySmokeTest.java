package io.cgscope.fanotify;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.linux.Fd;
import io.cgscope.linux.Libc;
import io.cgscope.linux.Poller;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel path end to end, at the lowest level: a FILESYSTEM mark on cgroupfs through FFM sees
 * a real mkdir and rmdir with the ids the file system reports.
 */
@KernelTest
class FanotifySmokeTest {

    @Test
    void filesystemMarkReportsCreateAndDeleteOfARealCgroup() throws Exception {
        try (CgroupFs fs = CgroupFs.open(null);
             TestCgroups cgroups = new TestCgroups();
             Arena arena = Arena.ofConfined()) {
            Fd fan = Libc.fanotifyInit(Fanotify.FAN_CLASS_NOTIF | Fanotify.FAN_REPORT_DFID_NAME_TARGET
                    | Fanotify.FAN_CLOEXEC | Fanotify.FAN_NONBLOCK, Libc.O_RDONLY, "smoke");
            try {
                Libc.fanotifyMark(fan, Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_FILESYSTEM | Fanotify.FAN_MARK_ONLYDIR,
                        Fanotify.FAN_CREATE | Fanotify.FAN_DELETE | Fanotify.FAN_ONDIR,
                        fs.mountPoint().toString(), "smoke");
                long parentId = TestCgroups.id(cgroups.parent());
                Path child = cgroups.create("smoke.service");
                long childId = TestCgroups.id(child);
                TestCgroups.remove(child);

                List<FanotifyEvent> mine = new ArrayList<>();
                EventParser parser = new EventParser(fs.fsid0(), fs.fsid1());
                MemorySegment buf = arena.allocate(64 * 1024, 8);
                long deadline = System.nanoTime() + 5_000_000_000L;
                // Other cgroups may churn on the host: keep only events about our parent directory.
                Poller poller = new Poller(arena, fan);
                while (mine.size() < 2 && System.nanoTime() < deadline) {
                    poller.await(100);
                    long n = Libc.read(fan, buf);
                    if (n <= 0) {
                        continue;
                    }
                    parser.parse(buf, n, new EventParser.Sink() {
                        @Override
                        public void event(FanotifyEvent e) {
                            if (e.dirId() == parentId) {
                                mine.add(e.copy());
                            }
                        }

                        @Override
                        public void malformed(String why) {
                            throw new AssertionError(why);
                        }
                    });
                }
                assertEquals(2, mine.size(), "create and delete events of the test cgroup");
                FanotifyEvent create = mine.get(0);
                FanotifyEvent delete = mine.get(1);
                assertTrue(create.isCreate() && create.isDirectory(), "first is CREATE|ONDIR: " + create);
                assertEquals("smoke.service", new String(create.name(), StandardCharsets.UTF_8));
                assertTrue(delete.isDelete(), "second is DELETE: " + delete);
                assertEquals(childId, delete.objectId(), "the DELETE's FID is the child's kernfs id (st_ino)");
                assertEquals(CgroupFs.ROOT_ID, fs.rootId());
            } finally {
                fan.close();
            }
        }
    }
}
