// SPDX-License-Identifier: GPL-2.0-only
/*
 * churn: loopback TCP connection churn, the load generator of scripts/bench-events.sh and of
 * tests/e2e/test_stress.py.
 *
 *   cc -O2 -pthread -o churn scripts/churn.c      (or the CMake target `churn`)
 *   churn [--seconds S] [--max-conns N] [--threads T] [--servers N]
 *         [--mode client-close|server-close|rst|mix] [--port P] [--ports K] [--family 4|6|46]
 *
 * Listens on ports P..P+K-1 of 127.0.0.1 (and/or ::1) and runs T client threads that each
 * open one connection at a time to those ports (round robin), send one byte that names the
 * connection's close pattern, read it back and close:
 *   client-close  the client closes first and its socket ends in TIME-WAIT
 *   server-close  the server closes first and the server side ends in TIME-WAIT
 *   rst           the client aborts with SO_LINGER {1, 0}: a RST, no TIME-WAIT anywhere
 *   mix           each client thread takes the three patterns in turn, one per connection,
 *                 so all three run at the same time
 * The server side learns the pattern from that first byte. It is one of two models:
 *   default       K listeners x T blocking threads (each accepts from one listener and serves
 *                 one connection at a time to its end): every client is served at once
 *   --servers N   N threads in total, each with its own epoll set holding every listener
 *                 (EPOLLEXCLUSIVE, so one thread is woken per new connection) and the
 *                 connections it accepted; non-blocking sockets, so no connection waiting
 *                 for its peer holds up another, and N may be far smaller than T
 * Every blocking call is bounded: client sockets have 2 s send and receive timeouts (connect
 * included), a server connection that has not ended 3 s after its accept is closed and counted
 * as a server error, and the epoll servers wake at least every 50 ms.
 * It stops after S seconds (default 5) or N connections (default 0: no limit), whichever comes
 * first, lets the servers finish the connections they hold, closes its listeners and prints
 * two lines:
 *   churn: C connections in S s = R conn/s (F failed, L listeners, T client threads)
 *   churn: per mode: client-close C1 (F1 failed), server-close C2 (F2 failed), rst C3 (F3
 *          failed); servers: N threads, MODEL, E errors
 * (the second on one line; C = C1 + C2 + C3, F = F1 + F2 + F3, MODEL is blocking or epoll).
 * Defaults: 2 threads, blocking servers, client-close, ports 7100..7103, IPv4.
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_CLIENT_CLOSE, MODE_SERVER_CLOSE, MODE_RST, NMODES, MODE_MIX = NMODES };

static const char *const mode_names[NMODES] = { "client-close", "server-close", "rst" };
/* The first byte a client sends: the server closes (or waits) according to it. */
static const char mode_bytes[NMODES] = { 'c', 's', 'r' };

#define CLIENT_TIMEOUT_S 2 /* per blocking client call */
#define SERVER_CONN_TIMEOUT_S 3.0 /* per server connection, from accept to close */
#define SERVER_WAKE_MS 50

static struct {
	double seconds;
	unsigned long max_conns;
	int threads;
	int servers; /* 0: blocking, K x T threads */
	enum mode mode;
	int port;
	int nports;
	bool v4, v6;
} opt = {
	.seconds = 5, .max_conns = 0, .threads = 2, .servers = 0, .mode = MODE_CLIENT_CLOSE,
	.port = 7100, .nports = 4, .v4 = true, .v6 = false,
};

static atomic_ulong slots_taken;         /* connection attempts started (bounded by max_conns) */
static atomic_ulong completed[NMODES];   /* exchanged their byte and closed as the mode says */
static atomic_ulong failed[NMODES];      /* connect or exchange failures, client side */
static atomic_ulong server_errors;       /* server side: timeouts, early EOF, bad first byte */
static atomic_bool stopping;
static double deadline;                  /* CLOCK_MONOTONIC seconds */

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

static int mode_of_byte(char c)
{
	for (int m = 0; m < NMODES; m++)
		if (mode_bytes[m] == c)
			return m;
	return -1;
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

/* Bounded blocking I/O: no socket can hang a thread for longer than this per call. */
static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S, .tv_usec = 0 };

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

/*
 * Blocking server model (the default): one thread accepts from one listener and serves each
 * connection to its end: read the mode byte, echo it, then either close at once (server-close)
 * or wait for the client's FIN or RST before closing (passive close: CLOSE-WAIT, LAST-ACK).
 */
static void *blocking_server_main(void *arg)
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
		int m = read(fd, &c, 1) == 1 ? mode_of_byte(c) : -1;

		if (m < 0 || write(fd, &c, 1) != 1) {
			atomic_fetch_add(&server_errors, 1);
		} else if (m != MODE_SERVER_CLOSE) {
			/* a clean EOF (client-close) or a RST (rst) ends it; a timeout does not */
			if (!drain_to_eof(fd) && !(m == MODE_RST && errno == ECONNRESET))
				atomic_fetch_add(&server_errors, 1);
		}
		close(fd);
	}
	return NULL;
}

/*
 * Epoll server model (--servers N). Each thread owns an epoll set with every listener in it
 * (EPOLLEXCLUSIVE) and the connections it accepted, kept in accept order on a list so that
 * the oldest is the first to time out. A connection is a two-step state machine:
 *   AWAIT_BYTE  read the mode byte, echo it; server-close: close now, else AWAIT_END
 *   AWAIT_END   read until EOF (client-close) or ECONNRESET (rst), then close
 */
enum conn_state { AWAIT_BYTE, AWAIT_END };

struct conn {
	int fd;
	enum conn_state state;
	int mode;
	double deadline;
	struct conn *prev, *next;
};

struct server {
	pthread_t tid;
	int ep;
	struct conn conns; /* list head: conns.next is the oldest */
	unsigned long nconns;
	bool accepting;
};

static bool is_listener(const void *p)
{
	return p >= (const void *)listeners && p < (const void *)(listeners + nlisteners);
}

static void conn_end(struct server *s, struct conn *c, bool ok)
{
	if (!ok)
		atomic_fetch_add(&server_errors, 1);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	s->nconns--;
	close(c->fd); /* also removes it from the epoll set: the fd is not shared */
	free(c);
}

/* Reads what the socket has and advances the connection; may end (and free) it. */
static void conn_ready(struct server *s, struct conn *c)
{
	char buf[64];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n > 0) {
			if (c->state == AWAIT_BYTE) {
				c->mode = mode_of_byte(buf[0]);
				if (c->mode < 0 || write(c->fd, buf, 1) != 1) {
					conn_end(s, c, false);
					return;
				}
				if (c->mode == MODE_SERVER_CLOSE) {
					conn_end(s, c, true);
					return;
				}
				c->state = AWAIT_END;
			}
			continue; /* more bytes than the protocol's one: ignored */
		}
		if (n == 0) {
			conn_end(s, c, c->state == AWAIT_END);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		conn_end(s, c, c->state == AWAIT_END && c->mode == MODE_RST && errno == ECONNRESET);
		return;
	}
}

/* Accepts what one listener has queued (a bounded batch, to stay fair to the connections). */
static void accept_batch(struct server *s, const struct listener *l)
{
	for (int i = 0; i < 32; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				atomic_fetch_add(&server_errors, 1);
			return;
		}
		struct conn *c = calloc(1, sizeof(*c));

		if (!c)
			die("calloc");
		c->fd = fd;
		c->state = AWAIT_BYTE;
		c->mode = -1;
		c->deadline = now() + SERVER_CONN_TIMEOUT_S;
		c->prev = s->conns.prev;
		c->next = &s->conns;
		s->conns.prev->next = c;
		s->conns.prev = c;
		s->nconns++;

		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			die("epoll_ctl");
		/* the client writes its byte right after connect(): it is often here already */
		conn_ready(s, c);
	}
}

static void stop_accepting(struct server *s)
{
	for (int i = 0; i < nlisteners; i++)
		epoll_ctl(s->ep, EPOLL_CTL_DEL, listeners[i].fd, NULL);
	s->accepting = false;
}

static void *epoll_server_main(void *arg)
{
	struct server *s = arg;
	struct epoll_event evs[64];
	double give_up = 0; /* once stopping: when the connections still open are closed */

	for (;;) {
		int n = epoll_wait(s->ep, evs, 64, SERVER_WAKE_MS);

		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			if (is_listener(evs[i].data.ptr)) {
				if (s->accepting)
					accept_batch(s, evs[i].data.ptr);
			} else {
				conn_ready(s, evs[i].data.ptr);
			}
		}
		double t = now();

		while (s->conns.next != &s->conns && s->conns.next->deadline <= t)
			conn_end(s, s->conns.next, false);
		if (atomic_load(&stopping)) {
			/* every client has finished: what is left are the last FINs and RSTs */
			if (s->accepting) {
				stop_accepting(s);
				give_up = t + SERVER_CONN_TIMEOUT_S;
			}
			if (s->nconns == 0)
				break;
			if (t >= give_up) {
				while (s->conns.next != &s->conns)
					conn_end(s, s->conns.next, false);
				break;
			}
		}
	}
	return NULL;
}

static bool client_once(int family, int port, int m)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback_addr(family, port, &ss);
	char c = mode_bytes[m];
	bool ok = false;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&ss, len) != 0)
		goto out;
	if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 || c != mode_bytes[m])
		goto out;
	switch (m) {
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
	unsigned long t = (unsigned long)(uintptr_t)arg; /* thread index */
	unsigned long i = t * 7919u % nlisteners;        /* listener, round robin */
	unsigned long k = t % NMODES;                    /* mix: close pattern, round robin */

	while (!atomic_load(&stopping)) {
		if (opt.max_conns) {
			unsigned long slot = atomic_fetch_add(&slots_taken, 1);

			if (slot >= opt.max_conns)
				break;
		}
		if (now() >= deadline)
			break;
		const struct listener *l = &listeners[i++ % nlisteners];
		int m = opt.mode == MODE_MIX ? (int)(k++ % NMODES) : (int)opt.mode;

		if (client_once(l->family, l->port, m))
			atomic_fetch_add(&completed[m], 1);
		else
			atomic_fetch_add(&failed[m], 1);
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
			/* non-blocking only for the epoll servers: blocking ones sleep in accept() */
			l->fd = socket(l->family,
				       SOCK_STREAM | SOCK_CLOEXEC | (opt.servers ? SOCK_NONBLOCK : 0), 0);
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
		"usage: churn [--seconds S] [--max-conns N] [--threads T] [--servers N]\n"
		"             [--mode client-close|server-close|rst|mix] [--port P] [--ports K]\n"
		"             [--family 4|6|46]\n");
	exit(code);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "max-conns", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "servers", required_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "ports", required_argument, NULL, 'k' },
		{ "family", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:n:t:S:m:p:k:f:h", longopts, NULL)) != -1) {
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
		case 'S':
			opt.servers = atoi(optarg);
			if (opt.servers < 1)
				usage(stderr, 2);
			break;
		case 'm':
			if (!strcmp(optarg, "mix")) {
				opt.mode = MODE_MIX;
				break;
			}
			opt.mode = NMODES + 1;
			for (int m = 0; m < NMODES; m++)
				if (!strcmp(optarg, mode_names[m]))
					opt.mode = m;
			if (opt.mode > MODE_MIX)
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
	    opt.threads > 256 || opt.servers > 256 || opt.nports < 1 || opt.nports > 64 ||
	    opt.port < 1 || opt.port + opt.nports - 1 > 65535 || (!opt.v4 && !opt.v6))
		usage(stderr, 2);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	check_port_range();
	open_listeners();

	/* blocking: as many servers per listener as clients, so every client is served at once */
	int nservers = opt.servers ? opt.servers : nlisteners * opt.threads;
	pthread_t *blocking = NULL;
	struct server *servers = NULL;
	pthread_t *clients = calloc(opt.threads, sizeof(*clients));

	if (opt.servers)
		servers = calloc(nservers, sizeof(*servers));
	else
		blocking = calloc(nservers, sizeof(*blocking));
	if (!clients || (!servers && !blocking))
		die("calloc");
	for (int i = 0; i < nservers; i++) {
		if (blocking) {
			if (pthread_create(&blocking[i], NULL, blocking_server_main,
					   &listeners[i % nlisteners]))
				die("pthread_create");
			continue;
		}
		struct server *s = &servers[i];

		s->ep = epoll_create1(EPOLL_CLOEXEC);
		if (s->ep < 0)
			die("epoll_create1");
		s->conns.next = s->conns.prev = &s->conns;
		s->accepting = true;
		for (int j = 0; j < nlisteners; j++) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
						  .data.ptr = &listeners[j] };

			if (epoll_ctl(s->ep, EPOLL_CTL_ADD, listeners[j].fd, &ev) != 0)
				die("epoll_ctl");
		}
		if (pthread_create(&s->tid, NULL, epoll_server_main, s))
			die("pthread_create");
	}

	double start = now();

	deadline = start + opt.seconds;
	for (int i = 0; i < opt.threads; i++)
		if (pthread_create(&clients[i], NULL, client_main, (void *)(uintptr_t)i))
			die("pthread_create");
	for (int i = 0; i < opt.threads; i++)
		pthread_join(clients[i], NULL);
	double elapsed = now() - start;

	atomic_store(&stopping, true);
	if (blocking) {
		/* shutdown() wakes the threads blocked in accept() */
		for (int i = 0; i < nlisteners; i++)
			shutdown(listeners[i].fd, SHUT_RDWR);
		for (int i = 0; i < nservers; i++)
			pthread_join(blocking[i], NULL);
	} else {
		/* each epoll server ends once its last connection has (within 3 s) */
		for (int i = 0; i < nservers; i++) {
			pthread_join(servers[i].tid, NULL);
			close(servers[i].ep);
		}
	}
	for (int i = 0; i < nlisteners; i++)
		close(listeners[i].fd);

	unsigned long done = 0, bad = 0;

	for (int m = 0; m < NMODES; m++) {
		done += atomic_load(&completed[m]);
		bad += atomic_load(&failed[m]);
	}
	printf("churn: %lu connections in %.3f s = %.0f conn/s (%lu failed, %d listeners, "
	       "%d client threads)\n",
	       done, elapsed, elapsed > 0 ? done / elapsed : 0.0, bad, nlisteners, opt.threads);
	printf("churn: per mode:");
	for (int m = 0; m < NMODES; m++)
		printf("%s %s %lu (%lu failed)", m ? "," : "", mode_names[m],
		       atomic_load(&completed[m]), atomic_load(&failed[m]));
	printf("; servers: %d threads, %s, %lu errors\n", nservers, opt.servers ? "epoll" : "blocking",
	       atomic_load(&server_errors));
	free(blocking);
	free(servers);
	free(clients);
	free(listeners);
	return bad && !done ? 1 : 0;
}
