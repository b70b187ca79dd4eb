package io.cgscope.accounting;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Names block devices for the {@code device} label: {@code MAJ:MIN} as the kernel's files key
 * them, then a space and the kernel's name where {@code /sys/dev/block/MAJ:MIN} (a symlink to the
 * device's directory) knows it: {@code 254:0 vda}, {@code 7:1 loop1}, or just {@code 259:3}.
 * A name found is kept; a device without one is asked again at most once a minute (it may
 * appear later). One thread at a time.
 */
public final class Devices {
    private static final long RETRY_NANOS = 60_000_000_000L;

    private final Path sysDevBlock;
    private final LongSupplier nanoTime;
    private final Map<Long, String> labels = new HashMap<>();
    private final Map<Long, Long> unnamedSince = new HashMap<>();

    public Devices() {
        this(Path.of("/sys/dev/block"), System::nanoTime);
    }

    /** Another {@code /sys/dev/block} and clock (tests). */
    public Devices(Path sysDevBlock, LongSupplier nanoTime) {
        this.sysDevBlock = sysDevBlock;
        this.nanoTime = nanoTime;
    }

    /** The label of device {@code major << 32 | minor}. */
    public String label(long device) {
        String known = labels.get(device);
        if (known != null) {
            return known;
        }
        long now = nanoTime.getAsLong();
        String number = (device >>> 32) + ":" + (device & 0xFFFFFFFFL);
        Long since = unnamedSince.get(device);
        if (since != null && now - since < RETRY_NANOS) {
            return number;
        }
        String name = name(number);
        if (name == null) {
            unnamedSince.put(device, now);
            return number;
        }
        unnamedSince.remove(device);
        String label = number + " " + name;
        labels.put(device, label);
        return label;
    }

    private String name(String number) {
        try {
            Path target = Files.readSymbolicLink(sysDevBlock.resolve(number));
            Path file = target.getFileName();
            String name = file == null ? null : file.toString();
            return name == null || name.isEmpty() || name.chars().anyMatch(ch -> ch <= ' ' || ch == '"') ? null : name;
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }
}
