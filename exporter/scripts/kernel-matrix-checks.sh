#!/bin/sh
# The kernel matrix's guest script (KernelMatrixIT; kernel-matrix.sh matrix): runs GuestChecks, which
# starts the built jar with the deployment's JVM flags, drives it and writes what it saw to
# $CGSCOPE_RESULTS. The host passes CGSCOPE_JAR, CGSCOPE_TEST_CLASSES and JAVA_HOME (--env).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# C1 only and a serial GC: the checker is short-lived, and under emulation C2 compiles cost seconds.
exec "$JAVA_HOME/bin/java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m -cp "$CGSCOPE_TEST_CLASSES" \
    io.cgscope.kernels.GuestChecks "$CGSCOPE_RESULTS" "$CGSCOPE_JAR" "$top"
