/* check.h: tiny assertion helpers shared by the lvs-capi C tests (not installed). */
#ifndef LVS_CAPI_CHECK_H
#define LVS_CAPI_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s (errno %d: %s)\n",     \
				__FILE__, __LINE__, #cond, errno, strerror(errno));     \
			check_failures++;                                               \
		}                                                                       \
	} while (0)

/* An int call that must fail with -1 and errno E, and read MSG from ipvs_strerror. */
#define CHECK_ERR(expr, e, msg)                                                         \
	do {                                                                            \
		errno = 0;                                                              \
		int r_ = (expr);                                          \
		int e_ = errno;                                                         \
		if (r_ != -1 || e_ != (e)) {                                            \
			fprintf(stderr, "%s:%d: %s: expected errno %d, got rc %d errno %d\n", \
				__FILE__, __LINE__, #expr, (e), r_, e_);                \
			check_failures++;                                               \
		} else if (strcmp(ipvs_strerror(e_), (msg)) != 0) {                     \
			fprintf(stderr, "%s:%d: %s: ipvs_strerror says \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #expr, ipvs_strerror(e_), (msg));    \
			check_failures++;                                               \
		}                                                                       \
	} while (0)

#define CHECK_STR(got, want)                                                            \
	do {                                                                            \
		const char *g_ = (got), *w_ = (want);                                   \
		if (g_ == NULL || strcmp(g_, w_) != 0) {                                \
			fprintf(stderr, "%s:%d: %s:\n--- got ---\n%s\n--- expected ---\n%s\n", \
				__FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_);      \
			check_failures++;                                               \
		}                                                                       \
	} while (0)

/* The standard output of a shell command, malloc'd (the caller frees it). */
static __attribute__((unused)) char *run_capture(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	size_t n;

	if (!p || !out) {
		perror(cmd);
		exit(2);
	}
	while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				exit(2);
		}
	}
	out[len] = '\0';
	if (pclose(p) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		check_failures++;
	}
	return out;
}

/* Checks that `ipvsadm -Sn` prints exactly WANT. */
#define CHECK_SAVE(want)                                                                \
	do {                                                                            \
		char *s_ = run_capture("ipvsadm -Sn");                                  \
		CHECK_STR(s_, want);                                                    \
		free(s_);                                                               \
	} while (0)

static int check_done(const char *name)
{
	if (check_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
