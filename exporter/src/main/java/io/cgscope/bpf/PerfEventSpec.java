package io.cgscope.bpf;

/**
 * The perf event a {@code perf_event} program's section names, as ebpf_exporter's examples write
 * it: {@code SEC("perf_event/type=0,config=3,frequency=1")} ({@code enum perf_type_id}, the type's
 * event, samples per second per CPU). libbpf itself knows only a bare {@code perf_event} section,
 * which says nothing about the event, so these programs are typed and attached here: one event per
 * online CPU. Pure.
 */
record PerfEventSpec(int type, long config, long frequency) {
    static final String PREFIX = "perf_event/";

    /** Whether a section names a perf event this way. */
    static boolean names(String section) {
        return section.startsWith(PREFIX);
    }

    /**
     * Parses {@code perf_event/type=T,config=C,frequency=F}: every item {@code key=integer}, each key
     * once, {@code type} and {@code frequency} required (without a frequency the event would never
     * run the program).
     */
    static PerfEventSpec parse(String section) throws BpfException {
        if (!names(section)) {
            throw new BpfException("section " + section + " does not start with " + PREFIX);
        }
        Long type = null;
        long config = 0;
        Long frequency = null;
        boolean configSeen = false;
        for (String item : section.substring(PREFIX.length()).split(",", -1)) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new BpfException("section " + section + ": item \"" + item + "\" is not key=value");
            }
            String key = item.substring(0, eq);
            long value;
            try {
                value = Long.parseLong(item.substring(eq + 1));
            } catch (NumberFormatException e) {
                throw new BpfException("section " + section + ": the value of " + key + " is not an integer");
            }
            switch (key) {
                case "type" -> {
                    if (type != null || value < 0 || value > Integer.MAX_VALUE) {
                        throw new BpfException("section " + section + ": bad or repeated type");
                    }
                    type = value;
                }
                case "config" -> {
                    if (configSeen) {
                        throw new BpfException("section " + section + ": config twice");
                    }
                    configSeen = true;
                    config = value;
                }
                case "frequency" -> {
                    if (frequency != null || value <= 0) {
                        throw new BpfException("section " + section + ": bad or repeated frequency (samples per second, > 0)");
                    }
                    frequency = value;
                }
                default -> throw new BpfException("section " + section + ": unknown item \"" + key
                        + "\" (known: type, config, frequency)");
            }
        }
        if (type == null || frequency == null) {
            throw new BpfException("section " + section + " needs type= and frequency=");
        }
        return new PerfEventSpec((int) (long) type, config, frequency);
    }
}
