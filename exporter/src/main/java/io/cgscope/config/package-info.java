/**
 * Flags and the validated configuration: {@code Flags} (parse and {@code --help}), {@code Config}
 * (every value checked: a bad one is one {@code ConfigException} line, exit 2, before anything
 * starts), the exporter-toolkit web config and its TLS files, and the user programs' YAML in
 * ebpf_exporter's format ({@code ProgramConfigs}, {@code ProgramConfig}, {@code YamlNodes}: a bad
 * file is one line with its file, line and key).
 *
 * <p>Imports no cgscope package.
 */
package io.cgscope.config;
