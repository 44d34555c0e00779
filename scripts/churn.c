// SPDX-License-Identifier: GPL-2.0-only
/*
 * churn: loopback TCP connection churn, the load generator of scripts/bench-events.sh.
 *
 *   cc -O2 -pthread -o churn scripts/churn.c
 *   churn [--seconds S] [--max-conns N] [--threads T] [--mode client-close|server-close|rst]
 *         [--port P] [--ports K] [--family 4|6|46]
 *
 * Listens on ports P..P+K-1 of 127.0.0.1 (and/or ::1) and runs T client threads that each
 * open one connection at a time to those ports (round robin), exchange one byte each way and
 * close:
 *   client-close  the client closes first and its socket ends in TIME-WAIT
 *   server-close  the server closes first and the server side ends in TIME-WAIT
 *   rst           the client aborts with SO_LINGER {1, 0}: a RST, no TIME-WAIT anywhere
 * It stops after S seconds (default 5) or N connections (default 0: no limit), whichever comes
 * first, closes its listeners and prints one line:
 *   churn: C connections in S s = R conn/s (F failed, L listeners, T client threads)
 * Defaults: 2 threads, client-close, ports 7100..7103, IPv4.
 * It only ever connects to 127.0.0.1 and ::1, and refuses a server port that lies inside the
 * namespace's ip_local_port_range (run it in a private network namespace; see the script).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_CLIENT_CLOSE, MODE_SERVER_CLOSE, MODE_RST };

static struct {
	double seconds;
	unsigned long max_conns;
	int threads;
	enum mode mode;
	int port;
	int nports;
	bool v4, v6;
} opt = {
	.seconds = 5, .max_conns = 0, .threads = 2, .mode = MODE_CLIENT_CLOSE,
	.port = 7100, .nports = 4, .v4 = true, .v6 = false,
};

static atomic_ulong slots_taken;  /* connection attempts started (bounded by max_conns) */
static atomic_ulong completed;    /* connections that exchanged their byte and closed */
static atomic_ulong failed;       /* connect or exchange failures */
static atomic_bool stopping;
static double deadline;           /* CLOCK_MONOTONIC seconds */

struct listener {
	int fd;
	int family;
	int port;
};
static struct listener *listeners;
static int nlisteners;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "churn: %s: %s\n", what, strerror(errno));
	exit(1);
}

static socklen_t loopback_addr(int family, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	a->sin6_addr = in6addr_loopback;
	return sizeof(*a);
}

/* Bounded blocking I/O: no socket can hang a thread for longer than this. */
static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Reads until EOF, RST or timeout; returns true on a clean EOF. */
static bool drain_to_eof(int fd)
{
	char buf[16];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0)
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
	}
}

/* One server thread: accepts from one listener and serves each connection to its end. */
static void *server_main(void *arg)
{
	const struct listener *l = arg;
	char c;

	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break; /* EINVAL after shutdown(): we are stopping */
		}
		set_timeouts(fd);
		if (read(fd, &c, 1) == 1 && write(fd, &c, 1) == 1) {
			/* client-close and rst: wait for the client's FIN or RST, then close
			 * (passive close: CLOSE-WAIT, LAST-ACK). server-close: close now. */
			if (opt.mode != MODE_SERVER_CLOSE)
				drain_to_eof(fd);
		}
		close(fd);
	}
	return NULL;
}

static bool client_once(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback_addr(family, port, &ss);
	char c = 'x';
	bool ok = false;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&ss, len) != 0)
		goto out;
	if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
		goto out;
	switch (opt.mode) {
	case MODE_CLIENT_CLOSE:
		ok = true; /* close() below sends the first FIN */
		break;
	case MODE_SERVER_CLOSE:
		ok = drain_to_eof(fd); /* the server's FIN, then our close */
		break;
	case MODE_RST: {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		ok = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0;
		break;
	}
	}
out:
	close(fd);
	return ok;
}

static void *client_main(void *arg)
{
	unsigned long i = (unsigned long)(uintptr_t)arg;

	while (!atomic_load(&stopping)) {
		if (opt.max_conns) {
			unsigned long slot = atomic_fetch_add(&slots_taken, 1);

			if (slot >= opt.max_conns)
				break;
		}
		if (now() >= deadline)
			break;
		const struct listener *l = &listeners[i++ % nlisteners];

		if (client_once(l->family, l->port))
			atomic_fetch_add(&completed, 1);
		else
			atomic_fetch_add(&failed, 1);
	}
	return NULL;
}

/* The server port must not be one connect() could pick as a local port. */
static void check_port_range(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int lo, hi;

	if (!f)
		return;
	if (fscanf(f, "%d %d", &lo, &hi) == 2 && opt.port <= hi && opt.port + opt.nports - 1 >= lo) {
		fprintf(stderr,
			"churn: ports %d-%d overlap ip_local_port_range %d-%d; pick --port outside it\n",
			opt.port, opt.port + opt.nports - 1, lo, hi);
		exit(2);
	}
	fclose(f);
}

static void open_listeners(void)
{
	int families[2], nf = 0;

	if (opt.v4)
		families[nf++] = AF_INET;
	if (opt.v6)
		families[nf++] = AF_INET6;
	nlisteners = nf * opt.nports;
	listeners = calloc(nlisteners, sizeof(*listeners));
	if (!listeners)
		die("calloc");
	/* interleave families so round robin alternates v4 and v6 */
	for (int p = 0; p < opt.nports; p++) {
		for (int f = 0; f < nf; f++) {
			struct listener *l = &listeners[p * nf + f];
			struct sockaddr_storage ss;
			socklen_t len = loopback_addr(families[f], opt.port + p, &ss);
			int one = 1;

			l->family = families[f];
			l->port = opt.port + p;
			l->fd = socket(l->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (l->fd < 0)
				die("socket");
			setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (l->family == AF_INET6)
				setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			if (bind(l->fd, (struct sockaddr *)&ss, len) != 0)
				die("bind");
			if (listen(l->fd, 4096) != 0)
				die("listen");
		}
	}
}

static void usage(FILE *out, int code)
{
	fprintf(out,
		"usage: churn [--seconds S] [--max-conns N] [--threads T]\n"
		"             [--mode client-close|server-close|rst] [--port P] [--ports K]\n"
		"             [--family 4|6|46]\n");
	exit(code);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "max-conns", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "ports", required_argument, NULL, 'k' },
		{ "family", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:n:t:m:p:k:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opt.seconds = strtod(optarg, NULL);
			break;
		case 'n':
			opt.max_conns = strtoul(optarg, NULL, 10);
			break;
		case 't':
			opt.threads = atoi(optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "client-close"))
				opt.mode = MODE_CLIENT_CLOSE;
			else if (!strcmp(optarg, "server-close"))
				opt.mode = MODE_SERVER_CLOSE;
			else if (!strcmp(optarg, "rst"))
				opt.mode = MODE_RST;
			else
				usage(stderr, 2);
			break;
		case 'p':
			opt.port = atoi(optarg);
			break;
		case 'k':
			opt.nports = atoi(optarg);
			break;
		case 'f':
			opt.v4 = strchr(optarg, '4') != NULL;
			opt.v6 = strchr(optarg, '6') != NULL;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc || opt.seconds <= 0 || opt.seconds > 3600 || opt.threads < 1 ||
	    opt.threads > 256 || opt.nports < 1 || opt.nports > 64 || opt.port < 1 ||
	    opt.port + opt.nports - 1 > 65535 || (!opt.v4 && !opt.v6))
		usage(stderr, 2);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	check_port_range();
	open_listeners();

	/* as many servers per listener as clients: every client's connection is served at once */
	int nservers = nlisteners * opt.threads;
	pthread_t *servers = calloc(nservers, sizeof(*servers));
	pthread_t *clients = calloc(opt.threads, sizeof(*clients));

	if (!servers || !clients)
		die("calloc");
	for (int i = 0; i < nservers; i++)
		if (pthread_create(&servers[i], NULL, server_main, &listeners[i % nlisteners]))
			die("pthread_create");

	double start = now();

	deadline = start + opt.seconds;
	for (int i = 0; i < opt.threads; i++)
		if (pthread_create(&clients[i], NULL, client_main,
				   (void *)(uintptr_t)(i * 7919u % nlisteners)))
			die("pthread_create");
	for (int i = 0; i < opt.threads; i++)
		pthread_join(clients[i], NULL);
	double elapsed = now() - start;

	atomic_store(&stopping, true);
	/* shutdown() wakes the threads blocked in accept(); then the listeners are closed */
	for (int i = 0; i < nlisteners; i++)
		shutdown(listeners[i].fd, SHUT_RDWR);
	for (int i = 0; i < nservers; i++)
		pthread_join(servers[i], NULL);
	for (int i = 0; i < nlisteners; i++)
		close(listeners[i].fd);

	unsigned long done = atomic_load(&completed), bad = atomic_load(&failed);

	printf("churn: %lu connections in %.3f s = %.0f conn/s (%lu failed, %d listeners, "
	       "%d client threads)\n",
	       done, elapsed, elapsed > 0 ? done / elapsed : 0.0, bad, nlisteners, opt.threads);
	free(servers);
	free(clients);
	free(listeners);
	return bad && !done ? 1 : 0;
}
