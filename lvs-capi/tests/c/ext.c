/* ext.c: the lvs_ extensions against the kernel: rule text in and out (checked against
 * `ipvsadm -Sn`), pipelined batches with per-line results, another network namespace, and the
 * connection table. Runs in a fresh network namespace. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include "libipvs.h"
#include "check.h"

static const char RULES[] =
	"# a comment\n"
	"-A -t 10.2.0.1:80 -s rr\n"
	"-a -t 10.2.0.1:80 -r 192.168.3.1:80 -m -w 1\n"
	"-a -t 10.2.0.1:80 -r 192.168.3.2:80 -m -w 1\n"
	"-A -u 10.2.0.9:5353 -s rr\n"
	"-a -u 10.2.0.9:5353 -r 127.0.0.1:5353 -m -w 1\n";

int main(void)
{
	char *ours, *theirs, *detail;
	int results[3];
	struct lvs_connections *conns;
	FILE *f;

	CHECK(ipvs_init() == 0);

	/* lvs_restore_text, then lvs_save_text == ipvsadm -Sn. */
	CHECK(lvs_restore_text(RULES) == 0);
	ours = lvs_save_text();
	theirs = run_capture("ipvsadm -Sn");
	CHECK(ours != NULL);
	CHECK_STR(ours, theirs);
	CHECK(strstr(ours, "-a -t 10.2.0.1:80 -r 192.168.3.2:80 -m -w 1") != NULL);
	free(ours);
	free(theirs);

	/* A failing line does not stop the others; errno and ipvs_strerror are the first failure's,
	 * lvs_last_error names its line. */
	errno = 0;
	CHECK(lvs_restore_text("-A -t 10.2.0.1:80 -s rr\n-A -t 10.2.0.2:80 -s rr\n") == -1);
	CHECK(errno == EEXIST);
	CHECK_STR(ipvs_strerror(EEXIST), "Service already exists");
	detail = lvs_last_error();
	CHECK(detail != NULL && strncmp(detail, "line 1: ", 8) == 0);
	free(detail);
	ours = run_capture("ipvsadm -Sn | grep -c 10.2.0.2:80");
	CHECK_STR(ours, "1\n");
	free(ours);

	/* lvs_restore_file. */
	f = fopen("/tmp/lvs-capi-ext.rules", "w");
	CHECK(f != NULL);
	if (f) {
		fputs("-D -t 10.2.0.2:80\n", f);
		fclose(f);
	}
	CHECK(lvs_restore_file("/tmp/lvs-capi-ext.rules") == 0);
	unlink("/tmp/lvs-capi-ext.rules");
	errno = 0;
	CHECK(lvs_restore_file("/nonexistent/rules") == -1 && errno == ENOENT);

	/* lvs_batch: per-line errno, the count of failures as the result. */
	{
		const char *lines[] = {
			"-e -t 10.2.0.1:80 -r 192.168.3.1:80 -m -w 7",
			"-d -t 10.2.0.1:80 -r 192.168.3.99:80",
			"-A -t 10.2.0.3:80 -s wrr",
		};
		results[0] = results[1] = results[2] = -5;
		CHECK(lvs_batch(lines, 3, results) == 1);
		CHECK(results[0] == 0 && results[1] == ENOENT && results[2] == 0);
		CHECK(errno == ENOENT);
		CHECK_STR(ipvs_strerror(ENOENT), "No such destination");
		/* A line that does not parse sends nothing and writes no results. */
		lines[0] = "-A -t 10.2.0.4:80";
		lines[1] = "--bogus";
		results[0] = -5;
		errno = 0;
		CHECK(lvs_batch(lines, 2, results) == -1 && errno == EINVAL && results[0] == -5);
		ours = run_capture("ipvsadm -Sn | grep -c 10.2.0.4 || true");
		CHECK_STR(ours, "0\n");
		free(ours);
	}
	/* lvs_plan_text / lvs_apply_text: the declarative apply, fewest changes, idempotent. */
	{
		static const char WANT[] = "-A -t 10.2.0.1:80 -s wrr\n"
					   "-a -t 10.2.0.1:80 -r 192.168.3.1:80 -m -w 7\n";
		char *plan = lvs_plan_text(WANT, LVS_APPLY_KEEP_UNLISTED);
		CHECK(plan != NULL && strstr(plan, "-E -t 10.2.0.1:80 -s wrr") != NULL);
		CHECK(plan != NULL && strstr(plan, "-d -t 10.2.0.1:80 -r 192.168.3.2:80") != NULL);
		free(plan);
		CHECK(lvs_apply_text(WANT, LVS_APPLY_KEEP_UNLISTED) == 0);
		plan = lvs_plan_text(WANT, LVS_APPLY_KEEP_UNLISTED);
		CHECK_STR(plan, "");
		free(plan);
		errno = 0;
		CHECK(lvs_apply_text(WANT, 0x100) == -1 && errno == EINVAL);
		errno = 0;
		CHECK(lvs_apply_text("-A -t nonsense\n", 0) == -1 && errno == EINVAL);
		errno = 0;
		CHECK(lvs_plan_text(NULL, 0) == NULL && errno == EINVAL);
	}
	ours = lvs_save_text();
	CHECK(ours != NULL && strstr(ours, "-r 192.168.3.1:80 -m -w 7") != NULL);
	CHECK(ours != NULL && strstr(ours, "-A -t 10.2.0.3:80 -s wrr") != NULL);
	free(ours);

	/* lvs_get_connections: a UDP datagram from this host to the virtual service makes an
	 * entry (IPVS schedules local clients at LOCAL_OUT). */
	CHECK(system("ip addr add 10.2.0.9/32 dev lo") == 0);
	{
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in to;
		memset(&to, 0, sizeof(to));
		to.sin_family = AF_INET;
		to.sin_port = htons(5353);
		to.sin_addr.s_addr = inet_addr("10.2.0.9");
		CHECK(s >= 0 && sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1);
		close(s);
	}
	conns = lvs_get_connections();
	CHECK(conns != NULL);
	if (conns) {
		unsigned i, found = 0;
		for (i = 0; i < conns->num_conns; i++) {
			struct lvs_connection *c = &conns->entrytable[i];
			if (c->protocol == IPPROTO_UDP && c->virtual_af == AF_INET &&
			    c->virtual_addr.ip == inet_addr("10.2.0.9") && c->virtual_port == htons(5353) &&
			    c->dest_addr.ip == inet_addr("127.0.0.1") && c->dest_port == htons(5353) &&
			    c->client_af == AF_INET && c->expires > 0 && c->state[0] != '\0')
				found++;
		}
		if (found != 1) {
			fprintf(stderr, "connections (%u):\n", conns->num_conns);
			if (system("cat /proc/net/ip_vs_conn >&2") != 0)
				fprintf(stderr, "(no /proc/net/ip_vs_conn)\n");
		}
		CHECK(found == 1);
		free(conns);
	}

	/* lvs_init_netns: the handle moves to another namespace; this thread stays here. */
	CHECK(system("ip netns add lvs-capi-other") == 0);
	CHECK(lvs_init_netns("lvs-capi-other") == 0);
	CHECK(ipvs_version() == ipvs_info.version && ipvs_info.version > 0);
	CHECK(lvs_restore_text("-A -t 10.3.0.1:80 -s rr\n") == 0);
	ours = run_capture("ip netns exec lvs-capi-other ipvsadm -Sn");
	CHECK_STR(ours, "-A -t 10.3.0.1:80 -s rr\n");
	free(ours);
	ours = run_capture("ipvsadm -Sn | grep -c 10.3.0.1 || true");
	CHECK_STR(ours, "0\n");
	free(ours);
	errno = 0;
	CHECK(lvs_init_netns("no-such-netns") == -1 && errno == ENOENT);
	ipvs_close();
	CHECK(system("ip netns del lvs-capi-other") == 0);

	/* After close, the next call opens the caller's namespace again. */
	ours = lvs_save_text();
	CHECK(ours != NULL && strstr(ours, "10.2.0.1:80") != NULL);
	free(ours);
	CHECK(ipvs_flush() == 0);
	ipvs_close();
	return check_done("ext");
}
