package io.cgscope.programs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The PCI id database ({@code pci.ids}, Debian's package {@code pci.ids}, or {@code hwdata}), for
 * the {@code pci_vendor}, {@code pci_device}, {@code pci_class} and {@code pci_subclass} decoders:
 * vendors ({@code 8086  Intel Corporation}), their devices (a tab, {@code 1000  82542 ...}),
 * classes ({@code C 02  Network controller}) and their subclasses (a tab, {@code 00  Ethernet
 * controller}); subsystems and programming interfaces (two tabs) are skipped. Read once at start
 * from the first of {@link #PATHS} that exists; without one the decoders say
 * {@code missing pci.ids db}, as ebpf_exporter does. Immutable.
 */
final class PciIds {
    static final List<Path> PATHS = List.of(Path.of("/usr/share/misc/pci.ids"), Path.of("/usr/share/hwdata/pci.ids"));

    private final Map<String, String> vendors;      // "8086"
    private final Map<String, String> devices;      // "80861000": vendor and device
    private final Map<String, String> classes;      // "02"
    private final Map<String, String> subclasses;   // "0200": class and subclass

    private PciIds(Map<String, String> vendors, Map<String, String> devices, Map<String, String> classes,
                   Map<String, String> subclasses) {
        this.vendors = vendors;
        this.devices = devices;
        this.classes = classes;
        this.subclasses = subclasses;
    }

    /** The system's database, or null when none of {@link #PATHS} is readable. */
    static PciIds readSystem() throws IOException {
        for (Path p : PATHS) {
            if (Files.isReadable(p)) {
                // pci.ids is UTF-8 nowadays; a stray byte must not stop the start
                return parse(new String(Files.readAllBytes(p), StandardCharsets.UTF_8).lines().toList());
            }
        }
        return null;
    }

    static PciIds parse(List<String> lines) {
        Map<String, String> vendors = new HashMap<>();
        Map<String, String> devices = new HashMap<>();
        Map<String, String> classes = new HashMap<>();
        Map<String, String> subclasses = new HashMap<>();
        String vendor = null;
        String clazz = null;
        for (String line : lines) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("\t\t")) {
                continue; // subsystem or programming interface
            }
            if (line.startsWith("\t")) {
                String[] idName = idAndName(line.substring(1));
                if (idName == null) {
                    continue;
                }
                if (clazz != null) {
                    subclasses.put(clazz + idName[0], idName[1]);
                } else if (vendor != null) {
                    devices.put(vendor + idName[0], idName[1]);
                }
                continue;
            }
            if (line.startsWith("C ")) {
                String[] idName = idAndName(line.substring(2));
                vendor = null;
                clazz = idName == null ? null : idName[0];
                if (idName != null) {
                    classes.put(idName[0], idName[1]);
                }
                continue;
            }
            String[] idName = idAndName(line);
            clazz = null;
            vendor = idName == null ? null : idName[0];
            if (idName != null) {
                vendors.put(idName[0], idName[1]);
            }
        }
        return new PciIds(Map.copyOf(vendors), Map.copyOf(devices), Map.copyOf(classes), Map.copyOf(subclasses));
    }

    /** {@code "8086  Intel Corporation"} -> {@code ["8086", "Intel Corporation"]} (hex id, lower case). */
    private static String[] idAndName(String s) {
        int sp = s.indexOf(' ');
        if (sp <= 0) {
            return null;
        }
        String id = s.substring(0, sp).toLowerCase(java.util.Locale.ROOT);
        for (int i = 0; i < id.length(); i++) {
            if (Character.digit(id.charAt(i), 16) < 0) {
                return null;
            }
        }
        return new String[] {id, s.substring(sp).strip()};
    }

    String vendor(String hex) {
        return vendors.get(hex);
    }

    String device(String hex) {
        return devices.get(hex);
    }

    String clazz(String hex) {
        return classes.get(hex);
    }

    String subclass(String hex) {
        return subclasses.get(hex);
    }
}
