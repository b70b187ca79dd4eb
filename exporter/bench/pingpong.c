/* pingpong.c - pipe ping-pong between two processes pinned to one CPU: every round trip is two
 * context switches. Prints ns per round trip and the context switches of both (getrusage).
 * Usage: pingpong ROUNDTRIPS [CPU]    (the same workload as bpfcost.c's, without its BPF) */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof s, &s);
}

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int cpu = argc > 2 ? atoi(argv[2]) : 0;
	int a2b[2], b2a[2], res[2];
	struct rusage r0, r1;
	char c = 'x';
	long long dt = 0;

	if (pipe(a2b) || pipe(b2a) || pipe(res))
		return 1;
	getrusage(RUSAGE_CHILDREN, &r0);
	pid_t b = fork();
	if (b == 0) {
		pin(cpu);
		for (long i = 0; i < n; i++)
			if (read(a2b[0], &c, 1) != 1 || write(b2a[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	pid_t a = fork();
	if (a == 0) {
		pin(cpu);
		usleep(10000);
		long long t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (write(a2b[1], &c, 1) != 1 || read(b2a[0], &c, 1) != 1)
				_exit(1);
		dt = now_ns() - t0;
		if (write(res[1], &dt, sizeof dt) != sizeof dt)
			_exit(1);
		_exit(0);
	}
	if (read(res[0], &dt, sizeof dt) != sizeof dt)
		return 1;
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
	getrusage(RUSAGE_CHILDREN, &r1);
	long csw = (r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw);
	printf("ns_per_roundtrip=%.1f switches=%ld\n", (double)dt / n, csw);
	return 0;
}
