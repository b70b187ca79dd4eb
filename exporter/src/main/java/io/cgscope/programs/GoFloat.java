package io.cgscope.programs;

import java.math.BigDecimal;

/**
 * A double as Go's {@code strconv.FormatFloat(f, 'g', -1, 64)} writes it, which is how
 * ebpf_exporter (Prometheus's Go client) writes a histogram's {@code le}: the shortest digits that
 * read back, plain between 1e-4 and 1e+06 ({@code 0.000128}, {@code 134.217728}), in exponent form
 * outside ({@code 1e-06}, {@code 1.6e-05}, {@code 1.048576e+06}). Dashboards that select buckets
 * by their {@code le} text keep working when a program moves from ebpf_exporter to cgscope. Pure.
 */
final class GoFloat {
    private GoFloat() {
    }

    static String format(double f) {
        if (Double.isNaN(f)) {
            return "NaN";
        }
        if (Double.isInfinite(f)) {
            return f > 0 ? "+Inf" : "-Inf";
        }
        if (f == 0) {
            return (1 / f < 0) ? "-0" : "0";
        }
        // Java's Double.toString gives the shortest digits that read back (JDK 19+), as Go's 'g' with -1.
        BigDecimal d = new BigDecimal(Double.toString(Math.abs(f))).stripTrailingZeros();
        String digits = d.unscaledValue().toString();
        int nd = digits.length();
        int dp = nd - d.scale(); // the value is 0.DIGITS x 10^dp
        int exp = dp - 1;
        StringBuilder sb = new StringBuilder(f < 0 ? "-" : "");
        if (exp < -4 || exp >= 6) {
            sb.append(digits.charAt(0));
            if (nd > 1) {
                sb.append('.').append(digits, 1, nd);
            }
            sb.append('e').append(exp < 0 ? '-' : '+');
            int e = Math.abs(exp);
            if (e < 10) {
                sb.append('0');
            }
            return sb.append(e).toString();
        }
        if (dp <= 0) {
            sb.append("0.");
            sb.append("0".repeat(-dp));
            return sb.append(digits).toString();
        }
        if (dp >= nd) {
            return sb.append(digits).append("0".repeat(dp - nd)).toString();
        }
        return sb.append(digits, 0, dp).append('.').append(digits, dp, nd).toString();
    }
}
