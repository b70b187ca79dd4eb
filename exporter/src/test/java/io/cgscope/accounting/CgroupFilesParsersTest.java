package io.cgscope.accounting;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.cgscope.accounting.Fixtures.bytes;
import static io.cgscope.accounting.Fixtures.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cgroupfs parsers on real file contents (this machine's kernel, the kernel documentation's
 * examples) and on hand-built odd ones: missing fields and lines, unknown keys, odd devices,
 * truncated and malformed text. A parser never reads past the length it is given.
 */
class CgroupFilesParsersTest {
    private static final int BOTH = 1 << PressureFile.SOME | 1 << PressureFile.FULL;

    private static long[] pressure(byte[] b, int expectMask) {
        long[] out = {-7, -7, -7, -7};
        assertEquals(expectMask, PressureFile.parse(b, b.length, out, 1));
        assertEquals(-7, out[0], "nothing before the offset is written");
        assertEquals(-7, out[3], "nothing after the two slots is written");
        return Arrays.copyOfRange(out, 1, 3);
    }

    @Test
    void pressureFilesOfThisKernel() {
        assertArrayEquals(new long[] {2560125, 2004779}, pressure(bytes("v2-child-cpu.pressure"), BOTH));
        assertArrayEquals(new long[] {78, 78}, pressure(bytes("v2-child-io.pressure"), BOTH));
        assertArrayEquals(new long[] {0, 0}, pressure(bytes("v2-child-memory.pressure"), BOTH));
        assertArrayEquals(new long[] {251881039, 0}, pressure(bytes("v2-root-cpu.pressure"), BOTH));
        assertArrayEquals(new long[] {16854658, 13131087}, pressure(bytes("v2-root-io.pressure"), BOTH));
    }

    @Test
    void pressureFilesOfTheDocumentation() {
        // psi.rst: cpu has only the some line (before 5.13); memory and io have both
        long[] cpu = pressure(bytes("doc-psi-cpu.pressure"), 1 << PressureFile.SOME);
        assertEquals(0, cpu[0]);
        assertEquals(-7, cpu[1], "no full line: the slot is left as it was");
        assertArrayEquals(new long[] {0, 0}, pressure(bytes("doc-psi-memory.pressure"), BOTH));
    }

    @Test
    void pressureOddLines() {
        // irq.pressure has only full; fields in another order; a total beyond 2^63; CRLF; no newline at the end
        assertArrayEquals(new long[] {-7, 42}, pressure(text("full avg10=1.00 avg60=0.50 avg300=0.10 total=42\n"),
                1 << PressureFile.FULL));
        assertArrayEquals(new long[] {5, 9}, pressure(text("some total=5 avg10=1.00\r\nfull total=9"), BOTH));
        assertArrayEquals(new long[] {-7, 3}, pressure(text("some total=99999999999999999999\nfull total=3\n"),
                1 << PressureFile.FULL));
        // unknown kinds, a line without total, "total" as a prefix of another key, a negative total
        assertArrayEquals(new long[] {-7, -7}, pressure(text("partial total=1\nsome avg10=0.00\nfull totals=3\n"), 0));
        assertArrayEquals(new long[] {-7, -7}, pressure(text("some total=-1\nfull total=\n"), 0));
        assertArrayEquals(new long[] {-7, -7}, pressure(text(""), 0));
    }

    @Test
    void pressureReadsOnlyTheLengthGiven() {
        byte[] b = text("some avg10=0.00 total=123\nfull avg10=0.00 total=456\n");
        long[] out = new long[2];
        int cut = new String(b).indexOf("full") + 12; // "full avg10=0" and no total
        assertEquals(1 << PressureFile.SOME, PressureFile.parse(b, cut, out, 0));
        assertEquals(123, out[0]);
        assertEquals(1 << PressureFile.SOME, PressureFile.parse(b, new String(b).indexOf("total=123") + 8, out, 0),
                "a number cut short is what was read");
        assertEquals(12, out[0]);
        assertEquals(BOTH, PressureFile.parse(b, 10_000, out, 0), "a length past the array is bounded by it");
    }

    private static final FlatKeyedFile.Keys CPU_V2 = FlatKeyedFile.Keys.of("nr_periods", "nr_throttled",
            "throttled_usec", "usage_usec");
    private static final FlatKeyedFile.Keys CPU_V1 = FlatKeyedFile.Keys.of("nr_periods", "nr_throttled",
            "throttled_time");

    @Test
    void cpuStatOfThisKernel() {
        long[] out = new long[4];
        byte[] root = bytes("v2-root-cpu.stat");
        assertEquals(1L << 3, FlatKeyedFile.parse(root, root.length, CPU_V2, out, 0),
                "no cpu controller in cgroup2 here: only the usage keys");
        assertEquals(937943026, out[3]);
        byte[] child = bytes("v2-nocontroller-cpu.stat");
        assertEquals(1L << 3, FlatKeyedFile.parse(child, child.length, CPU_V2, out, 0));
        assertEquals(1294713, out[3]);
        byte[] v1 = bytes("v1-throttled-cpu.stat");
        assertEquals(7L, FlatKeyedFile.parse(v1, v1.length, CPU_V1, out, 0));
        assertArrayEquals(new long[] {11, 10, 485125006}, Arrays.copyOf(out, 3));
        byte[] v1root = bytes("v1-root-cpu.stat");
        assertEquals(7L, FlatKeyedFile.parse(v1root, v1root.length, CPU_V1, out, 0));
        assertArrayEquals(new long[] {0, 0, 0}, Arrays.copyOf(out, 3));
    }

    @Test
    void cpuStatWithTheControllerAsTheDocumentationListsIt() {
        // cgroup-v2.rst, cpu.stat: usage_usec, user_usec, system_usec, and with the controller
        // nr_periods, nr_throttled, throttled_usec, nr_bursts, burst_usec
        byte[] b = text("usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 300\nnr_throttled 20\n"
                + "throttled_usec 1500000\nnr_bursts 0\nburst_usec 0\n");
        long[] out = new long[4];
        assertEquals(15L, FlatKeyedFile.parse(b, b.length, CPU_V2, out, 0));
        assertArrayEquals(new long[] {300, 20, 1500000, 10}, out);
    }

    @Test
    void memoryStatV1OfThisKernel() {
        FlatKeyedFile.Keys keys = FlatKeyedFile.Keys.of("total_rss", "total_cache", "total_shmem",
                "total_inactive_file", "hierarchical_memory_limit", "no_such_key");
        byte[] b = bytes("v1-memory.stat");
        long[] out = new long[6];
        assertEquals(0b11111L, FlatKeyedFile.parse(b, b.length, keys, out, 0));
        assertArrayEquals(new long[] {2617344, 3756032, 0, 831488, 9223372036854771712L, 0}, out);
        assertTrue(SingleValueFile.isV1Unlimited(out[4]));
    }

    @Test
    void memoryStatV2AsTheDocumentationListsIt() {
        // cgroup-v2.rst, memory.stat: "new entries can show up in the middle": keys are found by name
        byte[] b = text("anon 1048576\nfile 2097152\nkernel 409600\nkernel_stack 16384\npagetables 4096\n"
                + "sock 0\nvmalloc 0\nshmem 8192\nfile_mapped 0\ninactive_anon 1040384\nactive_anon 8192\n"
                + "inactive_file 1572864\nactive_file 524288\nunevictable 0\npgfault 1024\n");
        FlatKeyedFile.Keys keys = FlatKeyedFile.Keys.of("anon", "file", "kernel", "sock", "shmem", "inactive_file");
        long[] out = new long[6];
        assertEquals(0b111111L, FlatKeyedFile.parse(b, b.length, keys, out, 0));
        assertArrayEquals(new long[] {1048576, 2097152, 409600, 0, 8192, 1572864}, out);
    }

    @Test
    void memoryEventsAndOomControl() {
        FlatKeyedFile.Keys events = FlatKeyedFile.Keys.of("low", "high", "max", "oom", "oom_kill", "oom_group_kill");
        // cgroup-v2.rst's keys; a kernel before 5.17 has no oom_group_kill
        byte[] old = text("low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\n");
        long[] out = new long[6];
        assertEquals(0b11111L, FlatKeyedFile.parse(old, old.length, events, out, 0));
        assertArrayEquals(new long[] {0, 12, 3, 1, 1, 0}, out);
        byte[] v1 = bytes("v1-memory.oom_control");
        long[] oom = new long[1];
        assertEquals(1L, FlatKeyedFile.parse(v1, v1.length, FlatKeyedFile.Keys.of("oom_kill"), oom, 0));
        assertEquals(0, oom[0]);
    }

    @Test
    void flatKeyedOddLines() {
        FlatKeyedFile.Keys keys = FlatKeyedFile.Keys.of("a", "ab", "b");
        long[] out = {-1, -1, -1};
        // a key that is a prefix of another, blanks, CRLF, a negative and a fractional value, no value, a bare key
        byte[] b = text("ab  7\r\na\t5\nb -3\nb 1.5\nb\n\n   \nzz 9 9\nb 12");
        assertEquals(0b111L, FlatKeyedFile.parse(b, b.length, keys, out, 0));
        assertArrayEquals(new long[] {5, 7, 12}, out);
        long[] cut = {-1, -1, -1};
        assertEquals(0b010L, FlatKeyedFile.parse(b, 5, keys, cut, 0), "only \"ab  7\" was given");
        assertArrayEquals(new long[] {-1, 7, -1}, cut);
    }

    @Test
    void singleValues() {
        assertEquals(7979008, SingleValueFile.parse(bytes("v1-memory.usage_in_bytes"), 100));
        long limit = SingleValueFile.parse(bytes("v1-memory.limit_in_bytes"), 100);
        assertEquals(9223372036854771712L, limit);
        assertTrue(SingleValueFile.isV1Unlimited(limit));
        assertFalse(SingleValueFile.isV1Unlimited(512L << 20));
        assertEquals(130383872, SingleValueFile.parse(bytes("v1-memory.max_usage_in_bytes"), 100));
        assertEquals(SingleValueFile.UNLIMITED, SingleValueFile.parse(bytes("v1-cpu.cfs_quota_us"), 100));
        assertEquals(20000, SingleValueFile.parse(bytes("v1-limited-cpu.cfs_quota_us"), 100));
        assertEquals(100000, SingleValueFile.parse(bytes("v1-cpu.cfs_period_us"), 100));
        assertEquals(2, SingleValueFile.parse(bytes("v1-pids.current"), 100));
        assertEquals(64, SingleValueFile.parse(bytes("v1-limited-pids.max"), 100));
        assertEquals(SingleValueFile.UNLIMITED, SingleValueFile.parse(text("max\n"), 4));
        assertEquals(SingleValueFile.ABSENT, SingleValueFile.parse(text(""), 0));
        assertEquals(SingleValueFile.ABSENT, SingleValueFile.parse(text("maximum\n"), 8));
        assertEquals(SingleValueFile.ABSENT, SingleValueFile.parse(text("-2\n"), 3));
        assertEquals(SingleValueFile.ABSENT, SingleValueFile.parse(text("99999999999999999999\n"), 21));
        assertEquals(12, SingleValueFile.parse(text("123\n"), 2), "only the length given is read");
    }

    @Test
    void cpuMax() {
        long[] out = new long[2];
        byte[] doc = bytes("doc-cpu.max");
        assertTrue(SingleValueFile.parsePair(doc, doc.length, out, 0));
        assertArrayEquals(new long[] {SingleValueFile.UNLIMITED, 100000}, out);
        assertTrue(SingleValueFile.parsePair(text("50000 100000\n"), 13, out, 0));
        assertArrayEquals(new long[] {50000, 100000}, out);
        long[] untouched = {-1, -1};
        assertFalse(SingleValueFile.parsePair(text("50000\n"), 6, untouched, 0), "one value only");
        assertFalse(SingleValueFile.parsePair(text("50000 0\n"), 8, untouched, 0), "a zero period");
        assertFalse(SingleValueFile.parsePair(text("50000 100000 7\n"), 15, untouched, 0), "a third value");
        assertFalse(SingleValueFile.parsePair(text("x 100000\n"), 9, untouched, 0));
        assertArrayEquals(new long[] {-1, -1}, untouched);
    }

    private static IoStatFile.Rows v2(String s) {
        IoStatFile.Rows rows = new IoStatFile.Rows();
        byte[] b = text(s);
        IoStatFile.parseV2(b, b.length, rows);
        return rows;
    }

    @Test
    void ioStatOfTheDocumentation() {
        IoStatFile.Rows rows = new IoStatFile.Rows();
        byte[] b = bytes("doc-io.stat");
        IoStatFile.parseV2(b, b.length, rows);
        assertEquals(2, rows.size());
        assertEquals(8, rows.major(0));
        assertEquals(16, rows.minor(0));
        assertEquals(1459200, rows.value(0, IoStatFile.RBYTES));
        assertEquals(314773504, rows.value(0, IoStatFile.WBYTES));
        assertEquals(192, rows.value(0, IoStatFile.RIOS));
        assertEquals(353, rows.value(0, IoStatFile.WIOS));
        assertEquals(0, rows.minor(1));
        assertEquals(50331648, rows.value(1, IoStatFile.DBYTES));
        assertEquals(3021, rows.value(1, IoStatFile.DIOS));
        for (int w = 0; w < IoStatFile.WORDS; w++) {
            assertTrue(rows.has(0, w) && rows.has(1, w));
        }
    }

    @Test
    void ioStatOddDevicesAndFields() {
        // iocost and iolatency fields; a device with only some keys; major 259 (NVMe), a large minor;
        // lines that are no device; a repeated device adds to its row; a minor beyond 20 bits
        IoStatFile.Rows rows = v2("259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0 cost.vrate=100.00 "
                + "cost.usage=7 cost.wait=0 cost.indebt=0 cost.indelay=0\n"
                + "253:1048575 wbytes=5 use_delay=0 delay_nsec=0 avg_lat=120 win=16\n"
                + "Total 99\n8:x rbytes=1\n:0 rbytes=1\n7:1 rbytes=-4 wbytes=abc\n"
                + "259:0 dios=4\n1:2097152 rbytes=1\n");
        assertEquals(2, rows.size(), "7:1 has no readable field and gets no row");
        assertEquals(259, rows.major(0));
        assertEquals(10, rows.value(0, IoStatFile.RBYTES));
        assertEquals(4, rows.value(0, IoStatFile.DIOS));
        assertEquals(1048575, rows.minor(1));
        assertEquals(5, rows.value(1, IoStatFile.WBYTES));
        assertFalse(rows.has(1, IoStatFile.RBYTES), "a key the line lacks is not read");
        rows.clear();
        assertEquals(0, rows.size());
        assertEquals(0, v2("").size());
        assertEquals(0, v2("\n\n").size());
    }

    @Test
    void blkioOfThisKernel() {
        IoStatFile.Rows rows = new IoStatFile.Rows();
        byte[] bytes = bytes("v1-blkio.throttle.io_service_bytes_recursive");
        byte[] ios = bytes("v1-blkio.throttle.io_serviced_recursive");
        IoStatFile.parseV1(bytes, bytes.length, rows, true);
        IoStatFile.parseV1(ios, ios.length, rows, false);
        assertEquals(1, rows.size(), "one device; the Total lines are not devices");
        assertEquals(254, rows.major(0));
        assertEquals(0, rows.minor(0));
        assertEquals(4194304, rows.value(0, IoStatFile.RBYTES));
        assertEquals(4206592, rows.value(0, IoStatFile.WBYTES));
        assertEquals(0, rows.value(0, IoStatFile.DBYTES));
        assertEquals(64, rows.value(0, IoStatFile.RIOS));
        assertEquals(68, rows.value(0, IoStatFile.WIOS));
        assertEquals(0, rows.value(0, IoStatFile.DIOS));
        IoStatFile.Rows discard = new IoStatFile.Rows();
        byte[] root = bytes("v1-unthrottled-blkio.throttle.io_serviced_recursive");
        IoStatFile.parseV1(root, root.length, discard, false);
        assertEquals(104, discard.value(0, IoStatFile.DIOS));
        assertFalse(discard.has(0, IoStatFile.RBYTES), "the serviced file fills the operation words only");
        IoStatFile.Rows none = new IoStatFile.Rows();
        byte[] empty = text("Total 0\n");
        IoStatFile.parseV1(empty, empty.length, none, true);
        assertEquals(0, none.size(), "without a throttle rule v1 shows only Total 0");
    }
}
