/**
 * The live page's data ({@code /api/top}): reads of the per-cgroup BPF maps kept over a short
 * window ({@code TopSampler}, {@code CounterSample}), the rates between two reads ({@code Rates},
 * {@code RunqQuantile}), the short-lived count from the change history ({@code ShortLived}), and
 * the snapshot a request gets ({@code TopSnapshot}).
 *
 * <p>May import {@code index} and {@code bpf} (the read side: {@code CounterSource} and its tables).
 */
package io.cgscope.top;
