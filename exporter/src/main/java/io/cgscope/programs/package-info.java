/**
 * Users' own BPF programs in ebpf_exporter's format ({@code --config.dir}, {@code --config.names};
 * README, "Bringing ebpf_exporter programs"). {@link io.cgscope.programs.UserPrograms} loads each
 * config's object ({@code bpf.UserObject}), attaches its programs and is the collector of their
 * metrics; {@code LoadedConfig} is one config, {@code UserMetric} one metric (batch reads of its
 * map, a {@code KeyTable} of decoded keys, one {@code LabelSet} per series), {@code KeyDecoder} and
 * {@code Decoders} turn key bytes into label values as the config says, {@code CgroupNamer} is the
 * {@code cgroup} decoder on cgscope's index (of the hierarchy {@code ProgramsComponent} chose),
 * {@code Buckets} the histogram layouts. The config files themselves are parsed in config
 * ({@code ProgramConfigs}).
 *
 * <p>Imports: bpf (objects, maps, programs, raw tables), config, index, linux ({@code Arch},
 * {@code Errno}), metrics ({@code CgroupLabels}, {@code SeriesTarget}: the rules of the built-in
 * families), workload ({@code WorkloadResolver}). No {@code MemorySegment} in a signature here:
 * key and value bytes reach this package as Java arrays.
 */
package io.cgscope.programs;
