/*
 * cpgstates: walks libcpg through corosync's connection states and prints each call's
 * cs_error_t, so a test can compare corosyncd with corosync 3.1.7 call by call.
 */
#include <corosync/cpg.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int confchgs, delivers;

static void deliver_fn(cpg_handle_t h, const struct cpg_name *g, uint32_t n, uint32_t p, void *m, size_t l)
{
	(void)h; (void)g; (void)n; (void)p; (void)m; (void)l;
	delivers++;
}

static void confchg_fn(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m, size_t mn,
	const struct cpg_address *l, size_t ln, const struct cpg_address *j, size_t jn)
{
	(void)h; (void)m; (void)l; (void)j;
	printf("  confchg %.*s members=%zu left=%zu joined=%zu\n", (int)g->length, g->value, mn, ln, jn);
	confchgs++;
}

static void settle(cpg_handle_t h)
{
	int fd;
	cpg_fd_get(h, &fd);
	for (int i = 0; i < 5; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			cpg_dispatch(h, CS_DISPATCH_ALL);
	}
}

static struct cpg_name name(const char *s)
{
	struct cpg_name n;
	n.length = strlen(s);
	memcpy(n.value, s, n.length);
	return n;
}

int main(void)
{
	cpg_callbacks_t cb = { .cpg_deliver_fn = deliver_fn, .cpg_confchg_fn = confchg_fn };
	cpg_handle_t h, h2;
	struct cpg_name g = name("states"), other = name("other");
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct cpg_address ms[8];
	int n = 8;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cpg_initialize(&h, &cb) != CS_OK || cpg_initialize(&h2, &cb) != CS_OK)
		return 1;
	printf("leave unjoined %d\n", cpg_leave(h, &g));
	printf("mcast unjoined %d\n", cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1));
	printf("join %d\n", cpg_join(h, &g));
	printf("join again %d\n", cpg_join(h, &g));
	printf("join other handle same pid %d\n", cpg_join(h2, &g));
	printf("join other handle other group %d\n", cpg_join(h2, &other));
	settle(h);
	settle(h2);
	printf("mcast %d\n", cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1));
	settle(h);
	settle(h2);
	printf("membership %d", cpg_membership_get(h, &g, ms, &n));
	printf(" count %d\n", n);
	printf("leave %d\n", cpg_leave(h, &g));
	settle(h);
	printf("leave again %d\n", cpg_leave(h, &g));
	printf("mcast after leave %d\n", cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1));
	printf("rejoin %d\n", cpg_join(h, &g));
	printf("join another group after leave %d\n", cpg_join(h, &other));
	n = 8;
	printf("membership after leave %d", cpg_membership_get(h, &g, ms, &n));
	printf(" count %d\n", n);
	printf("mcast from other %d\n", cpg_mcast_joined(h2, CPG_TYPE_AGREED, &iov, 1));
	settle(h);
	settle(h2);
	printf("confchgs %d delivers %d\n", confchgs, delivers);
	printf("finalize %d %d\n", cpg_finalize(h), cpg_finalize(h2));
	return 0;
}
