/**
 * Log lines on stderr in logfmt or JSON, as Prometheus exporters write them, built on
 * java.util.logging.
 *
 * <p>May import {@code text} (the logfmt escaper).
 */
package io.cgscope.log;
