/* reconcile.c: lvs_reconciler_* against the kernel. A reconciler applies rule text sending only
 * the difference, repairs what `ipvsadm` changed behind its back in the same call, refuses
 * text that breaks a rule with EINVAL (the table unchanged), and checks its arguments. Runs in
 * a fresh network namespace. */
#include "libipvs.h"
#include "check.h"

static const char A[] =
	"-A -t 10.3.0.1:80 -s rr\n"
	"-a -t 10.3.0.1:80 -r 192.168.4.1:80 -m -w 1\n"
	"-a -t 10.3.0.1:80 -r 192.168.4.2:80 -m -w 1\n";

/* .1 weighted 5: the edit that finds .1 deleted by someone else. */
static const char B[] =
	"-A -t 10.3.0.1:80 -s rr\n"
	"-a -t 10.3.0.1:80 -r 192.168.4.1:80 -m -w 5\n"
	"-a -t 10.3.0.1:80 -r 192.168.4.2:80 -m -w 1\n";

int main(void)
{
	struct lvs_reconciler *r;
	char *detail;

	r = lvs_reconciler_new(NULL);
	CHECK(r != NULL);
	if (!r)
		return check_done("reconcile");
	CHECK(lvs_reconciler_apply_text(r, A, 0) == 0);
	CHECK_SAVE(A);

	/* Behind its back; the next apply's edit is answered "no such destination", the
	 * reconciler reads the service again and adds .1 back with weight 5. */
	free(run_capture("ipvsadm -d -t 10.3.0.1:80 -r 192.168.4.1:80"));
	CHECK(lvs_reconciler_apply_text(r, B, 0) == 0);
	CHECK_SAVE(B);
	CHECK(lvs_reconciler_apply_text(r, B, 0) == 0);

	/* A JSON ruleset with a misspelt key changes nothing. */
	errno = 0;
	CHECK(lvs_reconciler_apply_text(r, "{\"servces\": []}", LVS_APPLY_JSON) == -1 &&
	      errno == EINVAL);
	detail = lvs_last_error();
	CHECK(detail != NULL && strstr(detail, "unknown field `servces`") != NULL);
	free(detail);
	CHECK_SAVE(B);
	/* An empty ruleset, said so, empties the table. */
	CHECK(lvs_reconciler_apply_text(r, "{\"services\": []}", LVS_APPLY_JSON) == 0);
	CHECK_SAVE("");

	CHECK(lvs_reconciler_resync(r) == 0);
	CHECK(lvs_reconciler_set_resync_interval(r, 60) == 0);
	CHECK(lvs_reconciler_set_reply_timeout(r, 2000) == 0);
	errno = 0;
	CHECK(lvs_reconciler_set_reply_timeout(r, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(lvs_reconciler_apply_text(NULL, A, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(lvs_reconciler_apply_text(r, NULL, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(lvs_reconciler_resync(NULL) == -1 && errno == EINVAL);
	CHECK(lvs_set_reply_timeout(1000) == 0);
	errno = 0;
	CHECK(lvs_set_reply_timeout(0) == -1 && errno == EINVAL);
	lvs_reconciler_free(r);
	lvs_reconciler_free(NULL);
	ipvs_close();
	return check_done("reconcile");
}
