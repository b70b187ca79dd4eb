package io.cgscope.top;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's online CPUs, from {@code /sys/devices/system/cpu/online} ({@code 0-3,6}): the
 * page shows CPU as a share of the machine, and {@link Runtime#availableProcessors()} would count
 * only the CPUs this process may use (a container's limit).
 */
public final class OnlineCpus {
    private static final Path ONLINE = Path.of("/sys/devices/system/cpu/online");

    private OnlineCpus() {
    }

    public static int count() {
        try {
            int n = parse(Files.readString(ONLINE).strip());
            if (n > 0) {
                return n;
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Counts a CPU list like {@code 0-3,6}; 0 when it is not one. */
    static int parse(String list) {
        int n = 0;
        for (String part : list.split(",")) {
            String[] range = part.split("-");
            int lo = Integer.parseInt(range[0].strip());
            int hi = range.length > 1 ? Integer.parseInt(range[1].strip()) : lo;
            if (hi < lo || range.length > 2) {
                return 0;
            }
            n += hi - lo + 1;
        }
        return n;
    }
}
