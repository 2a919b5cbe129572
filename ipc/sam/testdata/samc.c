/*
 * samc: the C SAM program the ipc/sam tests compile against Debian's libsam and run
 * against a daemon. The scenarios are samprog's; each prints "iid N: ..." lines and
 * exits 0 when its instances saw what they should, 2 otherwise.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cmap.h>
#include <corosync/sam.h>

static volatile sig_atomic_t warned;

static void on_usr1(int sig) { (void)sig; warned = 1; }

static int fail(const char *what, int err)
{
	printf("FAIL: %s: %d\n", what, err);
	fflush(stdout);
	return 2;
}

static void say(const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static unsigned int reg(int interval, sam_recovery_policy_t pol)
{
	unsigned int iid;
	cs_error_t err;

	if ((err = sam_initialize(interval, pol)) != CS_OK) {
		exit(fail("sam_initialize", err));
	}
	if ((err = sam_register(&iid)) != CS_OK) {
		exit(fail("sam_register", err));
	}
	return iid;
}

static int restored_is(const char *want)
{
	char buf[256];
	size_t size;

	memset(buf, 0, sizeof(buf));
	if (sam_data_getsize(&size) != CS_OK || size >= sizeof(buf)) {
		return 0;
	}
	if (size > 0 && sam_data_restore(buf, sizeof(buf)) != CS_OK) {
		return 0;
	}
	printf("restored \"%s\"\n", buf);
	fflush(stdout);
	return strcmp(buf, want) == 0;
}

static int crash(void)
{
	unsigned int iid = reg(2000, SAM_RECOVERY_POLICY_RESTART | SAM_RECOVERY_POLICY_CMAP);
	const char *data = "stored by instance 1";

	if (iid == 1) {
		if (sam_data_store(data, strlen(data) + 1) != CS_OK || sam_start() != CS_OK) {
			return fail("store/start", 0);
		}
		sam_hc_send();
		say("iid 1: crashing");
		raise(SIGSEGV);
		return fail("still alive", 0);
	}
	if (iid == 2) {
		say("iid 2: restoring");
		if (!restored_is(data)) {
			return fail("restore", 0);
		}
		sam_finalize();
		return 0;
	}
	return fail("instance", iid);
}

static int hang(void)
{
	unsigned int iid = reg(1000, SAM_RECOVERY_POLICY_RESTART);
	int i;

	if (iid == 1) {
		if (sam_warn_signal_set(SIGUSR1) != CS_OK) {
			return fail("warn signal", 0);
		}
		signal(SIGUSR1, on_usr1);
		if (sam_start() != CS_OK) {
			return fail("start", 0);
		}
		for (i = 0; i < 3; i++) {
			msleep(300);
			sam_hc_send();
		}
		say("iid 1: hanging");
		while (!warned) {
			msleep(50);
		}
		say("iid 1: warned");
		if (sam_data_store("warned", 7) != CS_OK) {
			return fail("store", 0);
		}
		sleep(30);
		return fail("not killed", 0);
	}
	if (iid == 2) {
		return restored_is("warned") ? 0 : fail("restore", 0);
	}
	return fail("instance", iid);
}

static int check_key(cmap_handle_t h, const char *key, const char *want)
{
	char *s = NULL;
	cs_error_t err = cmap_get_string(h, key, &s);
	int ok = err == CS_OK && strcmp(s, want) == 0;

	if (!ok) {
		printf("FAIL: %s = %s (%d), want %s\n", key, s ? s : "?", err, want);
		fflush(stdout);
	}
	free(s);
	return ok;
}

static int cmapquit(void)
{
	unsigned int iid = reg(1000, SAM_RECOVERY_POLICY_QUIT | SAM_RECOVERY_POLICY_CMAP);
	cmap_handle_t h;
	char key[256];
	uint64_t pp, t1, t2;

	if (iid != 1) {
		return fail("instance", iid);
	}
	if (cmap_initialize(&h) != CS_OK) {
		return fail("cmap", 0);
	}
	snprintf(key, sizeof(key), "resources.process.%d.recovery", getppid());
	if (!check_key(h, key, "quit")) return 2;
	snprintf(key, sizeof(key), "resources.process.%d.poll_period", getppid());
	if (cmap_get_uint64(h, key, &pp) != CS_OK || pp != 1000) return fail("poll_period", (int)pp);
	snprintf(key, sizeof(key), "resources.process.%d.state", getppid());
	if (!check_key(h, key, "stopped")) return 2;
	if (sam_start() != CS_OK) return fail("start", 0);
	if (!check_key(h, key, "running")) return 2;
	sam_hc_send();
	snprintf(key, sizeof(key), "resources.process.%d.last_updated", getppid());
	if (cmap_get_uint64(h, key, &t1) != CS_OK) return fail("last_updated", 0);
	msleep(200);
	sam_hc_send();
	msleep(100);
	if (cmap_get_uint64(h, key, &t2) != CS_OK || t2 - t1 < 100000000ULL || t2 - t1 > 2000000000ULL) {
		return fail("last_updated 2", 0);
	}
	snprintf(key, sizeof(key), "resources.process.%d.state", getppid());
	if (sam_stop() != CS_OK) return fail("stop", 0);
	if (!check_key(h, key, "stopped")) return 2;
	if (sam_start() != CS_OK) return fail("start 2", 0);
	say("iid 1: started without health checks");
	sleep(30);
	return fail("not killed", 0);
}

static int markfailed(void)
{
	unsigned int iid = reg(0, SAM_RECOVERY_POLICY_RESTART | SAM_RECOVERY_POLICY_CMAP);

	if (iid == 1) {
		if (sam_start() != CS_OK) return fail("start", 0);
		say("iid 1: exiting while started");
		return 1;
	}
	if (iid == 2) {
		say("iid 2: marking failed");
		if (sam_mark_failed() != CS_OK) return fail("mark failed", 0);
		sleep(30);
		return fail("not killed", 0);
	}
	return fail("instance", iid);
}

static int quorumquit(void)
{
	unsigned int iid = reg(1000, SAM_RECOVERY_POLICY_QUORUM_QUIT);
	int i;

	if (iid != 1) return fail("instance", iid);
	if (sam_start() != CS_OK) return fail("start", 0);
	say("iid 1: started");
	for (i = 0; i < 300; i++) {
		msleep(100);
		if (sam_hc_send() != CS_OK) return fail("hc send", 0);
	}
	return fail("not killed", 0);
}

static int quorumrestart(sam_recovery_policy_t pol)
{
	unsigned int iid = reg(1000, pol);
	int i;

	if (iid == 1) {
		if (sam_start() != CS_OK) return fail("start", 0);
		say("iid 1: started");
		for (i = 0; i < 300; i++) {
			msleep(100);
			sam_hc_send();
		}
		return fail("not killed", 0);
	}
	if (iid == 2) {
		say("iid 2: starting");
		if (sam_start() != CS_OK) return fail("start", 0);
		say("iid 2: started");
		if (sam_stop() != CS_OK) return fail("stop", 0);
		say("iid 2: stopped");
		/*
		 * With QUORUM|CMAP libsam's server answers sam_start twice, so sam_stop took
		 * the second answer and the server is still writing the stop's: leaving now
		 * would kill it with SIGPIPE.
		 */
		msleep(500);
		return 0;
	}
	return fail("instance", iid);
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(s, "crash") == 0) return crash();
	if (strcmp(s, "hang") == 0) return hang();
	if (strcmp(s, "cmapquit") == 0) return cmapquit();
	if (strcmp(s, "markfailed") == 0) return markfailed();
	if (strcmp(s, "quorumquit") == 0) return quorumquit();
	if (strcmp(s, "quorumrestart") == 0) return quorumrestart(SAM_RECOVERY_POLICY_QUORUM_RESTART);
	if (strcmp(s, "quorumcmap") == 0) {
		return quorumrestart(SAM_RECOVERY_POLICY_QUORUM_RESTART | SAM_RECOVERY_POLICY_CMAP);
	}
	fprintf(stderr, "unknown scenario %s\n", s);
	return 2;
}
