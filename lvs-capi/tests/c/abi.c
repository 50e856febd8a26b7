/* abi.c: libipvs.h's layouts and constants are ipvsadm 1.31's, and every function refuses NULL
 * arguments with EINVAL instead of crashing. The numbers are gcc's for ipvsadm's own
 * libipvs/ip_vs.h on x86_64 (the same ones lvs-capi/src/types.rs asserts). */
#include <stddef.h>
#include "libipvs.h"
#include "check.h"

#define OFF(t, f, n) _Static_assert(offsetof(t, f) == (n), #t "." #f)

_Static_assert(sizeof(union nf_inet_addr) == 16, "nf_inet_addr");
_Static_assert(_Alignof(union nf_inet_addr) == 4, "nf_inet_addr align");
_Static_assert(sizeof(ipvs_service_t) == 84, "ipvs_service_t");
OFF(ipvs_service_t, protocol, 0); OFF(ipvs_service_t, __addr_v4, 4); OFF(ipvs_service_t, port, 8);
OFF(ipvs_service_t, fwmark, 12); OFF(ipvs_service_t, sched_name, 16); OFF(ipvs_service_t, flags, 32);
OFF(ipvs_service_t, timeout, 36); OFF(ipvs_service_t, netmask, 40); OFF(ipvs_service_t, af, 44);
OFF(ipvs_service_t, addr, 48); OFF(ipvs_service_t, pe_name, 64);
_Static_assert(sizeof(ipvs_dest_t) == 52, "ipvs_dest_t");
OFF(ipvs_dest_t, __addr_v4, 0); OFF(ipvs_dest_t, port, 4); OFF(ipvs_dest_t, conn_flags, 8);
OFF(ipvs_dest_t, weight, 12); OFF(ipvs_dest_t, u_threshold, 16); OFF(ipvs_dest_t, l_threshold, 20);
OFF(ipvs_dest_t, af, 24); OFF(ipvs_dest_t, addr, 28); OFF(ipvs_dest_t, tun_type, 44);
OFF(ipvs_dest_t, tun_port, 46); OFF(ipvs_dest_t, tun_flags, 48);
_Static_assert(sizeof(struct ip_vs_stats_user) == 56, "stats_user");
OFF(struct ip_vs_stats_user, inbytes, 16); OFF(struct ip_vs_stats_user, cps, 32);
OFF(struct ip_vs_stats_user, outbps, 48);
_Static_assert(sizeof(struct ip_vs_stats64) == 80, "stats64");
_Static_assert(sizeof(struct ip_vs_getinfo) == 12, "getinfo");
_Static_assert(sizeof(ipvs_service_entry_t) == 224, "service_entry");
OFF(ipvs_service_entry_t, flags, 32); OFF(ipvs_service_entry_t, netmask, 40);
OFF(ipvs_service_entry_t, num_dests, 44); OFF(ipvs_service_entry_t, stats, 48);
OFF(ipvs_service_entry_t, af, 104); OFF(ipvs_service_entry_t, addr, 108);
OFF(ipvs_service_entry_t, pe_name, 124); OFF(ipvs_service_entry_t, stats64, 144);
_Static_assert(sizeof(ipvs_dest_entry_t) == 208, "dest_entry");
OFF(ipvs_dest_entry_t, activeconns, 24); OFF(ipvs_dest_entry_t, inactconns, 28);
OFF(ipvs_dest_entry_t, persistconns, 32); OFF(ipvs_dest_entry_t, stats, 40);
OFF(ipvs_dest_entry_t, af, 96); OFF(ipvs_dest_entry_t, addr, 100); OFF(ipvs_dest_entry_t, stats64, 120);
OFF(ipvs_dest_entry_t, tun_type, 200); OFF(ipvs_dest_entry_t, tun_port, 202);
OFF(ipvs_dest_entry_t, tun_flags, 204);
_Static_assert(sizeof(struct ip_vs_get_dests) == 40, "get_dests");
OFF(struct ip_vs_get_dests, fwmark, 12); OFF(struct ip_vs_get_dests, num_dests, 16);
OFF(struct ip_vs_get_dests, af, 20); OFF(struct ip_vs_get_dests, addr, 24);
OFF(struct ip_vs_get_dests, entrytable, 40);
_Static_assert(sizeof(struct ip_vs_get_services) == 8, "get_services");
OFF(struct ip_vs_get_services, entrytable, 8);
_Static_assert(sizeof(ipvs_timeout_t) == 12, "timeout");
_Static_assert(sizeof(ipvs_daemon_t) == 52, "daemon");
OFF(ipvs_daemon_t, mcast_ifn, 4); OFF(ipvs_daemon_t, syncid, 20); OFF(ipvs_daemon_t, sync_maxlen, 24);
OFF(ipvs_daemon_t, mcast_port, 28); OFF(ipvs_daemon_t, mcast_ttl, 30); OFF(ipvs_daemon_t, mcast_af, 32);
OFF(ipvs_daemon_t, mcast_group, 36);
_Static_assert(sizeof(((ipvs_service_t *)0)->sched_name) == IP_VS_SCHEDNAME_MAXLEN, "sched_name");
_Static_assert(sizeof(((ipvs_service_t *)0)->pe_name) == IP_VS_PENAME_MAXLEN + 1, "pe_name");
_Static_assert(sizeof(((ipvs_daemon_t *)0)->mcast_ifn) == IP_VS_IFNAME_MAXLEN, "mcast_ifn");

/* The constants C code uses, with ip_vs.h's values. */
_Static_assert(IP_VS_SVC_F_PERSISTENT == 0x1 && IP_VS_SVC_F_HASHED == 0x2 &&
	       IP_VS_SVC_F_ONEPACKET == 0x4 && IP_VS_SVC_F_SCHED1 == 0x8 &&
	       IP_VS_SVC_F_SCHED2 == 0x10 && IP_VS_SVC_F_SCHED3 == 0x20, "svc flags");
_Static_assert(IP_VS_SVC_F_SCHED_SH_FALLBACK == IP_VS_SVC_F_SCHED1 &&
	       IP_VS_SVC_F_SCHED_SH_PORT == IP_VS_SVC_F_SCHED2 &&
	       IP_VS_SVC_F_SCHED_MH_FALLBACK == IP_VS_SVC_F_SCHED1 &&
	       IP_VS_SVC_F_SCHED_MH_PORT == IP_VS_SVC_F_SCHED2, "sched flags");
_Static_assert(IP_VS_STATE_NONE == 0 && IP_VS_STATE_MASTER == 1 && IP_VS_STATE_BACKUP == 2, "state");
_Static_assert(IP_VS_CONN_F_FWD_MASK == 7 && IP_VS_CONN_F_MASQ == 0 && IP_VS_CONN_F_LOCALNODE == 1 &&
	       IP_VS_CONN_F_TUNNEL == 2 && IP_VS_CONN_F_DROUTE == 3 && IP_VS_CONN_F_BYPASS == 4 &&
	       IP_VS_CONN_F_SYNC == 0x20 && IP_VS_CONN_F_HASHED == 0x40 &&
	       IP_VS_CONN_F_NOOUTPUT == 0x80 && IP_VS_CONN_F_INACTIVE == 0x100 &&
	       IP_VS_CONN_F_OUT_SEQ == 0x200 && IP_VS_CONN_F_IN_SEQ == 0x400 &&
	       IP_VS_CONN_F_SEQ_MASK == 0x600 && IP_VS_CONN_F_NO_CPORT == 0x800 &&
	       IP_VS_CONN_F_TEMPLATE == 0x1000 && IP_VS_CONN_F_ONE_PACKET == 0x2000, "conn flags");
_Static_assert(IP_VS_CONN_F_TUNNEL_TYPE_IPIP == 0 && IP_VS_CONN_F_TUNNEL_TYPE_GUE == 1 &&
	       IP_VS_CONN_F_TUNNEL_TYPE_GRE == 2 && IP_VS_CONN_F_TUNNEL_TYPE_MAX == 3, "tunnel types");
_Static_assert(IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM == 0 && IP_VS_TUNNEL_ENCAP_FLAG_CSUM == 1 &&
	       IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM == 2, "encap flags");
_Static_assert(IP_VS_SCHEDNAME_MAXLEN == 16 && IP_VS_PENAME_MAXLEN == 16 &&
	       IP_VS_IFNAME_MAXLEN == 16 && IP_VS_PEDATA_MAXLEN == 255, "lengths");
_Static_assert(IPVS_SVC_PERSISTENT_TIMEOUT == 360, "persistent timeout");
_Static_assert(MINIMUM_IPVS_VERSION_MAJOR == 1 && MINIMUM_IPVS_VERSION_MINOR == 1 &&
	       MINIMUM_IPVS_VERSION_PATCH == 4, "minimum version");
_Static_assert(IPVS_VERSION(1, 2, 1) == 0x010201 && IP_VS_VERSION_CODE == 0x010201, "version");

/* The function types are libipvs's: assigning them to these pointers type-checks. */
static int (*const p_init)(void) = ipvs_init;
static int (*const p_getinfo)(void) = ipvs_getinfo;
static unsigned int (*const p_version)(void) = ipvs_version;
static int (*const p_flush)(void) = ipvs_flush;
static int (*const p_svc[4])(ipvs_service_t *) = {
	ipvs_add_service, ipvs_update_service, ipvs_del_service, ipvs_zero_service };
static int (*const p_dest[3])(ipvs_service_t *, ipvs_dest_t *) = {
	ipvs_add_dest, ipvs_update_dest, ipvs_del_dest };
static int (*const p_set_timeout)(ipvs_timeout_t *) = ipvs_set_timeout;
static int (*const p_daemon[2])(ipvs_daemon_t *) = { ipvs_start_daemon, ipvs_stop_daemon };
static struct ip_vs_get_services *(*const p_get_services)(void) = ipvs_get_services;
static ipvs_service_cmp_t const p_cmp_services = ipvs_cmp_services;
static void (*const p_sort_services)(struct ip_vs_get_services *, ipvs_service_cmp_t) = ipvs_sort_services;
static struct ip_vs_get_dests *(*const p_get_dests)(ipvs_service_entry_t *) = ipvs_get_dests;
static ipvs_dest_cmp_t const p_cmp_dests = ipvs_cmp_dests;
static void (*const p_sort_dests)(struct ip_vs_get_dests *, ipvs_dest_cmp_t) = ipvs_sort_dests;
static ipvs_service_entry_t *(*const p_get_service)(__u32, __u16, __u16, union nf_inet_addr, __u16) =
	ipvs_get_service;
static ipvs_timeout_t *(*const p_get_timeout)(void) = ipvs_get_timeout;
static ipvs_daemon_t *(*const p_get_daemon)(void) = ipvs_get_daemon;
static void (*const p_close)(void) = ipvs_close;
static const char *(*const p_strerror)(int) = ipvs_strerror;

#define CHECK_EINVAL(expr)                                                             \
	do {                                                                           \
		errno = 0;                                                             \
		int r_ = (expr);                                                       \
		if (r_ != -1 || errno != EINVAL) {                                     \
			fprintf(stderr, "%s:%d: %s: rc %d errno %d, expected -1 EINVAL\n", \
				__FILE__, __LINE__, #expr, r_, errno);                 \
			check_failures++;                                              \
		}                                                                      \
	} while (0)

#define CHECK_NULL_EINVAL(expr)                                                        \
	do {                                                                           \
		errno = 0;                                                             \
		void *p_ = (void *)(expr);                                             \
		if (p_ != NULL || errno != EINVAL) {                                   \
			fprintf(stderr, "%s:%d: %s: %p errno %d, expected NULL EINVAL\n", \
				__FILE__, __LINE__, #expr, p_, errno);                 \
			check_failures++;                                              \
			free(p_);                                                      \
		}                                                                      \
	} while (0)

int main(void)
{
	ipvs_service_t svc;
	ipvs_dest_t dest;
	ipvs_service_entry_t e1, e2;
	int i;

	CHECK(p_init && p_getinfo && p_version && p_flush && p_set_timeout && p_get_services &&
	      p_cmp_services && p_sort_services && p_get_dests && p_cmp_dests && p_sort_dests &&
	      p_get_service && p_get_timeout && p_get_daemon && p_close && p_strerror);
	for (i = 0; i < 4; i++)
		CHECK(p_svc[i] != NULL);
	for (i = 0; i < 3; i++)
		CHECK(p_dest[i] != NULL);
	CHECK(p_daemon[0] && p_daemon[1]);

	/* NULL arguments: EINVAL, never a crash (no kernel needed: nothing is sent). */
	memset(&svc, 0, sizeof(svc));
	memset(&dest, 0, sizeof(dest));
	CHECK_EINVAL(ipvs_add_service(NULL));
	CHECK_EINVAL(ipvs_update_service(NULL));
	CHECK_EINVAL(ipvs_del_service(NULL));
	CHECK_EINVAL(ipvs_zero_service(NULL));
	CHECK_EINVAL(ipvs_add_dest(NULL, &dest));
	CHECK_EINVAL(ipvs_add_dest(&svc, NULL));
	CHECK_EINVAL(ipvs_update_dest(NULL, NULL));
	CHECK_EINVAL(ipvs_del_dest(&svc, NULL));
	CHECK_EINVAL(ipvs_set_timeout(NULL));
	CHECK_EINVAL(ipvs_start_daemon(NULL));
	CHECK_EINVAL(ipvs_stop_daemon(NULL));
	CHECK_NULL_EINVAL(ipvs_get_dests(NULL));
	CHECK_EINVAL(lvs_init_netns(NULL));
	CHECK_EINVAL(lvs_restore_text(NULL));
	CHECK_EINVAL(lvs_restore_file(NULL));
	CHECK_EINVAL(lvs_batch(NULL, 1, NULL));
	{
		const char *lines[] = { NULL };
		CHECK_EINVAL(lvs_batch(lines, 1, NULL));
	}
	errno = 0;
	CHECK(ipvs_cmp_services(NULL, &e1) == 0 && errno == EINVAL);
	errno = 0;
	CHECK(ipvs_cmp_dests(NULL, NULL) == 0 && errno == EINVAL);
	errno = 0;
	ipvs_sort_services(NULL, ipvs_cmp_services);
	CHECK(errno == EINVAL);
	errno = 0;
	ipvs_sort_dests(NULL, ipvs_cmp_dests);
	CHECK(errno == EINVAL);

	/* Values the model cannot hold are EINVAL or EAFNOSUPPORT before anything is sent. */
	svc.af = 99;
	errno = 0;
	CHECK(ipvs_add_service(&svc) == -1 && errno == EAFNOSUPPORT);
	CHECK_STR(ipvs_strerror(EAFNOSUPPORT), "Operation not supported with specified address family");
	{
		char *detail = lvs_last_error();
		CHECK(detail != NULL);
		free(detail);
	}
	svc.af = AF_INET;
	svc.sched_name[0] = (char)0xff; /* not UTF-8 */
	CHECK_EINVAL(ipvs_add_service(&svc));

	/* A rule ipvsadm refuses is EINVAL, nothing sent, and lvs_last_error names the line. */
	CHECK_EINVAL(lvs_restore_text("-A -t 10.0.0.1:80 -s rr\n-A -t nonsense\n"));
	{
		char *detail = lvs_last_error();
		CHECK(detail != NULL && strncmp(detail, "2:", 2) == 0);
		free(detail);
	}

	/* The comparators work without a kernel, on libipvs's arithmetic. */
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	e1.af = e2.af = AF_INET;
	e1.protocol = e2.protocol = IPPROTO_TCP;
	e1.addr.ip = inet_addr("10.0.0.1");
	e2.addr.ip = inet_addr("200.0.0.1");
	e1.port = e2.port = htons(80);
	CHECK(ipvs_cmp_services(&e1, &e2) > 0); /* 0x0a000001 - 0xc8000001 wraps positive */
	e2.addr.ip = inet_addr("100.0.0.1");
	CHECK(ipvs_cmp_services(&e1, &e2) < 0);
	e2.fwmark = 1;
	CHECK(ipvs_cmp_services(&e1, &e2) == -1);
	CHECK(ipvs_cmp_services(&e1, &e1) == 0);

	ipvs_close();
	return check_done("abi");
}
