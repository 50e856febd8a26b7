/* errors.c: the kernel's refusals come back as libipvs's: -1 (or NULL), errno, and
 * ipvs_strerror's wording for the last call. Runs in a fresh network namespace. */
#include <arpa/inet.h>
#include "libipvs.h"
#include "check.h"

int main(void)
{
	ipvs_service_t svc, other;
	ipvs_dest_t d;
	ipvs_daemon_t dm;
	union nf_inet_addr any;
	ipvs_service_entry_t *e;
	char *detail;

	CHECK(ipvs_init() == 0);

	memset(&svc, 0, sizeof(svc));
	svc.af = AF_INET;
	svc.protocol = IPPROTO_TCP;
	svc.addr.ip = inet_addr("10.1.0.1");
	svc.port = htons(80);
	strcpy(svc.sched_name, "wlc");
	svc.netmask = 0xffffffff;
	other = svc;
	other.port = htons(81);
	memset(&d, 0, sizeof(d));
	d.af = AF_INET;
	d.addr.ip = inet_addr("192.168.2.1");
	d.port = htons(80);
	d.conn_flags = IP_VS_CONN_F_MASQ;
	d.weight = 1;

	/* Services. */
	CHECK_ERR(ipvs_update_service(&svc), ESRCH, "No such service");
	CHECK_ERR(ipvs_del_service(&svc), ESRCH, "No such service");
	CHECK_ERR(ipvs_zero_service(&svc), ESRCH, "No such service");
	CHECK(ipvs_add_service(&svc) == 0);
	CHECK_ERR(ipvs_add_service(&svc), EEXIST, "Service already exists");
	strcpy(other.sched_name, "nosuch");
	CHECK_ERR(ipvs_add_service(&other), ENOENT, "Scheduler or persistence engine not found");
	strcpy(other.sched_name, "rr");
	strcpy(other.pe_name, "nosuch");
	other.flags = IP_VS_SVC_F_PERSISTENT;
	other.timeout = 10;
	CHECK_ERR(ipvs_add_service(&other), ENOENT, "Scheduler or persistence engine not found");
	other.pe_name[0] = '\0';
	other.flags = 0;

	/* ipvs_get_service of a missing service: NULL and ESRCH. */
	memset(&any, 0, sizeof(any));
	any.ip = inet_addr("10.1.0.1");
	errno = 0;
	e = ipvs_get_service(0, AF_INET, IPPROTO_TCP, any, htons(99));
	CHECK(e == NULL && errno == ESRCH);
	CHECK_STR(ipvs_strerror(ESRCH), "No such service");
	free(e);

	/* Real servers. */
	CHECK_ERR(ipvs_add_dest(&other, &d), ESRCH, "Service not defined");
	CHECK_ERR(ipvs_update_dest(&other, &d), ESRCH, "Service not defined");
	CHECK_ERR(ipvs_del_dest(&other, &d), ESRCH, "Service not defined");
	CHECK_ERR(ipvs_update_dest(&svc, &d), ENOENT, "No such destination");
	CHECK_ERR(ipvs_del_dest(&svc, &d), ENOENT, "No such destination");
	CHECK(ipvs_add_dest(&svc, &d) == 0);
	CHECK_ERR(ipvs_add_dest(&svc, &d), EEXIST, "Destination already exists");
	d.weight = -1; /* libipvs sends it; the kernel answers */
	CHECK_ERR(ipvs_update_dest(&svc, &d), ERANGE, strerror(ERANGE));
	d.weight = 1;
	d.l_threshold = 10;
	d.u_threshold = 5;
	CHECK_ERR(ipvs_update_dest(&svc, &d), ERANGE, strerror(ERANGE));

	/* Generic entries, whatever the last call. */
	CHECK_STR(ipvs_strerror(EPERM), "Permission denied (you must be root)");
	CHECK_STR(ipvs_strerror(EINVAL), "Invalid operation.  Possibly wrong module version, address not unicast, ...");
	CHECK_STR(ipvs_strerror(ENOPROTOOPT), "Protocol not available");
	CHECK_STR(ipvs_strerror(ENOMEM), "Memory allocation problem");
	CHECK_STR(ipvs_strerror(EOPNOTSUPP), "Operation not supported with IPv6");
	CHECK_STR(ipvs_strerror(EAFNOSUPPORT), "Operation not supported with specified address family");
	CHECK_STR(ipvs_strerror(EMSGSIZE), "Module is wrong version");
	CHECK_STR(ipvs_strerror(EBADF), strerror(EBADF));
	/* The message follows the last call: ipvs_update_dest has no EEXIST entry. */
	CHECK_STR(ipvs_strerror(EEXIST), strerror(EEXIST));

	/* Sync daemons. */
	memset(&dm, 0, sizeof(dm));
	dm.state = IP_VS_STATE_BACKUP;
	strcpy(dm.mcast_ifn, "lo");
	CHECK_ERR(ipvs_stop_daemon(&dm), ESRCH, "No daemon is running");
	CHECK(ipvs_start_daemon(&dm) == 0);
	CHECK_ERR(ipvs_start_daemon(&dm), EEXIST, "Daemon has already run");
	strcpy(dm.mcast_ifn, "nosuch0");
	dm.state = IP_VS_STATE_MASTER;
	CHECK_ERR(ipvs_start_daemon(&dm), ENODEV, strerror(ENODEV));
	dm.state = IP_VS_STATE_BACKUP;
	CHECK(ipvs_stop_daemon(&dm) == 0);

	/* A non-unicast real server: the kernel's EINVAL, with lvs_last_error saying more. */
	d.addr.ip = inet_addr("255.255.255.255");
	d.l_threshold = d.u_threshold = 0;
	CHECK_ERR(ipvs_add_dest(&svc, &d), EINVAL,
		  "Invalid operation.  Possibly wrong module version, address not unicast, ...");
	detail = lvs_last_error();
	CHECK(detail != NULL && strstr(detail, "add destination") != NULL);
	free(detail);

	/* Unsupported family: refused before anything is sent. */
	svc.af = 3;
	CHECK_ERR(ipvs_add_service(&svc), EAFNOSUPPORT, "Operation not supported with specified address family");

	CHECK(ipvs_flush() == 0);
	ipvs_close();
	return check_done("errors");
}
