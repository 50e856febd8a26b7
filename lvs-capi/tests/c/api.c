/* api.c: every libipvs function against the kernel, every struct field round-tripping, and the
 * result checked with the real ipvsadm: what this library wrote, `ipvsadm -Sn` must print exactly
 * as it prints the same rules restored by ipvsadm itself. Runs in a fresh network namespace. */
#include <arpa/inet.h>
#include "libipvs.h"
#include "check.h"

/* The rules the calls below make, as ipvsadm would be told them (ipvsadm gives direct-routing and
 * tunnel servers the service's port; libipvs sends what it is given, so the calls do the same). */
static const char RULES[] =
	"-A -t 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0\n"
	"-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5 -x 100 -y 10\n"
	"-a -t 10.0.0.1:80 -r 192.168.1.11:80 -g -w 0\n"
	"-a -t 10.0.0.1:80 -r 192.168.1.12:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum\n"
	"-a -t 10.0.0.1:80 -r 192.168.1.13:80 -i -w 1 --tun-type gre --tun-csum\n"
	"-A -u [2001:db8::1]:53 -s sh -b sh-fallback,sh-port -p 60 -M 64 --pe sip\n"
	"-a -u [2001:db8::1]:53 -r [2001:db8::10]:53 -m -w 2\n"
	"-A -f 7 -s mh -b mh-port -o\n"
	"-a -f 7 -r 192.168.1.20:0 -g -w 3\n"
	"-A -f 8 -6 -s wlc\n"
	"-a -f 8 -6 -r [2001:db8::20]:0 -g -w 1\n"
	"-A --sctp-service 10.0.0.3:9 -s lc\n";

static void set_addr(union nf_inet_addr *a, int af, const char *text)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(af, text, a) != 1) {
		fprintf(stderr, "bad address %s\n", text);
		exit(2);
	}
}

static ipvs_service_t service(int af, int protocol, const char *addr, int port, unsigned fwmark,
			      const char *sched)
{
	ipvs_service_t s;

	memset(&s, 0, sizeof(s));
	s.af = af;
	s.fwmark = fwmark;
	if (!fwmark) {
		s.protocol = protocol;
		set_addr(&s.addr, af, addr);
		s.port = htons(port);
	}
	strcpy(s.sched_name, sched);
	s.netmask = af == AF_INET6 ? 128 : 0xffffffff;
	return s;
}

static ipvs_dest_t dest(int af, const char *addr, int port, unsigned fwd, int weight)
{
	ipvs_dest_t d;

	memset(&d, 0, sizeof(d));
	d.af = af;
	set_addr(&d.addr, af, addr);
	d.port = htons(port);
	d.conn_flags = fwd;
	d.weight = weight;
	return d;
}

static ipvs_service_entry_t *find(struct ip_vs_get_services *all, unsigned fwmark, int port)
{
	unsigned i;

	for (i = 0; i < all->num_services; i++)
		if (all->entrytable[i].fwmark == fwmark && ntohs(all->entrytable[i].port) == port)
			return &all->entrytable[i];
	return NULL;
}

int main(void)
{
	ipvs_service_t tcp, udp6, fw4, fw6, sctp;
	ipvs_dest_t d1, d2, d3, d4, d5, d6, d7;
	struct ip_vs_get_services *all;
	struct ip_vs_get_dests *dests;
	ipvs_service_entry_t *e;
	ipvs_timeout_t to, *tg;
	ipvs_daemon_t dm, *dg;
	char *ours, *theirs;
	unsigned i;
	FILE *f;

	/* init, getinfo, version */
	CHECK(ipvs_init() == 0);
	CHECK(ipvs_version() == ipvs_info.version);
	CHECK(ipvs_version() >= IPVS_VERSION(MINIMUM_IPVS_VERSION_MAJOR, MINIMUM_IPVS_VERSION_MINOR,
					     MINIMUM_IPVS_VERSION_PATCH));
	CHECK(ipvs_info.size > 0);
	CHECK(ipvs_info.num_services == 0);
	CHECK(ipvs_getinfo() == 0);

	/* Services: every field of ipvs_service_t. */
	tcp = service(AF_INET, IPPROTO_TCP, "10.0.0.1", 80, 0, "rr");
	tcp.flags = IP_VS_SVC_F_PERSISTENT;
	tcp.timeout = 300;
	tcp.netmask = inet_addr("255.255.255.0");
	CHECK(ipvs_add_service(&tcp) == 0);
	udp6 = service(AF_INET6, IPPROTO_UDP, "2001:db8::1", 53, 0, "sh");
	udp6.flags = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED_SH_FALLBACK | IP_VS_SVC_F_SCHED_SH_PORT;
	udp6.timeout = 60;
	udp6.netmask = 64;
	strcpy(udp6.pe_name, "sip");
	CHECK(ipvs_add_service(&udp6) == 0);
	fw4 = service(AF_INET, 0, NULL, 0, 7, "mh");
	fw4.flags = IP_VS_SVC_F_SCHED_MH_PORT | IP_VS_SVC_F_ONEPACKET;
	CHECK(ipvs_add_service(&fw4) == 0);
	fw6 = service(AF_INET6, 0, NULL, 0, 8, "wlc");
	CHECK(ipvs_add_service(&fw6) == 0);
	sctp = service(AF_INET, IPPROTO_SCTP, "10.0.0.3", 9, 0, "lc");
	CHECK(ipvs_add_service(&sctp) == 0);

	/* Real servers: every field of ipvs_dest_t. Added in reverse so the kernel lists them in
	 * the order of RULES. */
	d4 = dest(AF_INET, "192.168.1.13", 80, IP_VS_CONN_F_TUNNEL, 1);
	d4.tun_type = IP_VS_CONN_F_TUNNEL_TYPE_GRE;
	d4.tun_flags = IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
	d3 = dest(AF_INET, "192.168.1.12", 80, IP_VS_CONN_F_TUNNEL, 1);
	d3.tun_type = IP_VS_CONN_F_TUNNEL_TYPE_GUE;
	d3.tun_port = htons(6080);
	d3.tun_flags = IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
	d2 = dest(AF_INET, "192.168.1.11", 80, IP_VS_CONN_F_DROUTE, 0);
	d1 = dest(AF_INET, "192.168.1.10", 8080, IP_VS_CONN_F_MASQ, 5);
	d1.u_threshold = 100;
	d1.l_threshold = 10;
	CHECK(ipvs_add_dest(&tcp, &d4) == 0);
	CHECK(ipvs_add_dest(&tcp, &d3) == 0);
	CHECK(ipvs_add_dest(&tcp, &d2) == 0);
	CHECK(ipvs_add_dest(&tcp, &d1) == 0);
	d5 = dest(AF_INET6, "2001:db8::10", 53, IP_VS_CONN_F_MASQ, 2);
	CHECK(ipvs_add_dest(&udp6, &d5) == 0);
	d6 = dest(AF_INET, "192.168.1.20", 0, IP_VS_CONN_F_DROUTE, 3);
	d6.af = 0; /* 0: the service's family, as the kernel takes it */
	CHECK(ipvs_add_dest(&fw4, &d6) == 0);
	d7 = dest(AF_INET6, "2001:db8::20", 0, IP_VS_CONN_F_DROUTE, 1);
	CHECK(ipvs_add_dest(&fw6, &d7) == 0);

	/* What ipvsadm reads back is what it reads after restoring the same rules itself. */
	ours = run_capture("ipvsadm -Sn");
	f = popen("ipvsadm -C && ipvsadm -R", "w");
	CHECK(f != NULL);
	if (f) {
		fputs(RULES, f);
		CHECK(pclose(f) == 0);
	}
	theirs = run_capture("ipvsadm -Sn");
	CHECK_STR(ours, theirs);
	CHECK(strstr(ours, "-A -u [2001:db8::1]:53 -s sh -p 60 -M 64 --pe sip -b sh-fallback,sh-port") != NULL);
	free(ours);
	free(theirs);
	/* Back to lvs's own state (ipvsadm drops thresholds, which are checked below). */
	CHECK(ipvs_flush() == 0);
	CHECK_SAVE("");
	CHECK(lvs_restore_text(RULES) == 0);

	/* ipvs_get_services: every field of ipvs_service_entry_t. */
	all = ipvs_get_services();
	CHECK(all != NULL);
	if (all) {
		CHECK(all->num_services == 5);
		e = find(all, 0, 80);
		CHECK(e != NULL);
		if (e) {
			CHECK(e->af == AF_INET && e->protocol == IPPROTO_TCP && e->fwmark == 0);
			CHECK(e->addr.ip == inet_addr("10.0.0.1") && e->port == htons(80));
			CHECK(strcmp(e->sched_name, "rr") == 0 && e->pe_name[0] == '\0');
			CHECK(e->flags == (IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_HASHED));
			CHECK(e->timeout == 300 && e->netmask == inet_addr("255.255.255.0"));
			CHECK(e->num_dests == 0); /* as libipvs over netlink */
			CHECK(e->stats.conns == 0 && e->stats64.conns == 0 && e->stats64.inbytes == 0);
		}
		e = find(all, 0, 53);
		CHECK(e != NULL);
		if (e) {
			union nf_inet_addr a;
			set_addr(&a, AF_INET6, "2001:db8::1");
			CHECK(e->af == AF_INET6 && e->protocol == IPPROTO_UDP);
			CHECK(memcmp(&e->addr, &a, sizeof(a)) == 0);
			CHECK(strcmp(e->sched_name, "sh") == 0 && strcmp(e->pe_name, "sip") == 0);
			CHECK(e->flags == (IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_HASHED |
					   IP_VS_SVC_F_SCHED_SH_FALLBACK | IP_VS_SVC_F_SCHED_SH_PORT));
			CHECK(e->timeout == 60 && e->netmask == 64);
		}
		e = find(all, 7, 0);
		CHECK(e != NULL);
		if (e) {
			CHECK(e->af == AF_INET && e->protocol == 0 && e->addr.ip == 0);
			CHECK(strcmp(e->sched_name, "mh") == 0);
			CHECK(e->flags == (IP_VS_SVC_F_HASHED | IP_VS_SVC_F_SCHED_MH_PORT | IP_VS_SVC_F_ONEPACKET));
			CHECK(e->timeout == 0 && e->netmask == 0xffffffff);
		}
		e = find(all, 8, 0);
		CHECK(e != NULL && e->af == AF_INET6 && e->netmask == 128);
		e = find(all, 0, 9);
		CHECK(e != NULL && e->protocol == IPPROTO_SCTP && strcmp(e->sched_name, "lc") == 0);

		/* ipvs_sort_services: libipvs's order, which is ipvsadm's listing order. */
		ipvs_sort_services(all, ipvs_cmp_services);
		for (i = 1; i < all->num_services; i++)
			CHECK(ipvs_cmp_services(&all->entrytable[i - 1], &all->entrytable[i]) <= 0);
		CHECK(all->entrytable[0].fwmark == 0 && all->entrytable[4].fwmark == 8);

		/* ipvs_get_dests: every field of ipvs_dest_entry_t. */
		e = find(all, 0, 80);
		dests = e ? ipvs_get_dests(e) : NULL;
		CHECK(dests != NULL);
		if (dests) {
			ipvs_dest_entry_t *x;
			CHECK(dests->num_dests == 4);
			CHECK(dests->af == AF_INET && dests->protocol == IPPROTO_TCP);
			CHECK(dests->addr.ip == inet_addr("10.0.0.1") && dests->port == htons(80));
			ipvs_sort_dests(dests, ipvs_cmp_dests);
			for (i = 1; i < dests->num_dests; i++)
				CHECK(ipvs_cmp_dests(&dests->entrytable[i - 1], &dests->entrytable[i]) <= 0);
			x = &dests->entrytable[0];
			CHECK(x->af == AF_INET && x->addr.ip == inet_addr("192.168.1.10"));
			CHECK(x->port == htons(8080) && x->conn_flags == IP_VS_CONN_F_MASQ);
			CHECK(x->weight == 5 && x->u_threshold == 100 && x->l_threshold == 10);
			CHECK(x->activeconns == 0 && x->inactconns == 0 && x->persistconns == 0);
			CHECK(x->tun_type == 0 && x->tun_port == 0 && x->tun_flags == 0);
			x = &dests->entrytable[1];
			CHECK(x->conn_flags == IP_VS_CONN_F_DROUTE && x->weight == 0);
			x = &dests->entrytable[2];
			CHECK(x->conn_flags == IP_VS_CONN_F_TUNNEL && x->tun_type == IP_VS_CONN_F_TUNNEL_TYPE_GUE);
			CHECK(x->tun_port == htons(6080) && x->tun_flags == IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM);
			x = &dests->entrytable[3];
			CHECK(x->tun_type == IP_VS_CONN_F_TUNNEL_TYPE_GRE && x->tun_flags == IP_VS_TUNNEL_ENCAP_FLAG_CSUM);
			free(dests);
		}
		e = find(all, 8, 0);
		dests = e ? ipvs_get_dests(e) : NULL;
		CHECK(dests != NULL && dests->num_dests == 1 && dests->entrytable[0].af == AF_INET6);
		CHECK(dests != NULL && dests->fwmark == 8);
		free(dests);
		free(all);
	}

	/* ipvs_get_service: addr by value. */
	{
		union nf_inet_addr a;
		set_addr(&a, AF_INET6, "2001:db8::1");
		e = ipvs_get_service(0, AF_INET6, IPPROTO_UDP, a, htons(53));
		CHECK(e != NULL);
		if (e) {
			CHECK(strcmp(e->pe_name, "sip") == 0 && e->timeout == 60 && e->netmask == 64);
			free(e);
		}
		e = ipvs_get_service(7, AF_INET, 0, a, 0);
		CHECK(e != NULL && e->fwmark == 7);
		free(e);
	}

	/* ipvs_update_service / ipvs_update_dest / ipvs_del_dest / ipvs_del_service. */
	strcpy(tcp.sched_name, "wrr");
	tcp.flags = 0;
	CHECK(ipvs_update_service(&tcp) == 0);
	d1.weight = 9;
	d1.conn_flags = IP_VS_CONN_F_TUNNEL;
	d1.u_threshold = d1.l_threshold = 0;
	CHECK(ipvs_update_dest(&tcp, &d1) == 0);
	CHECK(ipvs_del_dest(&tcp, &d2) == 0);
	CHECK(ipvs_del_dest(&tcp, &d3) == 0);
	CHECK(ipvs_del_dest(&tcp, &d4) == 0);
	CHECK(ipvs_del_service(&udp6) == 0);
	CHECK(ipvs_del_service(&fw4) == 0);
	CHECK(ipvs_del_service(&fw6) == 0);
	CHECK(ipvs_del_service(&sctp) == 0);
	CHECK_SAVE("-A -t 10.0.0.1:80 -s wrr\n"
		   "-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -i -w 9 --tun-type ipip\n");

	/* ipvs_zero_service: one service, then everything (all-zero key). */
	CHECK(ipvs_zero_service(&tcp) == 0);
	{
		ipvs_service_t none;
		memset(&none, 0, sizeof(none));
		none.af = AF_INET;
		CHECK(ipvs_zero_service(&none) == 0);
	}

	/* Timeouts. */
	to.tcp_timeout = 100;
	to.tcp_fin_timeout = 50;
	to.udp_timeout = 30;
	CHECK(ipvs_set_timeout(&to) == 0);
	tg = ipvs_get_timeout();
	CHECK(tg != NULL && tg->tcp_timeout == 100 && tg->tcp_fin_timeout == 50 && tg->udp_timeout == 30);
	free(tg);
	ours = run_capture("ipvsadm -L --timeout");
	CHECK_STR(ours, "Timeout (tcp tcpfin udp): 100 50 30\n");
	free(ours);

	/* Sync daemons: every field of ipvs_daemon_t. */
	memset(&dm, 0, sizeof(dm));
	dm.state = IP_VS_STATE_MASTER;
	strcpy(dm.mcast_ifn, "lo");
	dm.syncid = 5;
	dm.sync_maxlen = 1200;
	dm.mcast_port = 8850;
	dm.mcast_ttl = 2;
	dm.mcast_af = AF_INET;
	set_addr(&dm.mcast_group, AF_INET, "239.1.2.3");
	CHECK(ipvs_start_daemon(&dm) == 0);
	dm.state = IP_VS_STATE_BACKUP;
	dm.syncid = 6;
	dm.sync_maxlen = 0;
	dm.mcast_port = 0;
	dm.mcast_ttl = 0;
	dm.mcast_af = 0;
	CHECK(ipvs_start_daemon(&dm) == 0);
	dg = ipvs_get_daemon();
	CHECK(dg != NULL);
	if (dg) {
		CHECK(dg[0].state == IP_VS_STATE_MASTER && strcmp(dg[0].mcast_ifn, "lo") == 0);
		CHECK(dg[0].syncid == 5 && dg[0].sync_maxlen == 1200 && dg[0].mcast_port == 8850);
		CHECK(dg[0].mcast_ttl == 2 && dg[0].mcast_af == AF_INET);
		CHECK(dg[0].mcast_group.ip == inet_addr("239.1.2.3"));
		CHECK(dg[1].state == IP_VS_STATE_BACKUP && dg[1].syncid == 6);
		/* The kernel reports its defaults. */
		CHECK(dg[1].mcast_port == 8848 && dg[1].mcast_ttl == 1);
		CHECK(dg[1].mcast_af == AF_INET && dg[1].mcast_group.ip == inet_addr("224.0.0.81"));
		free(dg);
	}
	ours = run_capture("ipvsadm -L --daemon");
	CHECK(strstr(ours, "master sync daemon (mcast=lo, syncid=5, maxlen=1200, group=239.1.2.3, port=8850, ttl=2)") != NULL);
	CHECK(strstr(ours, "backup sync daemon (mcast=lo, syncid=6") != NULL);
	free(ours);
	dm.state = IP_VS_STATE_MASTER;
	CHECK(ipvs_stop_daemon(&dm) == 0);
	dm.state = IP_VS_STATE_BACKUP;
	CHECK(ipvs_stop_daemon(&dm) == 0);
	dg = ipvs_get_daemon();
	CHECK(dg != NULL && dg[0].state == IP_VS_STATE_NONE && dg[1].state == IP_VS_STATE_NONE);
	free(dg);

	/* ipvs_flush, ipvs_close; calls after close reopen the handle. */
	CHECK(ipvs_flush() == 0);
	CHECK_SAVE("");
	ipvs_close();
	all = ipvs_get_services();
	CHECK(all != NULL && all->num_services == 0);
	free(all);
	ipvs_close();
	return check_done("api");
}
