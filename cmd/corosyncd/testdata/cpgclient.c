/*
 * cpgclient: a libcpg test program for corosyncd's cluster tests (built with gcc against
 * Debian's libcpg-dev by the test). It joins a group with CPG_MODEL_V1 and
 * CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF and prints every callback as one line:
 *
 *   CONFCHG <group> members=<n:p,...> left=<n:p:r,...> joined=<n:p:r,...>
 *   DELIVER <nodeid>:<pid> <len> <fnv1a64 hex> <tag>
 *   TOTEM <ringnode>.<seq> <n,...>
 *   SENT <count> / ERROR <what> <cs_error>
 *
 * Options: -g group, -w members to wait for before sending, -n messages to send (0: until
 * SIGTERM), -b size of one big message sent halfway (fragmented by libcpg), -z send every
 * 5th message through the zero-copy API, -p pause between messages in microseconds.
 * Messages alternate CPG_TYPE_AGREED and CPG_TYPE_SAFE; each starts with the tag
 * "<nodeid>:<pid>:<seq>" followed by a deterministic filler.
 */
#include <corosync/cpg.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static int members_now;
static unsigned int local_nodeid;

static void on_term(int sig) { (void)sig; stop = 1; }

static uint64_t fnv(const unsigned char *b, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void print_list(const char *name, const struct cpg_address *l, size_t n, int reason)
{
	printf(" %s=", name);
	for (size_t i = 0; i < n; i++) {
		if (reason)
			printf("%s%u:%u:%u", i ? "," : "", l[i].nodeid, l[i].pid, l[i].reason);
		else
			printf("%s%u:%u", i ? "," : "", l[i].nodeid, l[i].pid);
	}
}

static void deliver_fn(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg, size_t len)
{
	char tag[64] = "";
	size_t i;
	(void)h; (void)g;
	for (i = 0; i < len && i < sizeof(tag) - 1 && ((char *)msg)[i] != ' '; i++)
		tag[i] = ((char *)msg)[i];
	tag[i] = 0;
	printf("DELIVER %u:%u %zu %016llx %s\n", nodeid, pid, len, (unsigned long long)fnv(msg, len), tag);
}

static void confchg_fn(cpg_handle_t h, const struct cpg_name *g,
	const struct cpg_address *m, size_t mn, const struct cpg_address *l, size_t ln,
	const struct cpg_address *j, size_t jn)
{
	(void)h;
	printf("CONFCHG %.*s", (int)g->length, g->value);
	print_list("members", m, mn, 0);
	print_list("left", l, ln, 1);
	print_list("joined", j, jn, 1);
	printf("\n");
	members_now = (int)mn;
}

static void totem_fn(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *list)
{
	(void)h;
	printf("TOTEM %x.%llx ", ring.nodeid, (unsigned long long)ring.seq);
	for (uint32_t i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", list[i]);
	printf("\n");
}

static void fill(char *buf, size_t len, unsigned int seq)
{
	int n = snprintf(buf, len, "%u:%u:%u ", local_nodeid, (unsigned int)getpid(), seq);
	for (size_t i = (size_t)n; i < len; i++)
		buf[i] = (char)('a' + (i * 7 + seq) % 26);
}

static int dispatch(cpg_handle_t h, int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) > 0) {
		cs_error_t e = cpg_dispatch(h, CS_DISPATCH_ALL);
		if (e != CS_OK && e != CS_ERR_TRY_AGAIN) {
			printf("ERROR dispatch %d\n", e);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *group = "cpgtest";
	int wait_members = 1, zc = 0, opt;
	long count = 10, big = 0, pause_us = 0;
	cpg_handle_t h;
	cpg_model_v1_data_t model = { .cpg_deliver_fn = deliver_fn, .cpg_confchg_fn = confchg_fn,
		.cpg_totem_confchg_fn = totem_fn, .flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF };
	struct cpg_name name;
	/* Zeroed: corosync 3.1.7 keys groups by the whole 128-byte buffer as a C string, so bytes
	 * after the name would make it announce each NODEUP of a synchronisation apart. */
	memset(&name, 0, sizeof(name));
	int fd;
	cs_error_t e;

	while ((opt = getopt(argc, argv, "g:w:n:b:zp:")) != -1) {
		switch (opt) {
		case 'g': group = optarg; break;
		case 'w': wait_members = atoi(optarg); break;
		case 'n': count = atol(optarg); break;
		case 'b': big = atol(optarg); break;
		case 'z': zc = 1; break;
		case 'p': pause_us = atol(optarg); break;
		default: return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);

	for (int i = 0; (e = cpg_model_initialize(&h, CPG_MODEL_V1, (cpg_model_data_t *)&model, NULL)) != CS_OK; i++) {
		if (i > 200) {
			printf("ERROR initialize %d\n", e);
			return 1;
		}
		usleep(50000);
	}
	cpg_local_get(h, &local_nodeid);
	uint32_t maxsz = 0;
	cpg_max_atomic_msgsize_get(h, &maxsz);
	cpg_flow_control_state_t fc;
	cpg_flow_control_state_get(h, &fc);
	printf("LOCAL %u pid=%u maxatomic=%u fc=%d\n", local_nodeid, (unsigned int)getpid(), maxsz, fc);
	cpg_fd_get(h, &fd);
	name.length = strlen(group);
	memcpy(name.value, group, name.length);
	while ((e = cpg_join(h, &name)) == CS_ERR_TRY_AGAIN)
		usleep(10000);
	if (e != CS_OK) {
		printf("ERROR join %d\n", e);
		return 1;
	}
	while (!stop && members_now < wait_members)
		if (dispatch(h, fd, 100) < 0)
			return 1;

	struct cpg_address ms[64];
	int mn = 64;
	if (cpg_membership_get(h, &name, ms, &mn) == CS_OK)
		printf("MEMBERSHIP %d\n", mn);

	char *buf = malloc(big > 4096 ? (size_t)big : 4096);
	unsigned int seq = 0;
	long sent = 0;
	while (!stop && (count == 0 || sent < count)) {
		size_t len = 64 + (seq * 37) % 2000;
		if (big > 0 && sent == (count ? count / 2 : 5))
			len = (size_t)big;
		fill(buf, len, seq);
		cpg_guarantee_t g = (seq % 2) ? CPG_TYPE_SAFE : CPG_TYPE_AGREED;
		if (zc && seq % 5 == 4 && len < 4096) {
			void *zb;
			e = cpg_zcb_alloc(h, len, &zb);
			if (e == CS_OK) {
				memcpy(zb, buf, len);
				while ((e = cpg_zcb_mcast_joined(h, g, zb, len)) == CS_ERR_TRY_AGAIN && !stop)
					dispatch(h, fd, 1);
				cpg_zcb_free(h, zb);
			}
		} else {
			struct iovec iov = { .iov_base = buf, .iov_len = len };
			while ((e = cpg_mcast_joined(h, g, &iov, 1)) == CS_ERR_TRY_AGAIN && !stop)
				dispatch(h, fd, 1);
		}
		if (e == CS_ERR_INTERRUPT) {
			/* a confchg cut a fragmented message: send it again whole */
			printf("INTERRUPTED %u\n", seq);
			continue;
		}
		if (e != CS_OK) {
			if (stop)
				break;
			printf("ERROR mcast %d\n", e);
			return 1;
		}
		seq++;
		sent++;
		if (dispatch(h, fd, 0) < 0)
			return 1;
		if (pause_us)
			usleep(pause_us);
	}
	printf("SENT %ld\n", sent);
	while (!stop)
		if (dispatch(h, fd, 100) < 0)
			return 1;
	cpg_finalize(h);
	return 0;
}
