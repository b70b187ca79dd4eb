package io.cgscope.bpf;

import java.util.Map;

/**
 * BPF programs loaded apart from the companion (their own object, e.g. {@link OomKills}), as the
 * companion's families report them: {@code cgscope_bpf_program_up{program}} and
 * {@code cgscope_bpf_map_update_failures_total{map}}. Thread-safe.
 */
public interface ProgramReport {
    /** Each program's {@code --bpf.programs} name and state. */
    Map<String, CounterSource.Status> programs();

    /** Failed inserts per map name, since load. */
    Map<String, Long> updateFailures();
}
