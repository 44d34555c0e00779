// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-ring.c: loads bench-ring.bpf.o with one variant, attaches it, drains what it writes,
 * runs COMMAND (the churn) and prints the program's runs and run time (it turns the kernel's BPF
 * statistics on while it runs) and the records it read back. For scripts/bench-ring.sh only.
 *
 *   bench-ring OBJECT VARIANT RING_BYTES COMMAND
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_RINGS 64
#define RECORD 112

static volatile int stop;
static unsigned long long records;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	records += size / RECORD;
	return 0;
}

static enum bpf_perf_event_ret on_sample(void *ctx, int cpu, struct perf_event_header *h)
{
	(void)ctx;
	(void)cpu;
	(void)h;
	records++;
	return LIBBPF_PERF_EVENT_CONT;
}

/* struct slots of bench-ring.bpf.c: a head, then its records */
#define SLOTS 4096
#define SLOTS_BYTES (64 + SLOTS * RECORD)

/* The reader: whichever of the three was set up, every 5 ms. */
static struct ring_buffer *rb;
static struct perf_buffer *pb;
static const unsigned char *arrays;
static unsigned int narrays;
static unsigned long long tails[MAX_RINGS];
static volatile unsigned long long read_sum;

static void drain_arrays(void)
{
	unsigned int c;

	for (c = 0; c < narrays; c++) {
		const unsigned char *base = arrays + (size_t)c * SLOTS_BYTES;
		unsigned long long head = __atomic_load_n((const unsigned long long *)base,
							  __ATOMIC_ACQUIRE);

		for (; tails[c] < head; tails[c]++) {
			unsigned long long first;

			memcpy(&first, base + 64 + (tails[c] % SLOTS) * RECORD, sizeof(first));
			read_sum += first; /* every record is read, as a consumer would */
			records++;
		}
	}
}

static void drain(void)
{
	if (rb)
		ring_buffer__consume(rb);
	if (pb)
		perf_buffer__consume(pb);
	if (arrays)
		drain_arrays();
}

static void *reader_main(void *arg)
{
	(void)arg;
	while (!stop) {
		usleep(5000);
		drain();
	}
	drain();
	return NULL;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct bpf_map *map;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	unsigned int variant, ring_bytes, nrings, i;
	pthread_t reader;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: bench-ring OBJECT VARIANT RING_BYTES COMMAND\n");
		return 2;
	}
	variant = (unsigned int)atoi(argv[2]);
	ring_bytes = (unsigned int)strtoul(argv[3], NULL, 0);
	nrings = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nrings > MAX_RINGS)
		nrings = MAX_RINGS;
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bench-ring: cannot open %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_map(map, obj) {
		if (strstr(bpf_map__name(map), ".rodata")) {
			size_t size;
			__u32 *ro = (__u32 *)bpf_map__initial_value(map, &size);

			ro[0] = variant; /* struct cfg: variant, nrings */
			ro[1] = nrings;
		}
	}
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "shared"), ring_bytes);
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "arrays"), nrings);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bench-ring: cannot load %s\n", argv[1]);
		return 1;
	}
	for (i = 0; i < nrings; i++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "bench_ring", 0, 0,
					ring_bytes / nrings, NULL);

		if (fd < 0 || bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "rings"), &i,
						  &fd, BPF_ANY)) {
			fprintf(stderr, "bench-ring: cannot create the per-CPU rings\n");
			return 1;
		}
		if (variant == 3 || variant == 4) {
			if (!rb)
				rb = ring_buffer__new(fd, on_record, NULL, NULL);
			else
				ring_buffer__add(rb, fd, on_record, NULL);
		}
	}
	if (variant == 2)
		rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "shared"), on_record,
				      NULL, NULL);
	if (variant == 5) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_BPF_OUTPUT,
			.sample_type = PERF_SAMPLE_RAW,
			.wakeup_events = 64,
		};

		pb = perf_buffer__new_raw(bpf_object__find_map_fd_by_name(obj, "perf"),
					  ring_bytes / nrings / 4096, &attr, on_sample, NULL, NULL);
	}
	if (variant == 6) {
		size_t len_map = ((size_t)nrings * SLOTS_BYTES + 4095) & ~(size_t)4095;
		void *m = mmap(NULL, len_map, PROT_READ, MAP_SHARED,
			       bpf_object__find_map_fd_by_name(obj, "arrays"), 0);

		if (m != MAP_FAILED) {
			arrays = m;
			narrays = nrings;
		}
	}
	if ((variant >= 2 && variant <= 4 && !rb) || (variant == 5 && !pb) ||
	    (variant == 6 && !arrays)) {
		fprintf(stderr, "bench-ring: cannot set up the reader\n");
		return 1;
	}
	if (bpf_enable_stats(BPF_STATS_RUN_TIME) < 0) {
		fprintf(stderr, "bench-ring: cannot turn on the BPF statistics\n");
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "bench_ring");
	link = bpf_program__attach(prog);
	if (!link) {
		fprintf(stderr, "bench-ring: cannot attach\n");
		return 1;
	}
	if (rb || pb || arrays)
		pthread_create(&reader, NULL, reader_main, NULL);
	rc = system(argv[4]);
	stop = 1;
	if (rb || pb || arrays)
		pthread_join(reader, NULL);
	bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len);
	printf("runs %llu run_ns %llu records %llu rc %d\n", (unsigned long long)info.run_cnt,
	       (unsigned long long)info.run_time_ns, records, rc);
	bpf_link__destroy(link);
	ring_buffer__free(rb);
	perf_buffer__free(pb);
	bpf_object__close(obj);
	return rc == 0 ? 0 : 1;
}
