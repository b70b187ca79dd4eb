package io.cgscope.programs;

import java.util.Arrays;

/**
 * A map key's bytes as a hash key: {@link UserMetric} keeps one instance as the probe for lookups
 * (a slice of the batch it read, no copy) and stores copies. Mutable on purpose; never share a probe.
 */
final class KeyBytes {
    byte[] b;
    int off;
    int len;
    int hash;

    KeyBytes set(byte[] b, int off, int len) {
        this.b = b;
        this.off = off;
        this.len = len;
        int h = 1;
        for (int i = off; i < off + len; i++) {
            h = 31 * h + b[i];
        }
        this.hash = h;
        return this;
    }

    KeyBytes copy() {
        return new KeyBytes().set(Arrays.copyOfRange(b, off, off + len), 0, len);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyBytes k && k.hash == hash && Arrays.equals(b, off, off + len, k.b, k.off, k.off + k.len);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
