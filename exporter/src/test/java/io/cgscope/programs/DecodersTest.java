package io.cgscope.programs;

import io.cgscope.config.ProgramConfig.DecoderSpec;
import io.cgscope.linux.Arch;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each decoder of ebpf_exporter's README on hand-built bytes, with the host tables given. */
class DecodersTest {
    /** An excerpt of /proc/kallsyms as the kernel writes it (a module's symbols carry "\t[module]"). */
    static final List<String> KALLSYMS = List.of(
            "ffffffff81000000 T startup_64",
            "ffffffff810e4a10 T process_timeout",
            "ffffffff810e4a10 t process_timeout_alias",
            "ffffffff810e4b00 T schedule",
            "ffffffffc0123450 t commit_timeout\t[jbd2]",
            "not an address line");
    /** A hand-written excerpt in pci.ids' format. */
    static final List<String> PCI_IDS = List.of(
            "# comment",
            "0e11  Compaq Computer Corporation",
            "8086  Intel Corporation",
            "\t1000  82542 Gigabit Ethernet Controller (Fiber)",
            "\t\t0e11 b0df  Gigabit Server Adapter (PRO/1000 Gigabit)",
            "C 02  Network controller",
            "\t00  Ethernet controller",
            "\t\t00  prog-if",
            "C 01  Mass storage controller",
            "\t08  Non-Volatile memory controller");

    static HostTables host() {
        return new HostTables(Kallsyms.parse(KALLSYMS), PciIds.parse(PCI_IDS), HostTables.syscalls(Arch.X86_64),
                () -> List.of("major minor  #blocks  name", "", "   8        0   41943040 sda", "   8        1   41942016 sda1",
                        " 259        0  104857600 nvme0n1"),
                index -> index == 1 ? "lo" : index == 2 ? "eth0" : null);
    }

    private static DecoderSpec spec(String name) {
        return new DecoderSpec(name, Map.of(), false, List.of(), 1);
    }

    private static String decode(String decoder, byte[] in) throws Exception {
        return new String(Decoders.of(spec(decoder), host()).decode(in), StandardCharsets.UTF_8);
    }

    private static String decode(String decoder, String in) throws Exception {
        return decode(decoder, in.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] le(long v, int size) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        byte[] out = new byte[size];
        System.arraycopy(b.array(), 0, out, 0, size);
        return out;
    }

    @Test
    void uintTakesOneTwoFourOrEightBytesInHostOrder() throws Exception {
        assertEquals("255", decode("uint", le(255, 1)));
        assertEquals("65535", decode("uint", le(65535, 2)));
        assertEquals("4294967295", decode("uint", le(0xffffffffL, 4)));
        assertEquals("18446744073709551615", decode("uint", le(-1, 8)), "unsigned");
        assertEquals("0", decode("uint", le(0, 8)));
        assertThrows(Decoder.DecodeException.class, () -> decode("uint", new byte[3]));
        assertThrows(Decoder.DecodeException.class, () -> decode("uint", new byte[16]));
    }

    @Test
    void hexAndString() throws Exception {
        assertEquals("00ff10", decode("hex", new byte[] {0, (byte) 0xff, 0x10}));
        assertEquals("kswapd0", decode("string", "kswapd0\0\0garbage"));
        assertEquals("full", decode("string", "full"), "no NUL: all of it");
        assertEquals("", decode("string", "\0x"));
    }

    @Test
    void staticMapWithAndWithoutUnknowns() throws Exception {
        Decoder strict = Decoders.of(new DecoderSpec("static_map", Map.of("1", "read", "2", "write"), false, List.of(), 1), host());
        Decoder open = Decoders.of(new DecoderSpec("static_map", Map.of("1", "read"), true, List.of(), 1), host());
        assertArrayEquals("read".getBytes(), strict.decode("1".getBytes()));
        assertArrayEquals("unknown:3".getBytes(), strict.decode("3".getBytes()));
        assertArrayEquals("3".getBytes(), open.decode("3".getBytes()));
    }

    @Test
    void regexpTakesTheFirstGroupOrTheMatchAndSkipsTheRest() throws Exception {
        Decoder d = Decoders.of(new DecoderSpec("regexp", Map.of(), false, List.of(
                Pattern.compile("^(kswapd).*$"), Pattern.compile("^systemd-journal$"), Pattern.compile("ng")), 1), host());
        assertArrayEquals("kswapd".getBytes(), d.decode("kswapd0".getBytes()), "the first group");
        assertArrayEquals("systemd-journal".getBytes(), d.decode("systemd-journal".getBytes()), "the whole match");
        assertArrayEquals("ng".getBytes(), d.decode("syslog-ng".getBytes()), "unanchored, as Go's FindSubmatch");
        assertSame(Decoder.Skip.INSTANCE, assertThrows(Decoder.Skip.class, () -> d.decode("bash".getBytes())));
    }

    @Test
    void ksymNamesExactAddressesAndKstackTheFunctionsAroundThem() throws Exception {
        assertEquals("process_timeout", decode("ksym", le(0xffffffff810e4a10L, 8)), "the first of aliased symbols");
        assertEquals("commit_timeout\t[jbd2]", decode("ksym", le(0xffffffffc0123450L, 8)), "a module's, as ebpf_exporter shows it");
        assertEquals("unknown_addr:0xffffffff810e4a11", decode("ksym", le(0xffffffff810e4a11L, 8)), "not a symbol's start");
        assertThrows(Decoder.DecodeException.class, () -> decode("ksym", new byte[4]));
        byte[] stack = new byte[32];
        System.arraycopy(le(0xffffffff810e4b10L, 8), 0, stack, 0, 8);
        System.arraycopy(le(0xffffffff810e4a20L, 8), 0, stack, 8, 8);
        System.arraycopy(le(0x10, 8), 0, stack, 16, 8); // below every symbol
        assertEquals("schedule\nprocess_timeout\n??", decode("kstack", stack), "frames up to the first zero");
    }

    @Test
    void syscallNamesForThisArchitectureAndOthers() throws Exception {
        assertEquals("read", decode("syscall", "0"));
        assertEquals("pipe2", decode("syscall", "293"));
        assertEquals("memfd_secret", decode("syscall", "447"));
        assertEquals("unknown_syscall:99999", decode("syscall", "99999"));
        assertThrows(Decoder.DecodeException.class, () -> decode("syscall", le(1, 8)), "needs uint first");
        Map<Long, String> arm64 = HostTables.syscalls(Arch.ARM64);
        assertEquals("io_setup", arm64.get(0L));
        assertEquals("rseq", arm64.get(293L));
        assertEquals("write", arm64.get(64L));
        assertEquals("memfd_secret", arm64.get(447L));
    }

    @Test
    void errnoNames() throws Exception {
        assertEquals("EPERM", decode("errno", "1"));
        assertEquals("EPIPE", decode("errno", "32"));
        assertEquals("ECONNRESET", decode("errno", "104"));
        assertEquals("unknown:0", decode("errno", "0"));
        assertEquals("unknown:1000", decode("errno", "1000"));
        assertEquals("unknown:512", decode("errno", "512"), "kernel-internal ERESTARTSYS has no libc name");
    }

    @Test
    void majorMinorFromProcPartitions() throws Exception {
        assertEquals("sda1", decode("majorminor", le(8 << 8 | 1, 4)));
        assertEquals("nvme0n1", decode("majorminor", le(259 << 8, 4)));
        // new_encode_dev: minor bits above 8 go to bits 20-31
        assertEquals("unknown:8:300", decode("majorminor", le((8 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12), 4)));
        assertEquals("sda", decode("majorminor", le(8 << 8, 8)), "the first 4 bytes of a wider field");
    }

    @Test
    void inetIpAsGoWritesIt() throws Exception {
        assertEquals("1.2.3.4", decode("inet_ip", new byte[] {1, 2, 3, 4}));
        assertEquals("2400:cb00:4:1024::a29e:fd8f", decode("inet_ip", new byte[] {0x24, 0x00, (byte) 0xcb, 0x00, 0x00, 0x04,
                0x10, 0x24, 0, 0, 0, 0, (byte) 0xa2, (byte) 0x9e, (byte) 0xfd, (byte) 0x8f}));
        assertEquals("::1", decode("inet_ip", new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
        assertEquals("::", decode("inet_ip", new byte[16]));
        assertEquals("10.0.0.1", decode("inet_ip", new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff,
                10, 0, 0, 1}), "IPv4-mapped");
        assertEquals("1:0:1:0:1:0:1:0", decode("inet_ip", new byte[] {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}),
                "single zero groups are not compressed");
        assertEquals("?0102", decode("inet_ip", new byte[] {1, 2}));
    }

    @Test
    void dnameFromWireFormat() throws Exception {
        assertEquals(".", decode("dname", ""));
        assertEquals("com", decode("dname", "\u0003com"));
        assertEquals("example.com", decode("dname", "\u0007example\u0003com"));
        assertEquals("\u0005com", decode("dname", "\u0005com"), "malformed: as it is");
    }

    @Test
    void ifnameByIndex() throws Exception {
        assertEquals("lo", decode("ifname", le(1, 4)));
        assertEquals("eth0", decode("ifname", le(2, 4)));
        assertEquals("unknown:77", decode("ifname", le(77, 4)));
    }

    @Test
    void pciNamesFromPciIds() throws Exception {
        assertEquals("Intel Corporation", decode("pci_vendor", Long.toString(0x8086)));
        assertEquals("Compaq Computer Corporation", decode("pci_vendor", Long.toString(0x0e11)), "a vendor below 0x1000");
        assertEquals("unknown pci vendor: 0xdead", decode("pci_vendor", Long.toString(0xdead)));
        assertEquals("82542 Gigabit Ethernet Controller (Fiber)", decode("pci_device", Long.toString(0x80861000L)));
        assertEquals("unknown pci device: 0xdeadbeef", decode("pci_device", Long.toString(0xdeadbeefL)));
        assertEquals("Network controller", decode("pci_class", "2"));
        assertEquals("Ethernet controller", decode("pci_subclass", Long.toString(0x0200)));
        assertEquals("Non-Volatile memory controller", decode("pci_subclass", Long.toString(0x0108)));
        assertEquals("unknown pci subclass: 0x09 (class 0x01)", decode("pci_subclass", Long.toString(0x0109)));
        assertEquals("unknown pci class: 0x77", decode("pci_subclass", Long.toString(0x7700)));
        HostTables none = new HostTables(Kallsyms.empty(), null, Map.of(), List::of, i -> null);
        assertArrayEquals("missing pci.ids db".getBytes(), Decoders.of(spec("pci_vendor"), none).decode("1".getBytes()));
    }

    @Test
    void kallsymsFindsKaddrsByName() {
        Kallsyms k = Kallsyms.parse(KALLSYMS);
        assertEquals(0xffffffff810e4b00L, k.address("schedule"));
        assertEquals(0xffffffffc0123450L, k.address("commit_timeout"), "a module's symbol by its bare name");
        assertNull(k.address("nope"));
        assertEquals(5, k.size());
        assertTrue(Kallsyms.empty().size() == 0 && Kallsyms.empty().exact(1) == null);
    }
}
