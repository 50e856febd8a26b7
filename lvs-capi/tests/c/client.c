/*
 * client.c: a libipvs consumer written the way keepalived's checker and ipvsadm use libipvs,
 * with nothing lvs-specific: it includes "libipvs.h", links with -lipvs (via pkg-config), and
 * would build unchanged against ipvsadm's own libipvs.
 *
 * It sets up a virtual server with two real servers, "health-checks" them (one is found down
 * and quiesced to weight 0, as keepalived's inhibit_on_failure does), lists the table sorted the
 * way ipvsadm does, and tears it down; any refusal is reported with ipvs_strerror and fails it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libipvs.h"

static int failures;

#define EXPECT(cond)                                                               \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "client.c:%d: %s\n", __LINE__, #cond);     \
			failures++;                                                \
		}                                                                  \
	} while (0)

static void vs_fill(ipvs_service_t *svc, const char *vip, unsigned short port)
{
	memset(svc, 0, sizeof(*svc));
	svc->af = AF_INET;
	svc->protocol = IPPROTO_TCP;
	inet_pton(AF_INET, vip, &svc->addr.ip);
	svc->port = htons(port);
	strncpy(svc->sched_name, "wrr", IP_VS_SCHEDNAME_MAXLEN - 1);
	svc->flags = IP_VS_SVC_F_PERSISTENT;
	svc->timeout = IPVS_SVC_PERSISTENT_TIMEOUT;
	svc->netmask = ~0U;
}

static void rs_fill(ipvs_dest_t *rs, const char *rip, unsigned short port, int weight)
{
	memset(rs, 0, sizeof(*rs));
	rs->af = AF_INET;
	inet_pton(AF_INET, rip, &rs->addr.ip);
	rs->port = htons(port);
	rs->conn_flags = IP_VS_CONN_F_MASQ;
	rs->weight = weight;
}

static int ipvs_cmd(const char *what, int rc)
{
	if (rc) {
		fprintf(stderr, "IPVS: %s: %s\n", what, ipvs_strerror(errno));
		failures++;
	}
	return rc;
}

static void list_table(void)
{
	struct ip_vs_get_services *services;
	struct ip_vs_get_dests *dests;
	char addr[INET6_ADDRSTRLEN];
	unsigned i, j;

	services = ipvs_get_services();
	if (!services) {
		fprintf(stderr, "IPVS: get services: %s\n", ipvs_strerror(errno));
		failures++;
		return;
	}
	ipvs_sort_services(services, ipvs_cmp_services);
	for (i = 0; i < services->num_services; i++) {
		ipvs_service_entry_t *se = &services->entrytable[i];

		inet_ntop(se->af, &se->addr, addr, sizeof(addr));
		printf("TCP  %s:%u %s persistent %u\n", addr, ntohs(se->port), se->sched_name,
		       se->timeout);
		dests = ipvs_get_dests(se);
		if (!dests) {
			fprintf(stderr, "IPVS: get dests: %s\n", ipvs_strerror(errno));
			failures++;
			continue;
		}
		ipvs_sort_dests(dests, ipvs_cmp_dests);
		for (j = 0; j < dests->num_dests; j++) {
			ipvs_dest_entry_t *de = &dests->entrytable[j];

			inet_ntop(de->af, &de->addr, addr, sizeof(addr));
			printf("  -> %s:%u Masq %d %u %u\n", addr, ntohs(de->port), de->weight,
			       de->activeconns, de->inactconns);
		}
		free(dests);
	}
	free(services);
}

int main(void)
{
	ipvs_service_t vs;
	ipvs_dest_t up, down;
	ipvs_service_entry_t *entry;

	if (ipvs_init()) {
		fprintf(stderr, "IPVS: Can't initialize ipvs: %s\n", ipvs_strerror(errno));
		return 1;
	}
	if (ipvs_version() < IPVS_VERSION(MINIMUM_IPVS_VERSION_MAJOR, MINIMUM_IPVS_VERSION_MINOR,
					  MINIMUM_IPVS_VERSION_PATCH)) {
		fprintf(stderr, "IPVS: kernel version too old\n");
		return 1;
	}
	printf("IP Virtual Server version %d.%d.%d (size=%d)\n", NVERSION(ipvs_info.version),
	       ipvs_info.size);

	vs_fill(&vs, "10.4.0.1", 443);
	rs_fill(&up, "192.168.4.1", 8443, 10);
	rs_fill(&down, "192.168.4.2", 8443, 10);
	ipvs_cmd("add virtual server", ipvs_add_service(&vs));
	/* keepalived tolerates an existing service on reload. */
	if (ipvs_add_service(&vs) && errno != EEXIST)
		ipvs_cmd("re-add virtual server", -1);
	ipvs_cmd("add real server", ipvs_add_dest(&vs, &up));
	ipvs_cmd("add real server", ipvs_add_dest(&vs, &down));

	/* The checker finds 192.168.4.2 down: quiesce it (weight 0) rather than remove it. */
	down.weight = 0;
	ipvs_cmd("quiesce real server", ipvs_update_dest(&vs, &down));

	entry = ipvs_get_service(vs.fwmark, vs.af, vs.protocol, vs.addr, vs.port);
	EXPECT(entry != NULL);
	if (entry) {
		EXPECT(strcmp(entry->sched_name, "wrr") == 0);
		EXPECT(entry->flags & IP_VS_SVC_F_PERSISTENT);
		free(entry);
	}
	list_table();

	ipvs_cmd("remove real server", ipvs_del_dest(&vs, &down));
	ipvs_cmd("remove virtual server", ipvs_del_service(&vs));
	EXPECT(ipvs_del_service(&vs) == -1 && errno == ESRCH);
	ipvs_close();
	return failures ? 1 : 0;
}
