/* hostile.c: the hostile-input matrix through the C API. Every file of tests/hostile (a JSON or
 * TOML ruleset or a rule file, each one fault away from the live table) given to lvs_apply_text
 * (LVS_APPLY_JSON / LVS_APPLY_TOML by extension) fails with -1 and EINVAL, lvs_last_error
 * says exactly what the file's .error says, and the kernel's table stays as it was. Runs in a
 * fresh network namespace, from the repository's top folder. */
#include <dirent.h>
#include "libipvs.h"
#include "check.h"

static const char LIVE[] =
	"-A -t 10.0.0.1:80 -s rr\n"
	"-a -t 10.0.0.1:80 -r 192.168.8.14:80 -m -w 1\n"
	"-a -t 10.0.0.1:80 -r 192.168.8.15:80 -m -w 1\n"
	"-A -u 10.0.0.2:53 -s rr\n"
	"-a -u 10.0.0.2:53 -r 192.168.8.20:53 -m -w 1\n";

#define DIR_PATH "tests/hostile"

/* The whole file, NUL-terminated and malloc'd; NULL if it cannot be read. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	text = malloc((size_t)len + 1);
	if (text && fread(text, 1, (size_t)len, f) != (size_t)len) {
		free(text);
		text = NULL;
	}
	if (text)
		text[len] = '\0';
	fclose(f);
	return text;
}

/* The format flag for a case file, or -1 for a file that is not a case. */
static int format_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot || strcmp(dot, ".error") == 0)
		return -1;
	if (strcmp(dot, ".json") == 0)
		return LVS_APPLY_JSON;
	if (strcmp(dot, ".toml") == 0)
		return LVS_APPLY_TOML;
	if (strcmp(dot, ".rules") == 0)
		return 0;
	return -1;
}

int main(void)
{
	char path[512], *before, *after, *text, *expected, *said;
	struct dirent *entry;
	int cases = 0, format;
	size_t len;
	DIR *dir;

	CHECK(ipvs_init() == 0);
	CHECK(lvs_restore_text(LIVE) == 0);
	before = lvs_save_text();
	CHECK(before != NULL && strstr(before, "-A -u 10.0.0.2:53") != NULL);

	dir = opendir(DIR_PATH);
	CHECK(dir != NULL);
	while (dir && (entry = readdir(dir)) != NULL) {
		format = format_of(entry->d_name);
		if (format < 0)
			continue;
		cases++;
		snprintf(path, sizeof path, DIR_PATH "/%s", entry->d_name);
		text = slurp(path);
		*strrchr(path, '.') = '\0';
		strncat(path, ".error", sizeof path - strlen(path) - 1);
		expected = slurp(path);
		CHECK(text != NULL && expected != NULL);
		if (!text || !expected) {
			free(text);
			free(expected);
			continue;
		}
		len = strlen(expected);
		if (len > 0 && expected[len - 1] == '\n')
			expected[len - 1] = '\0';
		errno = 0;
		if (lvs_apply_text(text, format) != -1 || errno != EINVAL) {
			fprintf(stderr, "%s: expected -1 with EINVAL (errno %d)\n", entry->d_name,
				errno);
			check_failures++;
		}
		said = lvs_last_error();
		CHECK_STR(said, expected);
		free(said);
		after = lvs_save_text();
		CHECK_STR(after, before);
		free(after);
		free(text);
		free(expected);
	}
	if (dir)
		closedir(dir);
	if (cases < 20) {
		fprintf(stderr, "only %d cases in " DIR_PATH "\n", cases);
		check_failures++;
	}
	/* Both formats at once is no format. */
	errno = 0;
	CHECK(lvs_apply_text("{\"services\": []}", LVS_APPLY_JSON | LVS_APPLY_TOML) == -1 &&
	      errno == EINVAL);
	/* The live table itself changes nothing. */
	CHECK(lvs_apply_text(LIVE, 0) == 0);
	after = lvs_save_text();
	CHECK_STR(after, before);
	free(after);
	free(before);
	ipvs_close();
	return check_done("hostile");
}
