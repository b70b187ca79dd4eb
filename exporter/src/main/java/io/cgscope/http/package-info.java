/**
 * The HTTP API on Vert.x Web: routes ({@code Api}, wiring only), handlers, JSON written by hand
 * ({@code Json}), every error as JSON in one place ({@code Errors}), the event stream, the live
 * page's files and {@code /api/top} ({@code PageFiles}, {@code TopHandler}), TLS and basic auth,
 * and the server's lifecycle ({@code HttpComponent}).
 *
 * <p>May import {@code index}, {@code config}, {@code text}, {@code workload}, {@code top}, {@code bpf}
 * (the counters the live page's sampler reads), {@code metrics} (its {@code ExpositionWriter}, which
 * writes {@code /metrics}) and the root's {@code Component}, {@code StartupException} and
 * {@code BuildInfo}; the metrics themselves arrive as a registry.
 */
package io.cgscope.http;
