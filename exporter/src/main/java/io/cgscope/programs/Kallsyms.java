package io.cgscope.programs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code /proc/kallsyms}, read once at start (while cgscope is still root: without CAP_SYSLOG the
 * kernel shows every address as 0), sorted by address, for the {@code ksym} and {@code kstack}
 * decoders and {@code kaddrs}. A symbol's text is everything after the type letter, so a module's
 * symbols read {@code name\t[module]}, as ebpf_exporter shows them. Immutable; thread-safe.
 */
final class Kallsyms {
    static final Path PROC = Path.of("/proc/kallsyms");
    private static final Kallsyms EMPTY = new Kallsyms(new long[0], new String[0]);

    private final long[] addrs;   // sorted, unsigned order
    private final String[] names;

    private Kallsyms(long[] addrs, String[] names) {
        this.addrs = addrs;
        this.names = names;
    }

    static Kallsyms empty() {
        return EMPTY;
    }

    /** Reads {@code /proc/kallsyms}. */
    static Kallsyms read() throws IOException {
        return parse(Files.readAllLines(PROC));
    }

    /** Parses lines of {@code ADDRESS TYPE NAME[\t[MODULE]]}; other lines are skipped. */
    static Kallsyms parse(List<String> lines) {
        List<long[]> pairs = new ArrayList<>(lines.size());
        List<String> syms = new ArrayList<>(lines.size());
        for (String line : lines) {
            int a = line.indexOf(' ');
            int b = a < 0 ? -1 : line.indexOf(' ', a + 1);
            if (a <= 0 || b < 0 || b + 1 >= line.length()) {
                continue;
            }
            long addr;
            try {
                addr = Long.parseUnsignedLong(line.substring(0, a), 16);
            } catch (NumberFormatException e) {
                continue;
            }
            pairs.add(new long[] {addr, syms.size()});
            syms.add(line.substring(b + 1));
        }
        pairs.sort((x, y) -> Long.compareUnsigned(x[0], y[0]));
        long[] addrs = new long[pairs.size()];
        String[] names = new String[pairs.size()];
        for (int i = 0; i < addrs.length; i++) {
            addrs[i] = pairs.get(i)[0];
            names[i] = syms.get((int) pairs.get(i)[1]);
        }
        return new Kallsyms(addrs, names);
    }

    int size() {
        return addrs.length;
    }

    /** The symbol that starts exactly at {@code addr}, or null ({@code ksym}). */
    String exact(long addr) {
        int i = floorIndex(addr);
        return i >= 0 && addrs[i] == addr ? names[i] : null;
    }

    /** The symbol at or below {@code addr}: the function a return address is in, or null ({@code kstack}). */
    String containing(long addr) {
        int i = floorIndex(addr);
        return i >= 0 ? names[i] : null;
    }

    /** The first address of a symbol by name (its text up to a tab), or null ({@code kaddrs}). */
    Long address(String symbol) {
        for (int i = 0; i < names.length; i++) {
            String n = names[i];
            int tab = n.indexOf('\t');
            if ((tab < 0 ? n : n.substring(0, tab)).equals(symbol)) {
                return addrs[i];
            }
        }
        return null;
    }

    /** The last index whose address is at most {@code addr} (unsigned), or -1; among equal addresses the last. */
    private int floorIndex(long addr) {
        int lo = 0;
        int hi = addrs.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addrs[mid], addr) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        // Several symbols can share an address (aliases): the first of them, as a sorted list gives it.
        while (found > 0 && addrs[found - 1] == addrs[found]) {
            found--;
        }
        return found;
    }

    @Override
    public String toString() {
        return "kallsyms(" + addrs.length + " symbols" + (addrs.length > 0 ? ", first " + Arrays.toString(
                new String[] {names[0]}) : "") + ")";
    }
}
