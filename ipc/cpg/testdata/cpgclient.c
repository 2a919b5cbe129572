/* cpgclient: exercises a cpg service through Debian's unmodified libcpg and prints one line
 * per step, so the same program can be run against corosync 3.1.7 and against our Go
 * backend and the outputs compared. It prints nothing that differs between two runs (no
 * pids, no ring sequence numbers) and exits 0 only if every step behaved.
 *
 * Usage: cpgclient GROUP
 *
 * Every wait is bounded: dispatching polls the cpg fd with a deadline, and alarm() ends
 * the program if a library call itself blocks. */
#include <corosync/cpg.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SMALL_MSGS 5
#define BIG_LEN (1536 * 1024) /* over libcpg's 1047552-byte limit: sent in fragments */
#define NMSGS (SMALL_MSGS + 1)
#define STEP_MS 5000

static struct cpg_name group;
static uint32_t my_pid;
static int confchgs, totem_confchgs, delivered, failed;
static size_t last_members, last_left, last_joined;
static uint32_t last_reason;
static int self_member, self_changed;
static uint32_t totem_members, totem_ring_nodeid, totem_first_member;

static char *msgs[NMSGS];
static size_t lens[NMSGS];

static void fail(const char *what)
{
	printf("FAIL %s\n", what);
	fflush(stdout);
	failed = 1;
}

static int same_group(const struct cpg_name *g)
{
	return g->length == group.length && memcmp(g->value, group.value, group.length) == 0;
}

static void deliver_fn(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
		       void *msg, size_t len)
{
	int i = delivered;

	if (!same_group(g) || nodeid != 1 || pid != my_pid) {
		fail("deliver: wrong group, node or pid");
		return;
	}
	if (i >= NMSGS || len != lens[i] || memcmp(msg, msgs[i], len) != 0) {
		printf("FAIL deliver %d: %zu bytes, not message %d\n", i, len, i);
		failed = 1;
		return;
	}
	printf("deliver %d: %zu bytes in order\n", i, len);
	delivered++;
}

static void confchg_fn(cpg_handle_t h, const struct cpg_name *g,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	size_t i;

	if (!same_group(g)) {
		fail("confchg: wrong group");
		return;
	}
	last_members = n_members;
	last_left = n_left;
	last_joined = n_joined;
	self_member = 0;
	self_changed = 0;
	last_reason = 0;
	for (i = 0; i < n_members; i++)
		if (members[i].nodeid == 1 && members[i].pid == my_pid)
			self_member = 1;
	for (i = 0; i < n_joined; i++)
		if (joined[i].nodeid == 1 && joined[i].pid == my_pid) {
			self_changed = 1;
			last_reason = joined[i].reason;
		}
	for (i = 0; i < n_left; i++)
		if (left[i].nodeid == 1 && left[i].pid == my_pid) {
			self_changed = 1;
			last_reason = left[i].reason;
		}
	confchgs++;
}

static void totem_confchg_fn(cpg_handle_t h, struct cpg_ring_id ring_id, uint32_t n,
			     const uint32_t *members)
{
	totem_members = n;
	totem_ring_nodeid = ring_id.nodeid;
	totem_first_member = n > 0 ? members[0] : 0;
	totem_confchgs++;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dispatch_until dispatches until *counter reaches want or STEP_MS pass. */
static int dispatch_until(cpg_handle_t h, int fd, int *counter, int want)
{
	int64_t deadline = now_ms() + STEP_MS;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (*counter < want && !failed) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && cpg_dispatch(h, CS_DISPATCH_ALL) != CS_OK)
			return -1;
	}
	return failed ? -1 : 0;
}

/* retry repeats a call refused with CS_ERR_TRY_AGAIN, as libcpg's users must. */
#define RETRY(call) ({ cs_error_t _e; int _n = 0; \
	while ((_e = (call)) == CS_ERR_TRY_AGAIN && _n++ < 500) { usleep(10000); } \
	_e; })

int main(int argc, char **argv)
{
	cpg_handle_t h;
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = deliver_fn,
		.cpg_confchg_fn = confchg_fn,
		.cpg_totem_confchg_fn = totem_confchg_fn,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	struct cpg_address members[CPG_MEMBERS_MAX];
	int n_members = CPG_MEMBERS_MAX, fd, i, found, entries;
	unsigned int nodeid;
	uint32_t max_size;
	cpg_iteration_handle_t it;
	struct cpg_iteration_description_t desc;
	cs_error_t err;

	if (argc != 2 || strlen(argv[1]) >= CPG_MAX_NAME_LENGTH) {
		fprintf(stderr, "usage: cpgclient GROUP\n");
		return 2;
	}
	alarm(60);
	setvbuf(stdout, NULL, _IOLBF, 0);
	my_pid = (uint32_t)getpid();
	group.length = strlen(argv[1]);
	memcpy(group.value, argv[1], group.length);
	for (i = 0; i < SMALL_MSGS; i++) {
		msgs[i] = malloc(32);
		lens[i] = (size_t)snprintf(msgs[i], 32, "message %d", i);
	}
	lens[SMALL_MSGS] = BIG_LEN;
	msgs[SMALL_MSGS] = malloc(BIG_LEN);
	for (i = 0; i < BIG_LEN; i++)
		msgs[SMALL_MSGS][i] = (char)(i * 7 + i / 4096);

	if ((err = cpg_model_initialize(&h, CPG_MODEL_V1, (cpg_model_data_t *)&model, NULL)) != CS_OK) {
		printf("FAIL initialize: %d\n", err);
		return 1;
	}
	printf("initialize ok\n");
	if (cpg_fd_get(h, &fd) != CS_OK) {
		fail("fd_get");
		return 1;
	}
	if ((err = cpg_max_atomic_msgsize_get(h, &max_size)) != CS_OK) {
		fail("max_atomic_msgsize_get");
		return 1;
	}
	printf("max atomic message size %u\n", max_size);

	if ((err = cpg_local_get(h, &nodeid)) != CS_OK) {
		printf("FAIL local_get: %d\n", err);
		return 1;
	}
	printf("local nodeid %u\n", nodeid);

	if ((err = RETRY(cpg_join(h, &group))) != CS_OK) {
		printf("FAIL join: %d\n", err);
		return 1;
	}
	printf("join ok\n");
	if (dispatch_until(h, fd, &confchgs, 1) != 0) {
		fail("no confchg after join");
		return 1;
	}
	printf("confchg: members %zu left %zu joined %zu, self joined with reason %u, self member %d\n",
	       last_members, last_left, last_joined, self_changed ? last_reason : 0, self_member);
	if (!self_changed || last_reason != CPG_REASON_JOIN || !self_member)
		fail("own join confchg");
	if (dispatch_until(h, fd, &totem_confchgs, 1) != 0) {
		fail("no totem confchg");
		return 1;
	}
	printf("totem confchg: %u members, ring of node %u, first member %u\n", totem_members,
	       totem_ring_nodeid, totem_first_member);

	if ((err = cpg_join(h, &group)) != CS_ERR_EXIST)
		printf("FAIL second join: %d, want CS_ERR_EXIST\n", err), failed = 1;
	else
		printf("second join: CS_ERR_EXIST\n");

	for (i = 0; i < NMSGS; i++) {
		struct iovec iov = { .iov_base = msgs[i], .iov_len = lens[i] };

		if ((err = RETRY(cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1))) != CS_OK) {
			printf("FAIL mcast %d: %d\n", i, err);
			return 1;
		}
	}
	printf("mcast %d messages ok\n", NMSGS);
	if (dispatch_until(h, fd, &delivered, NMSGS) != 0) {
		printf("FAIL delivered %d of %d\n", delivered, NMSGS);
		return 1;
	}

	if ((err = cpg_membership_get(h, &group, members, &n_members)) != CS_OK) {
		printf("FAIL membership_get: %d\n", err);
		return 1;
	}
	found = 0;
	for (i = 0; i < n_members; i++)
		if (members[i].nodeid == 1 && members[i].pid == my_pid)
			found = 1;
	printf("membership: %d members, self %s\n", n_members, found ? "present" : "absent");
	if (!found)
		failed = 1;

	if ((err = cpg_iteration_initialize(h, CPG_ITERATION_ONE_GROUP, &group, &it)) != CS_OK) {
		printf("FAIL iteration_initialize: %d\n", err);
		return 1;
	}
	found = 0;
	entries = 0;
	while ((err = cpg_iteration_next(it, &desc)) == CS_OK) {
		entries++;
		if (same_group(&desc.group) && desc.nodeid == 1 && desc.pid == my_pid)
			found = 1;
	}
	printf("iteration: %d entries, self %s, ended with %d\n", entries, found ? "present" : "absent", err);
	if (err != CS_ERR_NO_SECTIONS || !found)
		failed = 1;
	if ((err = cpg_iteration_finalize(it)) != CS_OK)
		printf("FAIL iteration_finalize: %d\n", err), failed = 1;

	if ((err = RETRY(cpg_leave(h, &group))) != CS_OK) {
		printf("FAIL leave: %d\n", err);
		return 1;
	}
	printf("leave ok\n");
	if (dispatch_until(h, fd, &confchgs, 2) != 0) {
		fail("no confchg after leave");
		return 1;
	}
	printf("confchg: members %zu left %zu joined %zu, self left with reason %u, self member %d\n",
	       last_members, last_left, last_joined, self_changed ? last_reason : 0, self_member);
	if (!self_changed || last_reason != CPG_REASON_LEAVE || self_member)
		fail("own leave confchg");

	if ((err = cpg_finalize(h)) != CS_OK) {
		printf("FAIL finalize: %d\n", err);
		return 1;
	}
	printf("finalize ok\n");
	if (failed) {
		printf("FAILED\n");
		return 1;
	}
	printf("all steps ok\n");
	return 0;
}
