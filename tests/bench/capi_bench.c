/* capi_bench.c: the C API's side of the benchmark (tests/harness.sh bench, driven by
 * tests/bench/run.py), compiled against lvs-capi's libipvs.h and libipvs.so. One operation per
 * process; prints one line of key=value pairs (or, for `save`, the rules) and exits non-zero if
 * anything failed.
 *
 *   capi_bench loop FILE     libipvs style: ipvs_init, then one ipvs_add_service/ipvs_add_dest
 *                            call per rule line (the benchmark's rule subset: -A/-a with -t,
 *                            -s, -r, -m/-g/-i, -w)
 *   capi_bench restore FILE  lvs's batch extension: lvs_restore_file (one pipelined batch)
 *   capi_bench read          ipvs_get_services, then ipvs_get_dests of each service
 *   capi_bench save          lvs_save_text, written to standard output
 *   capi_bench apply FILE    lvs_apply_text (the fewest changes, no flush)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libipvs.h"

static int fail(const char *what)
{
	char *detail = lvs_last_error();

	fprintf(stderr, "capi_bench: %s: %s%s%s\n", what, ipvs_strerror(errno),
		detail ? ": " : "", detail ? detail : "");
	free(detail);
	return 1;
}

/* "a.b.c.d:port" into an IPv4 address and a port in network order. */
static int endpoint(const char *text, union nf_inet_addr *addr, __be16 *port)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	size_t len;
	char *end;
	long p;

	if (!colon)
		return -1;
	len = (size_t)(colon - text);
	if (len >= sizeof(host))
		return -1;
	memcpy(host, text, len);
	host[len] = '\0';
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, host, &addr->in) != 1)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535)
		return -1;
	*port = htons((unsigned short)p);
	return 0;
}

/* One rule line into a service (and a real server for -a); returns 'A', 'a' or 0 (blank). */
static int parse_line(char *line, ipvs_service_t *svc, ipvs_dest_t *dest)
{
	char *save = NULL, *tok, *cmd = strtok_r(line, " \t\r\n", &save);

	if (!cmd || cmd[0] == '#')
		return 0;
	memset(svc, 0, sizeof(*svc));
	memset(dest, 0, sizeof(*dest));
	svc->af = AF_INET;
	svc->protocol = IPPROTO_TCP;
	svc->netmask = 0xffffffff;
	strcpy(svc->sched_name, "wlc");
	dest->af = AF_INET;
	dest->weight = 1;
	dest->conn_flags = IP_VS_CONN_F_DROUTE;
	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		char *arg = NULL;

		if (!strcmp(tok, "-t") || !strcmp(tok, "-s") || !strcmp(tok, "-r") ||
		    !strcmp(tok, "-w")) {
			arg = strtok_r(NULL, " \t\r\n", &save);
			if (!arg)
				return -1;
		}
		if (!strcmp(tok, "-t")) {
			if (endpoint(arg, &svc->addr, &svc->port))
				return -1;
		} else if (!strcmp(tok, "-s")) {
			if (strlen(arg) >= sizeof(svc->sched_name))
				return -1;
			strcpy(svc->sched_name, arg);
		} else if (!strcmp(tok, "-r")) {
			if (endpoint(arg, &dest->addr, &dest->port))
				return -1;
		} else if (!strcmp(tok, "-w")) {
			dest->weight = atoi(arg);
		} else if (!strcmp(tok, "-m")) {
			dest->conn_flags = IP_VS_CONN_F_MASQ;
		} else if (!strcmp(tok, "-g")) {
			dest->conn_flags = IP_VS_CONN_F_DROUTE;
		} else if (!strcmp(tok, "-i")) {
			dest->conn_flags = IP_VS_CONN_F_TUNNEL;
		} else {
			return -1;
		}
	}
	if (!strcmp(cmd, "-A"))
		return 'A';
	if (!strcmp(cmd, "-a"))
		return 'a';
	return -1;
}

static int loop(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned long ops = 0, lineno = 0;
	ipvs_service_t svc;
	ipvs_dest_t dest;

	if (!f) {
		perror(path);
		return 1;
	}
	if (ipvs_init())
		return fail("ipvs_init");
	while (fgets(line, sizeof(line), f)) {
		int kind = parse_line(line, &svc, &dest);

		lineno++;
		if (kind < 0) {
			fprintf(stderr, "capi_bench: %s:%lu: not a rule of the benchmark's subset\n",
				path, lineno);
			return 1;
		}
		if (kind == 'A' && ipvs_add_service(&svc))
			return fail("ipvs_add_service");
		if (kind == 'a' && ipvs_add_dest(&svc, &dest))
			return fail("ipvs_add_dest");
		if (kind)
			ops++;
	}
	fclose(f);
	ipvs_close();
	printf("ops=%lu\n", ops);
	return 0;
}

static int restore(const char *path)
{
	if (lvs_restore_file(path))
		return fail("lvs_restore_file");
	ipvs_close();
	printf("ok=1\n");
	return 0;
}

static int read_all(void)
{
	struct ip_vs_get_services *services;
	unsigned long objects = 0;
	unsigned long long conns = 0;
	unsigned int i, j;

	if (ipvs_init())
		return fail("ipvs_init");
	services = ipvs_get_services();
	if (!services)
		return fail("ipvs_get_services");
	for (i = 0; i < services->num_services; i++) {
		ipvs_service_entry_t *svc = &services->entrytable[i];
		struct ip_vs_get_dests *dests = ipvs_get_dests(svc);

		if (!dests)
			return fail("ipvs_get_dests");
		objects += 1 + dests->num_dests;
		conns += svc->stats64.conns;
		for (j = 0; j < dests->num_dests; j++)
			conns += dests->entrytable[j].stats64.conns;
		free(dests);
	}
	free(services);
	ipvs_close();
	printf("objects=%lu conns=%llu\n", objects, conns);
	return 0;
}

static int save(void)
{
	char *text = lvs_save_text();

	if (!text)
		return fail("lvs_save_text");
	fputs(text, stdout);
	free(text);
	ipvs_close();
	return 0;
}

static int apply(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long size;

	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		return 1;
	}
	text = malloc((size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
		perror(path);
		return 1;
	}
	text[size] = '\0';
	fclose(f);
	if (lvs_apply_text(text, 0))
		return fail("lvs_apply_text");
	free(text);
	ipvs_close();
	printf("ok=1\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "loop"))
		return loop(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "restore"))
		return restore(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "read"))
		return read_all();
	if (argc == 2 && !strcmp(argv[1], "save"))
		return save();
	if (argc == 3 && !strcmp(argv[1], "apply"))
		return apply(argv[2]);
	fprintf(stderr, "usage: capi_bench loop FILE | restore FILE | read | save | apply FILE\n");
	return 2;
}
