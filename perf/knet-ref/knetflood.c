/* knetflood: one-direction flood through kronosnet (libknet1), the transport library corosync
 * 3.1.7 uses, as a reference for perf/cmd/linkbench. Two processes, one per network namespace:
 *
 *   knetflood rx|tx -l LOCALIP -r REMOTEIP -s SIZE -t SECONDS [-c none|aes256]
 *
 * tx is knet host 1, rx is host 2; each has one UDP link (link 0, port 5405) to the other. The
 * handle is set up the way corosync's totemknet does it: privileged handle, knet-created data
 * socketpair on channel 0, a host filter, link flag TRAFFICHIPRIO, passive policy, corosync's
 * default ping timers for a two-node cluster, crypto via config slot 1, no compression, PMTUd
 * on. tx waits for the link to be up and measured, then knet_send()s SIZE-byte messages as fast
 * as it can for 0.2 s + SECONDS. rx knet_recv()s and counts what arrives in the window that
 * starts 0.2 s after its first message and lasts SECONDS, and prints (on stdout, last line):
 *
 *   rx msgs=N bytes=N window=SECONDS drops=N
 *
 * drops counts messages knet could not hand to rx because the data socket was full.
 * Build: gcc -O2 -o knetflood knetflood.c -lknet -lpthread   (Debian: libknet-dev) */
#include <libknet.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PORT "5405"
#define CHANNEL 0
#define WARMUP 0.2
#define SETUP_LIMIT 30.0 /* seconds to wait for the link (and for rx, for the first message) */
#define IDLE_LIMIT 1.0   /* rx gives up this long after the last message */

static atomic_ulong rx_drops;    /* knet found our data socket full (EAGAIN) */
static atomic_int sock_failed;   /* any other data socket error: stop */
static atomic_uint pmtud_mtu;    /* data MTU from the last PMTUd notification, 0 before */

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
	fprintf(stderr, "knetflood: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* knet writes struct knet_log_msg records to a pipe; print them so failures are visible. */
static void *log_reader(void *arg) {
	int fd = *(int *)arg;
	struct knet_log_msg m;
	while (read(fd, &m, sizeof(m)) == (ssize_t)sizeof(m))
		fprintf(stderr, "knet %s/%s: %.*s\n", knet_log_get_subsystem_name(m.subsystem),
			knet_log_get_loglevel_name(m.msglevel), (int)sizeof(m.msg), m.msg);
	return NULL;
}

/* Called by knet when reading or writing the data socket fails. On rx a full socket (EAGAIN)
 * means knet dropped a message because we read too slowly: count it, keep the socket. */
static void sock_notify(void *priv, int fd, int8_t chan, uint8_t tx_rx, int error, int errorno) {
	(void)priv; (void)fd; (void)chan;
	if (tx_rx == KNET_NOTIFY_RX && error < 0 && (errorno == EAGAIN || errorno == EWOULDBLOCK)) {
		atomic_fetch_add_explicit(&rx_drops, 1, memory_order_relaxed);
		return;
	}
	atomic_store(&sock_failed, errorno ? errorno : -1);
}

/* Every message goes to every other host, as corosync's multicast messages do. */
static int filter(void *priv, const unsigned char *data, ssize_t len, uint8_t tx_rx,
		  knet_node_id_t this_host, knet_node_id_t src_host, int8_t *chan,
		  knet_node_id_t *dst, size_t *ndst) {
	(void)priv; (void)data; (void)len; (void)tx_rx; (void)this_host; (void)src_host;
	(void)chan; (void)dst; (void)ndst;
	return 1;
}

static void pmtud_notify(void *priv, unsigned int data_mtu) {
	(void)priv;
	atomic_store(&pmtud_mtu, data_mtu);
}

/* Corosync's default crypto_model is nss; fall back to openssl if that plugin is missing. */
static const char *pick_crypto_model(void) {
	struct knet_crypto_info list[256];
	size_t n = 0;
	const char *found = NULL;
	if (knet_get_crypto_list(list, &n) < 0)
		die("knet_get_crypto_list");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, "nss") == 0)
			return "nss";
		if (strcmp(list[i].name, "openssl") == 0)
			found = "openssl";
	}
	if (!found) {
		fprintf(stderr, "knetflood: neither nss nor openssl crypto plugin is installed\n");
		exit(1);
	}
	return found;
}

static void setup_crypto(knet_handle_t h, const char *cipher) {
	if (strcmp(cipher, "none") == 0) {
		if (knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC) < 0)
			die("knet_handle_crypto_rx_clear_traffic");
		return;
	}
	static struct knet_handle_crypto_cfg cfg; /* 4 KiB key field: keep it off the stack */
	snprintf(cfg.crypto_model, sizeof(cfg.crypto_model), "%s", pick_crypto_model());
	snprintf(cfg.crypto_cipher_type, sizeof(cfg.crypto_cipher_type), "aes256");
	snprintf(cfg.crypto_hash_type, sizeof(cfg.crypto_hash_type), "sha256");
	/* The same fixed key on both sides; the size of corosync's default authkey. */
	for (int i = 0; i < 256; i++)
		cfg.private_key[i] = (unsigned char)(i * 31 + 7);
	cfg.private_key_len = 256;
	int r = knet_handle_crypto_set_config(h, &cfg, 1);
	if (r != 0) {
		fprintf(stderr, "knetflood: knet_handle_crypto_set_config(%s) returned %d\n",
			cfg.crypto_model, r);
		exit(1);
	}
	if (knet_handle_crypto_use_config(h, 1) < 0)
		die("knet_handle_crypto_use_config");
	if (knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC) < 0)
		die("knet_handle_crypto_rx_clear_traffic");
	fprintf(stderr, "knetflood: crypto model=%s cipher=aes256 hash=sha256\n", cfg.crypto_model);
}

static int link_status(knet_handle_t h, knet_node_id_t peer, struct knet_link_status *st) {
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return knet_link_get_status(h, peer, 0, st, sizeof(*st));
}

static void usage(void) {
	fprintf(stderr, "usage: knetflood rx|tx -l LOCALIP -r REMOTEIP -s SIZE -t SECONDS [-c none|aes256]\n");
	exit(2);
}

int main(int argc, char **argv) {
	if (argc < 2 || (strcmp(argv[1], "rx") != 0 && strcmp(argv[1], "tx") != 0))
		usage();
	int is_tx = strcmp(argv[1], "tx") == 0;
	const char *local = NULL, *remote = NULL, *cipher = "none";
	long size = 0;
	double seconds = 0;
	int opt;
	optind = 2;
	while ((opt = getopt(argc, argv, "l:r:s:t:c:")) != -1) {
		switch (opt) {
		case 'l': local = optarg; break;
		case 'r': remote = optarg; break;
		case 's': size = atol(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'c': cipher = optarg; break;
		default: usage();
		}
	}
	/* knet accepts messages up to KNET_MAX_PACKET_SIZE and fragments them to the data MTU. */
	if (!local || !remote || size < 1 || size > KNET_MAX_PACKET_SIZE || !(seconds > 0) ||
	    seconds > 600 || (strcmp(cipher, "none") != 0 && strcmp(cipher, "aes256") != 0))
		usage();

	knet_node_id_t self = is_tx ? 1 : 2, peer = is_tx ? 2 : 1;

	int logpipe[2];
	if (pipe(logpipe) < 0)
		die("pipe");
	/* knet must never block on its log pipe (libknet.h), so only the write end is non-blocking. */
	if (fcntl(logpipe[1], F_SETFL, O_NONBLOCK) < 0)
		die("fcntl");
	pthread_t logger;
	if (pthread_create(&logger, NULL, log_reader, &logpipe[0]) != 0)
		die("pthread_create");

	/* knet_handle_new is the privileged variant: it forces 8 MiB socket buffers, as in corosync. */
	knet_handle_t h = knet_handle_new(self, logpipe[1], KNET_LOG_WARN);
	if (!h)
		die("knet_handle_new");
	if (knet_handle_enable_sock_notify(h, NULL, sock_notify) < 0)
		die("knet_handle_enable_sock_notify");
	if (knet_handle_enable_filter(h, NULL, filter) < 0)
		die("knet_handle_enable_filter");
	if (knet_handle_enable_pmtud_notify(h, NULL, pmtud_notify) < 0)
		die("knet_handle_enable_pmtud_notify");
	int datafd = 0; /* 0: knet creates an AF_UNIX SOCK_SEQPACKET pair and gives us one end */
	int8_t channel = CHANNEL;
	if (knet_handle_add_datafd(h, &datafd, &channel) < 0)
		die("knet_handle_add_datafd");
	setup_crypto(h, cipher);
	/* Compression stays at its default, none (corosync's knet_compression_model default). */
	if (knet_handle_setfwd(h, 1) < 0)
		die("knet_handle_setfwd");
	unsigned int min_mtu = 0; /* the data MTU knet assumes before PMTUd has run */
	if (knet_handle_pmtud_get(h, &min_mtu) < 0)
		die("knet_handle_pmtud_get");

	struct sockaddr_storage src, dst;
	if (knet_strtoaddr(local, PORT, &src, sizeof(src)) != 0 ||
	    knet_strtoaddr(remote, PORT, &dst, sizeof(dst)) != 0) {
		fprintf(stderr, "knetflood: bad address %s or %s\n", local, remote);
		return 1;
	}
	if (knet_host_add(h, peer) < 0)
		die("knet_host_add");
	if (knet_host_set_policy(h, peer, KNET_LINK_POLICY_PASSIVE) < 0)
		die("knet_host_set_policy");
	if (knet_link_set_config(h, peer, 0, KNET_TRANSPORT_UDP, &src, &dst,
				 KNET_LINK_FLAG_TRAFFICHIPRIO) < 0)
		die("knet_link_set_config");
	/* corosync with token 3000 ms, knet_pong_count 2: interval token/4, timeout token/2. */
	if (knet_link_set_ping_timers(h, peer, 0, 750, 1500, 2048) < 0)
		die("knet_link_set_ping_timers");
	if (knet_link_set_pong_count(h, peer, 0, 2) < 0)
		die("knet_link_set_pong_count");
	if (knet_link_set_enable(h, peer, 0, 1) < 0)
		die("knet_link_set_enable");

	int rc = 0;
	struct knet_link_status st;
	char *buf = calloc(1, KNET_MAX_PACKET_SIZE);
	if (!buf)
		die("calloc");

	if (is_tx) {
		/* Wait for the link to be up and for PMTUd to have measured it. Until then knet
		 * fragments to the data MTU of a 576-byte IPv4 path (482 bytes without crypto), and
		 * the first notification is only that reset, so wait for a data MTU above it. */
		double give_up = now() + SETUP_LIMIT;
		for (;;) {
			if (link_status(h, peer, &st) == 0 && st.connected && st.proto_overhead &&
			    atomic_load(&pmtud_mtu) > min_mtu)
				break;
			if (now() > give_up) {
				fprintf(stderr, "knetflood: link to host %u not up and measured after %.0f s "
					"(connected=%u, data MTU %u)\n", peer, SETUP_LIMIT, st.connected,
					atomic_load(&pmtud_mtu));
				rc = 1;
				goto out;
			}
			usleep(20000);
		}
		fprintf(stderr, "knetflood: tx link up, data MTU %u, link MTU %u, overhead %u\n",
			atomic_load(&pmtud_mtu), st.mtu, st.proto_overhead);
		memset(buf, 0xa5, size);
		unsigned long sent = 0, waits = 0, timeouts = 0;
		double waited = 0;
		double start = now(), end = start + WARMUP + seconds;
		while (now() < end && !atomic_load(&sock_failed)) {
			ssize_t n = knet_send(h, buf, size, channel);
			if (n == size) {
				sent++;
			} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				/* knet's TX thread is behind: the socket pair is full. An AF_UNIX socket
				 * only polls writable again once its send queue is down to a quarter of
				 * the 8 MiB knet gave it, thousands of messages later, so these polls
				 * usually time out while the queue is still deep; that costs nothing. */
				struct pollfd p = {.fd = datafd, .events = POLLOUT};
				double w0 = now();
				waits++;
				int pr = poll(&p, 1, 10);
				waited += now() - w0;
				if (pr == 0)
					timeouts++;
			} else {
				fprintf(stderr, "knetflood: knet_send returned %zd: %s\n", n, strerror(errno));
				rc = 1;
				break;
			}
		}
		double took = now() - start;
		link_status(h, peer, &st);
		fprintf(stderr, "knetflood: tx sent=%lu in %.3f s (%.0f/s), full-socket waits=%lu "
			"(%.3f s, %lu timed out), link tx_data_packets=%llu retries=%llu\n", sent, took,
			sent / took, waits, waited, timeouts,
			(unsigned long long)st.stats.tx_data_packets,
			(unsigned long long)st.stats.tx_data_retries);
	} else {
		/* Count only the window [first+WARMUP, first+WARMUP+seconds), judged per batch. */
		unsigned long msgs = 0, bytes = 0;
		double give_up = now() + SETUP_LIMIT, first = 0, last = 0, win_start = 0, win_end = 0;
		for (;;) {
			struct pollfd p = {.fd = datafd, .events = POLLIN};
			int pr = poll(&p, 1, 50);
			if (pr < 0 && errno != EINTR)
				die("poll");
			unsigned long got = 0, gotbytes = 0;
			/* Drain at most a bounded batch, then look at the clock. */
			for (int i = 0; i < 256; i++) {
				ssize_t n = knet_recv(h, buf, KNET_MAX_PACKET_SIZE, channel);
				if (n < 0) {
					if (errno == EAGAIN || errno == EWOULDBLOCK)
						break;
					die("knet_recv");
				}
				if (n == 0)
					break;
				got++;
				gotbytes += (unsigned long)n;
			}
			double t = now();
			if (got) {
				if (first == 0) {
					first = t;
					win_start = first + WARMUP;
					win_end = win_start + seconds;
				}
				last = t;
				if (t >= win_start && t < win_end) {
					msgs += got;
					bytes += gotbytes;
				}
			}
			if (atomic_load(&sock_failed)) {
				fprintf(stderr, "knetflood: data socket error %d\n", atomic_load(&sock_failed));
				rc = 1;
				break;
			}
			if (first == 0 && t > give_up) {
				fprintf(stderr, "knetflood: rx got nothing in %.0f s\n", SETUP_LIMIT);
				rc = 1;
				break;
			}
			if (first != 0 && t >= win_end)
				break;
			if (first != 0 && t - last > IDLE_LIMIT) {
				/* The sender stopped early: the window ends with the last message. */
				if (last < win_end)
					win_end = last;
				break;
			}
		}
		double window = win_end > win_start ? win_end - win_start : 0;
		link_status(h, peer, &st);
		fprintf(stderr, "knetflood: rx link rx_data_packets=%llu, data MTU %u\n",
			(unsigned long long)st.stats.rx_data_packets, atomic_load(&pmtud_mtu));
		if (rc == 0)
			printf("rx msgs=%lu bytes=%lu window=%.6f drops=%lu\n", msgs, bytes, window,
			       atomic_load(&rx_drops));
		fflush(stdout);
	}

out:
	/* Tear down in the order knet_handle_free requires (it refuses while hosts exist). */
	knet_handle_setfwd(h, 0);
	knet_link_set_enable(h, peer, 0, 0);
	knet_link_clear_config(h, peer, 0);
	knet_host_remove(h, peer);
	knet_handle_remove_datafd(h, datafd);
	if (knet_handle_free(h) < 0)
		fprintf(stderr, "knetflood: knet_handle_free: %s\n", strerror(errno));
	close(logpipe[1]); /* ends log_reader */
	pthread_join(logger, NULL);
	free(buf);
	return rc;
}
