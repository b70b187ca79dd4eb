/**
 * The HTTP API on Vert.x Web: routes ({@code Api}, wiring only), handlers, JSON written by hand
 * ({@code Json}), every error as JSON in one place ({@code Errors}), the event stream, TLS and
 * basic auth, and the server's lifecycle ({@code HttpComponent}).
 *
 * <p>May import {@code index}, {@code config}, {@code text}, {@code workload} and the root's {@code Component},
 * {@code StartupException} and {@code BuildInfo}; the metrics arrive as a registry.
 */
package io.cgscope.http;
