/* cpgflood: ordered-delivery throughput through corosync's CPG, in the manner of corosync's
 * test/cpgbench.c: join a group, multicast agreed messages of SIZE bytes for SECONDS (retrying
 * on CS_ERR_TRY_AGAIN), and count this process's own deliveries. Prints one line:
 *   cpgflood size=SIZE msgs=N seconds=S msgs_per_s=R
 * Build: gcc -O2 -o cpgflood cpgflood.c -lcpg   (Debian: libcpg-dev) */
#include <corosync/cpg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long delivered;

static void deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
		    void *msg, size_t len) {
	(void)h; (void)g; (void)nodeid; (void)pid; (void)msg; (void)len;
	delivered++;
}

static void confchg(cpg_handle_t h, const struct cpg_name *g,
		    const struct cpg_address *m, size_t nm, const struct cpg_address *l, size_t nl,
		    const struct cpg_address *j, size_t nj) {
	(void)h; (void)g; (void)m; (void)nm; (void)l; (void)nl; (void)j; (void)nj;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	size_t size = argc > 1 ? (size_t)atoi(argv[1]) : 64;
	double seconds = argc > 2 ? atof(argv[2]) : 5;
	cpg_callbacks_t cb = {.cpg_deliver_fn = deliver, .cpg_confchg_fn = confchg};
	cpg_handle_t h;
	struct cpg_name group = {.length = 6};
	memcpy(group.value, "cpg_bm", 6);
	if (cpg_initialize(&h, &cb) != CS_OK || cpg_join(h, &group) != CS_OK) {
		fprintf(stderr, "cpgflood: cannot connect to corosync\n");
		return 1;
	}
	char *buf = calloc(1, size);
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	unsigned long sent = 0;
	double start = now(), end = start + seconds;
	while (now() < end) {
		cs_error_t r = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1);
		if (r == CS_OK)
			sent++;
		cpg_dispatch(h, CS_DISPATCH_ALL);
	}
	double elapsed = now() - start;
	unsigned long counted = delivered;
	/* Let in-flight messages arrive, but rate only what was delivered within the window. */
	printf("cpgflood size=%zu msgs=%lu seconds=%.3f msgs_per_s=%.0f (sent %lu)\n", size, counted,
	       elapsed, counted / elapsed, sent);
	cpg_finalize(h);
	return 0;
}
