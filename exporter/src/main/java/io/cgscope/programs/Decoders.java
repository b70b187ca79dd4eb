package io.cgscope.programs;

import io.cgscope.config.ProgramConfig.DecoderSpec;
import io.cgscope.linux.Errno;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The decoders of ebpf_exporter's README, each a few lines, made from a config's
 * {@link DecoderSpec}. Numbers in keys are in the host's byte order (little-endian on both
 * architectures cgscope runs on). Where ebpf_exporter's README leaves a detail open, its
 * behaviour is kept: unmapped values read {@code unknown:<input>}, unknown symbols
 * {@code unknown_addr:0x<hex>}, unknown system calls {@code unknown_syscall:<n>}. The
 * {@code cgroup} decoder is not here: it names ids through cgscope's index ({@link KeyDecoder}).
 */
final class Decoders {
    private static final HexFormat HEX = HexFormat.of();

    private Decoders() {
    }

    /** The decoder of a spec other than {@code cgroup}. */
    static Decoder of(DecoderSpec spec, HostTables host) {
        return switch (spec.name()) {
            case "uint" -> Decoders::uint;
            case "hex" -> in -> ascii(HEX.formatHex(in));
            case "string" -> Decoders::cString;
            case "static_map" -> staticMap(spec.staticMap(), spec.allowUnknown());
            case "regexp" -> regexp(spec.regexps());
            case "ksym" -> in -> ksym(in, host.kallsyms);
            case "kstack" -> in -> kstack(in, host.kallsyms);
            case "syscall" -> in -> syscall(in, host.syscalls);
            case "errno" -> Decoders::errno;
            case "majorminor" -> majorMinor(host);
            case "inet_ip" -> in -> ascii(inetIp(in));
            case "dname" -> Decoders::dname;
            case "ifname" -> ifName(host);
            case "pci_vendor" -> pci(host, "vendor", 4);
            case "pci_device" -> pci(host, "device", 8);
            case "pci_class" -> pci(host, "class", 2);
            case "pci_subclass" -> pci(host, "subclass", 4);
            default -> throw new IllegalArgumentException("no decoder " + spec.name());
        };
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** An unsigned integer of 1, 2, 4 or 8 bytes as its decimal text. */
    static byte[] uint(byte[] in) throws Decoder.DecodeException {
        return ascii(Long.toUnsignedString(unsigned(in, "uint")));
    }

    static long unsigned(byte[] in, String what) throws Decoder.DecodeException {
        ByteBuffer b = ByteBuffer.wrap(in).order(ByteOrder.nativeOrder());
        return switch (in.length) {
            case 1 -> in[0] & 0xffL;
            case 2 -> b.getShort() & 0xffffL;
            case 4 -> b.getInt() & 0xffffffffL;
            case 8 -> b.getLong();
            default -> throw new Decoder.DecodeException(what + ": a field of " + in.length
                    + " bytes is not an integer (1, 2, 4 or 8 bytes)");
        };
    }

    /** Decimal text (a {@code uint} decoder's output) as a number. */
    static long decimal(byte[] in, String what) throws Decoder.DecodeException {
        String s = text(in);
        try {
            return s.startsWith("-") ? Long.parseLong(s) : Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw new Decoder.DecodeException(what + ": \"" + s + "\" is not a number (put a uint decoder first)");
        }
    }

    /** Up to the first NUL. */
    static byte[] cString(byte[] in) {
        for (int i = 0; i < in.length; i++) {
            if (in[i] == 0) {
                return java.util.Arrays.copyOf(in, i);
            }
        }
        return in;
    }

    static Decoder staticMap(Map<String, String> map, boolean allowUnknown) {
        return in -> {
            String v = map.get(text(in));
            if (v != null) {
                return ascii(v);
            }
            return allowUnknown ? in : ascii("unknown:" + text(in));
        };
    }

    /**
     * The first pattern found anywhere in the input (unanchored, as Go's {@code FindSubmatch}) gives
     * the value: its first group when it has groups, else the whole match; no pattern: skip the label set.
     */
    static Decoder regexp(List<Pattern> patterns) {
        return in -> {
            String s = text(in);
            for (Pattern p : patterns) {
                Matcher m = p.matcher(s);
                if (m.find()) {
                    String v = m.groupCount() >= 1 ? m.group(1) : m.group();
                    return ascii(v == null ? "" : v);
                }
            }
            throw Decoder.Skip.INSTANCE;
        };
    }

    static byte[] ksym(byte[] in, Kallsyms syms) throws Decoder.DecodeException {
        if (in.length != 8) {
            throw new Decoder.DecodeException("ksym: needs an 8-byte address, got " + in.length + " bytes");
        }
        long addr = unsigned(in, "ksym");
        String sym = syms.exact(addr);
        return ascii(sym != null ? sym : "unknown_addr:0x" + Long.toHexString(addr));
    }

    /** Addresses (8 bytes each) up to the first zero, each as the function it is in ({@code ??}), one per line. */
    static byte[] kstack(byte[] in, Kallsyms syms) throws Decoder.DecodeException {
        if (in.length % 8 != 0) {
            throw new Decoder.DecodeException("kstack: " + in.length + " bytes is not a list of 8-byte addresses");
        }
        ByteBuffer b = ByteBuffer.wrap(in).order(ByteOrder.nativeOrder());
        List<String> frames = new ArrayList<>();
        while (b.hasRemaining()) {
            long addr = b.getLong();
            if (addr == 0) {
                break;
            }
            String sym = syms.containing(addr);
            frames.add(sym != null ? sym : "??");
        }
        return ascii(String.join("\n", frames));
    }

    static byte[] syscall(byte[] in, Map<Long, String> table) throws Decoder.DecodeException {
        long n = decimal(in, "syscall");
        String name = table.get(n);
        return ascii(name != null ? name : "unknown_syscall:" + Long.toUnsignedString(n));
    }

    static byte[] errno(byte[] in) throws Decoder.DecodeException {
        long n = decimal(in, "errno");
        String name = n > 0 && n < 4096 ? Errno.name((int) n) : null;
        return ascii(name != null ? name : "unknown:" + Long.toUnsignedString(n));
    }

    /**
     * The kernel's {@code new_encode_dev} u32 (the first 4 bytes) as the device's name in
     * {@code /proc/partitions} ({@code sda}, {@code nvme0n1}), else {@code unknown:MAJOR:MINOR}.
     * Names found are kept; unknown ones are looked up again next time (a disk may appear).
     */
    static Decoder majorMinor(HostTables host) {
        Map<Long, byte[]> found = new HashMap<>();
        return in -> {
            if (in.length < 4) {
                throw new Decoder.DecodeException("majorminor: needs 4 bytes, got " + in.length);
            }
            long dev = ByteBuffer.wrap(in, 0, 4).order(ByteOrder.nativeOrder()).getInt() & 0xffffffffL;
            byte[] name = found.get(dev);
            if (name != null) {
                return name;
            }
            long major = (dev & 0xfff00) >> 8;
            long minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
            for (String line : host.partitions.get()) {
                String[] f = line.strip().split("\\s+");
                if (f.length == 4 && f[0].equals(Long.toString(major)) && f[1].equals(Long.toString(minor))) {
                    name = ascii(f[3]);
                    found.put(dev, name);
                    return name;
                }
            }
            return ascii("unknown:" + major + ":" + minor);
        };
    }

    /**
     * An IPv4 (4 bytes) or IPv6 (16 bytes) address as Go's {@code net.IP.String} writes it: dotted
     * quad; IPv6 in lower-case hex groups with the longest run of two or more zero groups as
     * {@code ::}, and an IPv4-mapped address as its IPv4 form.
     */
    static String inetIp(byte[] in) {
        if (in.length == 0) {
            return "<nil>";
        }
        if (in.length == 4) {
            return (in[0] & 0xff) + "." + (in[1] & 0xff) + "." + (in[2] & 0xff) + "." + (in[3] & 0xff);
        }
        if (in.length != 16) {
            return "?" + HEX.formatHex(in);
        }
        boolean mapped = true;
        for (int i = 0; i < 12; i++) {
            if (in[i] != (i >= 10 ? (byte) 0xff : 0)) {
                mapped = false;
                break;
            }
        }
        if (mapped) {
            return inetIp(java.util.Arrays.copyOfRange(in, 12, 16));
        }
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((in[2 * i] & 0xff) << 8) | (in[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        if (bestLen < 2) {
            bestStart = -1;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (!sb.isEmpty() && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    /** A DNS name in wire format ({@code \x07example\x03com}) as {@code example.com}; malformed input as it is. */
    static byte[] dname(byte[] in) {
        if (in.length == 0) {
            return ascii(".");
        }
        byte[] out = new byte[in.length];
        int off = 0;
        while (off < in.length) {
            int n = in[off] & 0xff;
            out[off] = '.';
            off++;
            if (off + n > in.length) {
                return in;
            }
            System.arraycopy(in, off, out, off, n);
            off += n;
        }
        return java.util.Arrays.copyOfRange(out, 1, out.length);
    }

    /** A network interface index (the first 4 bytes) as its name ({@code eth0}), else {@code unknown:<index>}. */
    static Decoder ifName(HostTables host) {
        Map<Long, byte[]> found = new HashMap<>();
        return in -> {
            if (in.length < 4) {
                throw new Decoder.DecodeException("ifname: needs 4 bytes, got " + in.length);
            }
            long idx = ByteBuffer.wrap(in, 0, 4).order(ByteOrder.nativeOrder()).getInt() & 0xffffffffL;
            byte[] name = found.get(idx);
            if (name == null) {
                String n = idx <= Integer.MAX_VALUE ? host.interfaceName.apply((int) idx) : null;
                if (n == null) {
                    return ascii("unknown:" + idx);
                }
                name = ascii(n);
                found.put(idx, name);
            }
            return name;
        };
    }

    /**
     * The PCI decoders: decimal input (after {@code uint}) as a hex id of {@code digits} digits,
     * looked up in pci.ids. ebpf_exporter formats vendor and class ids with {@code %02x}, which
     * misses vendors below 0x1000; here each id has its full width.
     */
    static Decoder pci(HostTables host, String kind, int digits) {
        return in -> {
            if (host.pci == null) {
                return ascii("missing pci.ids db");
            }
            long n = decimal(in, "pci_" + kind);
            if (kind.equals("subclass")) {
                String clazz = String.format("%02x", (n >> 8) & 0xff);
                String sub = String.format("%02x", n & 0xff);
                if (host.pci.clazz(clazz) == null) {
                    return ascii("unknown pci class: 0x" + clazz);
                }
                String name = host.pci.subclass(clazz + sub);
                return ascii(name != null ? name : "unknown pci subclass: 0x" + sub + " (class 0x" + clazz + ")");
            }
            String id = String.format("%0" + digits + "x", n);
            String name = switch (kind) {
                case "vendor" -> host.pci.vendor(id);
                case "device" -> host.pci.device(id);
                default -> host.pci.clazz(id);
            };
            return ascii(name != null ? name : "unknown pci " + kind + ": 0x" + id);
        };
    }
}
