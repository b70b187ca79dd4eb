package io.cgscope.programs;

import io.cgscope.linux.Arch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * What the decoders look up on the host: kernel symbols ({@link Kallsyms}), the PCI id database
 * ({@link PciIds}, null without one), the system call names of this architecture (tables generated
 * from the kernel's headers: {@code exporter/scripts/syscall-tables.py}), block devices
 * ({@code /proc/partitions}) and network interfaces by index. Symbols and PCI ids are read at
 * start, only when a config needs them; the rest when asked (devices and interfaces come and go).
 */
final class HostTables {
    private static final Path PARTITIONS = Path.of("/proc/partitions");

    final Kallsyms kallsyms;
    final PciIds pci;
    final Map<Long, String> syscalls;
    final Supplier<List<String>> partitions;
    final IntFunction<String> interfaceName;

    HostTables(Kallsyms kallsyms, PciIds pci, Map<Long, String> syscalls, Supplier<List<String>> partitions,
               IntFunction<String> interfaceName) {
        this.kallsyms = kallsyms;
        this.pci = pci;
        this.syscalls = syscalls;
        this.partitions = partitions;
        this.interfaceName = interfaceName;
    }

    /** The host's tables; symbols and PCI ids only when asked for (reading kallsyms takes 50-100 ms). */
    static HostTables load(boolean symbols, boolean pciIds) throws IOException {
        return new HostTables(symbols ? Kallsyms.read() : Kallsyms.empty(), pciIds ? PciIds.readSystem() : null,
                syscalls(Arch.current()), HostTables::readPartitions, HostTables::interfaceName);
    }

    /** The system call names of an architecture, by number. */
    static Map<Long, String> syscalls(Arch arch) {
        String resource = "syscalls-" + arch.label + ".txt";
        Map<Long, String> out = new HashMap<>();
        try (InputStream in = HostTables.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks " + resource);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    int sp = line.indexOf(' ');
                    out.put(Long.parseLong(line.substring(0, sp)), line.substring(sp + 1).strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.copyOf(out);
    }

    private static List<String> readPartitions() {
        try {
            return Files.readAllLines(PARTITIONS);
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String interfaceName(int index) {
        try {
            NetworkInterface nic = NetworkInterface.getByIndex(index);
            return nic == null ? null : nic.getName();
        } catch (SocketException e) {
            return null;
        }
    }
}
