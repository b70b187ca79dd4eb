/**
 * Flags and the validated configuration: {@code Flags} (parse and {@code --help}), {@code Config}
 * (every value checked: a bad one is one {@code ConfigException} line, exit 2, before anything
 * starts), the exporter-toolkit web config and its TLS files.
 *
 * <p>Imports no cgscope package.
 */
package io.cgscope.config;
