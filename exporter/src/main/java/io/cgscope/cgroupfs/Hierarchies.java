package io.cgscope.cgroupfs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The cgroup hierarchies of this host: the unified one (cgroup2, id 0) and every mounted v1
 * hierarchy, with its id, name and mount point, and which of them hold processes below their root.
 * Pure parsing of {@code /proc/self/mountinfo}, {@code /proc/self/cgroup} and
 * {@code /proc/PID/cgroup}; tests feed it text.
 *
 * <p>A v1 hierarchy is named as {@code /proc/self/cgroup} names it: its controllers joined by
 * commas ({@code cpu}, {@code cpu,cpuacct}), or {@code name=systemd} for a named one; its id is
 * that line's first field, the {@code cgroup_root.hierarchy_id} the BPF tracepoints report. Its
 * mount is the {@code cgroup} mount whose options list the same controllers (and name), and whose
 * root field shows the whole hierarchy.
 */
public final class Hierarchies {
    /** The unified hierarchy's id and name. */
    public static final int UNIFIED_ID = 0;
    public static final String UNIFIED = "unified";

    /**
     * One hierarchy.
     *
     * @param tokens its controllers and {@code name=...}, as in {@code /proc/self/cgroup} (empty for unified)
     */
    public record Hierarchy(int id, String name, String mountPoint, List<String> tokens) {
        public boolean unified() {
            return id == UNIFIED_ID;
        }

        /** Its controllers (not the {@code name=}): where a task's cgroup is one load away (css_set.subsys[]). */
        public List<String> controllers() {
            return tokens.stream().filter(t -> !t.startsWith("name=")).toList();
        }
    }

    private Hierarchies() {
    }

    /**
     * Every mounted v1 hierarchy, by id, from mountinfo and {@code /proc/self/cgroup}. Hierarchies
     * with no mount that shows their root are left out (nothing to sweep or watch).
     */
    public static List<Hierarchy> v1(List<String> mountinfo, List<String> selfCgroup) {
        Map<Set<String>, Integer> idByTokens = new HashMap<>();
        Map<Integer, String> nameById = new HashMap<>();
        Set<String> known = new HashSet<>();
        for (String line : selfCgroup) {
            String[] f = line.split(":", 3);
            if (f.length < 3 || f[1].isEmpty()) {
                continue; // the unified hierarchy (0::/path), or not a line
            }
            int id;
            try {
                id = Integer.parseInt(f[0]);
            } catch (NumberFormatException e) {
                continue;
            }
            Set<String> tokens = new TreeSet<>(Arrays.asList(f[1].split(",")));
            idByTokens.put(tokens, id);
            nameById.put(id, f[1]);
            known.addAll(tokens);
        }
        Map<Integer, Hierarchy> out = new LinkedHashMap<>();
        for (String line : mountinfo) {
            String[] f = line.split(" ");
            int dash = Arrays.asList(f).indexOf("-");
            if (dash < 6 || dash + 3 >= f.length || !f[dash + 1].equals("cgroup")) {
                continue;
            }
            Mountinfo.Mount m = new Mountinfo.Mount(Mountinfo.unescape(f[4]), Mountinfo.unescape(f[3]));
            if (!m.isHierarchyRoot()) {
                continue;
            }
            Set<String> tokens = new TreeSet<>();
            for (String option : f[dash + 3].split(",")) {
                if (known.contains(option) || option.startsWith("name=")) {
                    tokens.add(option);
                }
            }
            Integer id = idByTokens.get(tokens);
            if (id != null && !out.containsKey(id)) {
                out.put(id, new Hierarchy(id, nameById.get(id), m.mountPoint(), List.copyOf(tokens)));
            }
        }
        List<Hierarchy> list = new ArrayList<>(out.values());
        list.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return list;
    }

    /**
     * How many processes sit below the root of each hierarchy, and in how many distinct cgroups:
     * from the {@code /proc/PID/cgroup} texts of every process.
     */
    public record Holding(int processes, int cgroups) {
    }

    public static Map<Integer, Holding> holding(List<List<String>> procCgroups) {
        Map<Integer, Integer> processes = new HashMap<>();
        Map<Integer, Set<String>> cgroups = new HashMap<>();
        for (List<String> lines : procCgroups) {
            for (String line : lines) {
                String[] f = line.split(":", 3);
                if (f.length < 3 || f[2].equals("/") || f[2].isEmpty()) {
                    continue;
                }
                int id;
                try {
                    id = Integer.parseInt(f[0]);
                } catch (NumberFormatException e) {
                    continue;
                }
                processes.merge(id, 1, Integer::sum);
                cgroups.computeIfAbsent(id, k -> new HashSet<>()).add(f[2]);
            }
        }
        Map<Integer, Holding> out = new HashMap<>();
        processes.forEach((id, n) -> out.put(id, new Holding(n, cgroups.get(id).size())));
        return out;
    }

    /** What {@code --cgroup.hierarchy} chose, and why (for the log line). */
    public record Choice(Hierarchy hierarchy, String why) {
    }

    /**
     * Resolves {@code --cgroup.hierarchy}: {@code unified}; {@code auto} (the unified hierarchy
     * when processes sit below its root, else the v1 hierarchy whose processes are spread over the
     * most cgroups below its root, the lowest id on a tie; the unified one when none is); a
     * controller ({@code memory}: the v1 hierarchy that has it); or {@code name=X}.
     *
     * @param unified the unified hierarchy, or null when no cgroup2 is mounted
     * @throws IllegalArgumentException naming what is mounted, when nothing matches
     */
    public static Choice choose(String wanted, Hierarchy unified, List<Hierarchy> v1, Map<Integer, Holding> holding) {
        String w = wanted.strip().toLowerCase(Locale.ROOT);
        if (w.equals(UNIFIED)) {
            if (unified == null) {
                throw new IllegalArgumentException("no cgroup2 (unified) hierarchy is mounted; mounted v1 hierarchies: "
                        + names(v1));
            }
            return new Choice(unified, "--cgroup.hierarchy=unified");
        }
        if (w.equals("auto")) {
            if (unified != null && holding.containsKey(UNIFIED_ID)) {
                return new Choice(unified, "auto: processes sit below the unified hierarchy's root");
            }
            Hierarchy best = null;
            int bestCgroups = 0;
            for (Hierarchy h : v1) {
                Holding held = holding.get(h.id());
                if (held != null && held.cgroups() > bestCgroups) {
                    best = h;
                    bestCgroups = held.cgroups();
                }
            }
            if (best != null) {
                Holding held = holding.get(best.id());
                return new Choice(best, "auto: the unified hierarchy holds no process below its root, the v1 hierarchy "
                        + best.name() + " holds " + held.processes() + " in " + held.cgroups() + " cgroups below its root");
            }
            if (unified != null) {
                return new Choice(unified, "auto: no hierarchy holds a process below its root");
            }
            if (v1.isEmpty()) {
                throw new IllegalArgumentException("no cgroup hierarchy is mounted");
            }
            return new Choice(v1.getFirst(), "auto: no cgroup2 is mounted and no v1 hierarchy holds a process below its"
                    + " root: the first v1 hierarchy");
        }
        for (Hierarchy h : v1) {
            if (h.tokens().contains(w) || h.name().equals(w)) {
                return new Choice(h, "--cgroup.hierarchy=" + wanted);
            }
        }
        throw new IllegalArgumentException("no mounted cgroup v1 hierarchy has " + wanted + " (mounted: unified"
                + (unified == null ? " (not mounted)" : "") + (v1.isEmpty() ? "" : ", " + names(v1)) + ")");
    }

    private static String names(List<Hierarchy> v1) {
        return v1.isEmpty() ? "none" : String.join(", ", v1.stream().map(Hierarchy::name).toList());
    }

    /** The {@code /proc/PID/cgroup} of every process (those that end meanwhile are skipped). */
    public static List<List<String>> readProcCgroups() {
        List<List<String>> out = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString()
                .chars().allMatch(Character::isDigit))) {
            for (Path p : procs) {
                try {
                    out.add(Files.readAllLines(p.resolve("cgroup")));
                } catch (IOException ended) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** The lines of a file under /proc, or none. */
    public static List<String> read(String path) {
        try {
            return Files.readAllLines(Path.of(path));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Finds one v1 hierarchy by id. */
    public static Optional<Hierarchy> byId(List<Hierarchy> v1, int id) {
        return v1.stream().filter(h -> h.id() == id).findFirst();
    }
}
