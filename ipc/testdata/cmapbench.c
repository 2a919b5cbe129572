/* cmapbench: times cmap_get_uint32 through Debian's unmodified libcmap, one request at a
 * time, and prints the median, the 99th percentile and the rate. Used by the ipc package's
 * BenchmarkCmapGet against our server and against corosync 3.1.7. */
#include <corosync/cmap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	cmap_handle_t h;
	cs_error_t err;
	uint32_t value;
	uint64_t *lat, start, total;
	long n, i;

	if (argc != 3) {
		fprintf(stderr, "usage: cmapbench KEY COUNT\n");
		return 2;
	}
	n = atol(argv[2]);
	if (n < 1)
		n = 1;
	lat = malloc((size_t)n * sizeof(*lat));
	if (lat == NULL)
		return 1;
	err = cmap_initialize(&h);
	if (err != CS_OK) {
		fprintf(stderr, "cmap_initialize: error %d\n", err);
		return 1;
	}
	for (i = 0; i < 1000; i++) /* warm up both ends */
		cmap_get_uint32(h, argv[1], &value);
	start = now_ns();
	for (i = 0; i < n; i++) {
		uint64_t t = now_ns();
		err = cmap_get_uint32(h, argv[1], &value);
		lat[i] = now_ns() - t;
		if (err != CS_OK) {
			fprintf(stderr, "cmap_get_uint32(%s): error %d\n", argv[1], err);
			return 1;
		}
	}
	total = now_ns() - start;
	qsort(lat, (size_t)n, sizeof(*lat), by_value);
	printf("count=%ld p50_ns=%llu p99_ns=%llu per_sec=%.0f value=%u\n", n,
	       (unsigned long long)lat[n / 2], (unsigned long long)lat[n * 99 / 100],
	       (double)n * 1e9 / (double)total, value);
	cmap_finalize(h);
	free(lat);
	return 0;
}
