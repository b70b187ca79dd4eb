// The C reference of the cgroupfs collectors' cost (exporter/bench/cgroupfs.sh): opens and reads
// the same files of the same cgroups with the same system calls as cgscope's HierarchyReader, and
// nothing else (no parsing, no naming, no metrics), so cgscope's cost over it is the JVM's and
// its own work.
//
// Per cgroup and pass: openat(root, path, O_DIRECTORY) + fstat, then per file openat + read (until
// a short read) + close, then close. A file missing in the first (untimed) pass is skipped after,
// as cgscope remembers absent files.
//
// Usage: cgroupfs-read PLAN PASSES
// PLAN: lines "hierarchy MOUNTPOINT", then its "file NAME" and "cgroup RELATIVE/PATH" lines.
// Prints one line per pass: wall_ms=... cpu_ms=... (user+system of this process), then a summary.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 32

struct hierarchy {
	int root;
	int nfiles;
	char *files[MAX_FILES];
	int ncgroups;
	char **cgroups;
	unsigned *absent; /* per cgroup: bit f set when file f was missing in the first pass */
};

static struct hierarchy *hs;
static int nh;
static char buf[1 << 16];

static double now_ms(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void load(const char *plan)
{
	FILE *f = fopen(plan, "r");
	char line[8192];

	if (!f) {
		perror(plan);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');
		struct hierarchy *h = nh ? &hs[nh - 1] : NULL;

		if (nl)
			*nl = 0;
		if (!strncmp(line, "hierarchy ", 10)) {
			hs = realloc(hs, (nh + 1) * sizeof(*hs));
			h = &hs[nh++];
			memset(h, 0, sizeof(*h));
			h->root = open(line + 10, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (h->root < 0) {
				perror(line + 10);
				exit(2);
			}
		} else if (h && !strncmp(line, "file ", 5) && h->nfiles < MAX_FILES) {
			h->files[h->nfiles++] = strdup(line + 5);
		} else if (h && !strncmp(line, "cgroup ", 7)) {
			h->cgroups = realloc(h->cgroups, (h->ncgroups + 1) * sizeof(char *));
			h->absent = realloc(h->absent, (h->ncgroups + 1) * sizeof(unsigned));
			h->absent[h->ncgroups] = 0;
			h->cgroups[h->ncgroups++] = strdup(line + 7);
		}
	}
	fclose(f);
}

/* One pass over every cgroup; returns the bytes read. */
static long pass(int first)
{
	long total = 0;

	for (int i = 0; i < nh; i++) {
		struct hierarchy *h = &hs[i];

		for (int c = 0; c < h->ncgroups; c++) {
			struct stat st;
			int dir = openat(h->root, h->cgroups[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (dir < 0)
				continue;
			if (fstat(dir, &st) < 0) {
				close(dir);
				continue;
			}
			for (int f = 0; f < h->nfiles; f++) {
				int fd;
				ssize_t n;

				if (h->absent[c] & (1u << f))
					continue;
				fd = openat(dir, h->files[f], O_RDONLY | O_CLOEXEC);
				if (fd < 0) {
					if (first && errno == ENOENT)
						h->absent[c] |= 1u << f;
					continue;
				}
				while ((n = read(fd, buf, sizeof(buf))) > 0) {
					total += n;
					if (n < (ssize_t)sizeof(buf))
						break; /* a short read: kernfs gave the whole rest */
				}
				close(fd);
			}
			close(dir);
		}
	}
	return total;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int passes;
	double *wall, *cpu;
	long bytes = 0;
	int cgroups = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PLAN PASSES\n", argv[0]);
		return 2;
	}
	load(argv[1]);
	passes = atoi(argv[2]);
	wall = calloc(passes, sizeof(double));
	cpu = calloc(passes, sizeof(double));
	for (int i = 0; i < nh; i++)
		cgroups += hs[i].ncgroups;
	pass(1); /* untimed: learns the absent files, warms the dentry cache */
	for (int p = 0; p < passes; p++) {
		double w0 = now_ms(CLOCK_MONOTONIC), c0 = cpu_ms();

		bytes = pass(0);
		wall[p] = now_ms(CLOCK_MONOTONIC) - w0;
		cpu[p] = cpu_ms() - c0;
		printf("pass wall_ms=%.3f cpu_ms=%.3f\n", wall[p], cpu[p]);
	}
	qsort(wall, passes, sizeof(double), cmp);
	qsort(cpu, passes, sizeof(double), cmp);
	printf("reference cgroups=%d hierarchies=%d bytes_per_pass=%ld wall_ms_median=%.3f cpu_ms_median=%.3f"
	       " cpu_ms_min=%.3f\n", cgroups, nh, bytes, wall[passes / 2], cpu[passes / 2], cpu[0]);
	return 0;
}
