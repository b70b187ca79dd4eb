package io.cgscope.config;

import java.time.Duration;

/**
 * How the HTTP server bounds its connections ({@code --web.max-connections},
 * {@code --web.read-header-timeout}, {@code --web.idle-timeout}); README, "Security model".
 *
 * @param maxConnections most open connections (fewer when the file limit leaves less after the reserve)
 * @param readHeaderTimeout time a connection has to send a complete request: from its accept (TLS
 *                          handshake included), or from its first byte after the last response
 * @param idleTimeout time a kept-alive connection may wait for its next request
 */
public record WebLimits(int maxConnections, Duration readHeaderTimeout, Duration idleTimeout) {
}
