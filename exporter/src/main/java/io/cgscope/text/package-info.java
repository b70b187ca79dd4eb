/**
 * String escapers, one per output format (JSON, logfmt, HTML), each format's rules written once.
 *
 * <p>Imports nothing of cgscope.
 */
package io.cgscope.text;
