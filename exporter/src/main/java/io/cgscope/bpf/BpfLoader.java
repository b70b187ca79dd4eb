package io.cgscope.bpf;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Loads the bundled object with the programs of the selected features. libbpf loads an object
 * all or nothing and cannot retry a failed load, so when the first load fails each feature is
 * tried alone in a fresh object (its reason recorded), and the ones that load are loaded
 * together. Failing features cost a verifier run each, only on this path.
 */
final class BpfLoader {
    private static final Logger LOG = Logger.getLogger(BpfLoader.class.getName());

    private BpfLoader() {
    }

    /**
     * @param failed receives each feature that cannot load, with the reason
     * @return the loaded object (programs of the features not in {@code failed}), or null when none loads
     */
    static BpfObject load(byte[] elf, Set<Feature> wanted, int maxCgroups, BpfHierarchy hierarchy,
            Map<Feature, String> failed)
            throws BpfException {
        if (wanted.isEmpty()) {
            return null;
        }
        try {
            return attempt(elf, wanted, maxCgroups, hierarchy);
        } catch (BpfException first) {
            if (!LibBpf.available()) {
                throw first;
            }
            if (wanted.size() == 1) {
                failed.put(wanted.iterator().next(), first.getMessage());
                return null;
            }
            LOG.fine("loading " + wanted + " together failed, trying each alone: " + first.getMessage());
        }
        Set<Feature> ok = EnumSet.noneOf(Feature.class);
        for (Feature f : wanted) {
            try (BpfObject probe = attempt(elf, EnumSet.of(f), maxCgroups, hierarchy)) {
                ok.add(f);
            } catch (BpfException e) {
                failed.put(f, e.getMessage());
            }
        }
        if (ok.isEmpty()) {
            return null;
        }
        try {
            return attempt(elf, ok, maxCgroups, hierarchy);
        } catch (BpfException e) {
            for (Feature f : ok) {
                failed.put(f, e.getMessage());
            }
            return null;
        }
    }

    /**
     * Opens a fresh object, sizes the per-cgroup maps (the unused ones to one entry), keeps only
     * these features' programs, loads.
     */
    private static BpfObject attempt(byte[] elf, Set<Feature> features, int maxCgroups, BpfHierarchy hierarchy)
            throws BpfException {
        BpfObject obj = BpfObject.open(elf);
        try {
            // A map no selected feature fills still gets created: one entry keeps its memory nil.
            List<String> used = Feature.mapsOf(features);
            for (String map : BpfMaps.PER_CGROUP) {
                obj.setMaxEntries(List.of(map), used.contains(map) ? maxCgroups : 1);
            }
            List<Feature.Prog> wanted = Feature.programsOf(features);
            for (Feature.Prog p : Feature.programsOf(EnumSet.allOf(Feature.class))) {
                obj.setAutoload(p.name(), wanted.contains(p));
            }
            for (Feature f : Feature.values()) {
                if (f.configOffset() >= 0) {
                    obj.setInitialByte(BpfMaps.CONFIG, f.configOffset(), (byte) (features.contains(f) ? 1 : 0));
                }
            }
            hierarchy.configure(obj);
            obj.load();
            return obj;
        } catch (BpfException | RuntimeException e) {
            obj.close();
            throw e;
        }
    }

    /** The features' names, for logs: {@code cpu,samples}. */
    static String names(Iterable<Feature> features) {
        List<String> out = new ArrayList<>();
        for (Feature f : features) {
            out.add(f.label());
        }
        return out.isEmpty() ? "none" : String.join(",", out);
    }
}
