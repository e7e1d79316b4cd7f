/*
 * Where the client finds its server and its token: the environment
 * (BULKCLAIMS_URL, BULKCLAIMS_TOKEN, BULKCLAIMS_CACERT) over a key =
 * value file (url, token, cacert), read with lib/config.c.  Never from
 * argv, which every user of the machine can read in ps.  The file holds
 * a secret, so one that others may read or change is refused, as ssh
 * refuses a private key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

/* The default file; 0, or -1 when neither XDG_CONFIG_HOME nor HOME. */
static int
default_path(char *out, size_t outsz)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
	int n;

	if (x != NULL && *x == '/')
		n = snprintf(out, outsz, "%s/bulkclaims/config", x);
	else if (h != NULL && *h != '\0')
		n = snprintf(out, outsz, "%s/.config/bulkclaims/config", h);
	else
		return -1;
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/*
 * 0 if path may be read (or, for the default, does not exist: *exists
 * tells), else prints why and returns -1.
 */
static int
check_file(const char *path, int given, int *exists)
{
	struct stat st;

	*exists = 0;
	if (stat(path, &st) == -1) {
		if (errno == ENOENT && !given)
			return 0;
		fprintf(stderr, "bulkclaims: config %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "bulkclaims: config %s: not a regular file\n",
		    path);
		return -1;
	}
	if ((st.st_mode & 0066) != 0) {
		fprintf(stderr, "bulkclaims: refusing config %s: it holds the "
		    "API token but is %s by group or others (mode %04o); "
		    "run: chmod 600 %s\n", path,
		    (st.st_mode & 0044) ? "readable" : "writable",
		    (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr, "bulkclaims: refusing config %s: owned by "
		    "uid %u, not by you\n", path, (unsigned)st.st_uid);
		return -1;
	}
	*exists = 1;
	return 0;
}

/* A token is printable ASCII without blanks: it goes into a header. */
static int
token_ok(const char *t)
{
	size_t n = strlen(t), i;

	if (n == 0 || n > 512)
		return 0;
	for (i = 0; i < n; i++)
		if (t[i] <= ' ' || t[i] > '~')
			return 0;
	return 1;
}

int
conf_load(struct cli *c, const char *path, const char *cacert)
{
	struct errbuf err;
	char def[1024];
	const char *url, *token, *ca;
	size_t n;
	int exists = 0;

	if (path == NULL && default_path(def, sizeof(def)) == 0)
		path = def;
	if (path != NULL && check_file(path, path != def, &exists) == -1)
		return CLI_EINPUT;
	/* "" reads the environment only (NULL would mean BULKCLAIMS_CONFIG,
	 * the server programs' file). */
	if (config_load(path != NULL && exists ? path : "", &err) == -1) {
		fprintf(stderr, "bulkclaims: config: %s\n", err.msg);
		return CLI_EINPUT;
	}
	url = config_get("url", NULL);
	token = config_get("token", NULL);
	ca = cacert != NULL ? cacert : config_get("cacert", NULL);
	if (url == NULL || *url == '\0') {
		fprintf(stderr, "bulkclaims: no server: set BULKCLAIMS_URL or "
		    "url = in %s\n", path != NULL ? path : "the config file");
		return CLI_EINPUT;
	}
	if (token == NULL || *token == '\0') {
		fprintf(stderr, "bulkclaims: no API token: set "
		    "BULKCLAIMS_TOKEN or token = in %s\n",
		    path != NULL ? path : "the config file");
		return CLI_EINPUT;
	}
	if (!token_ok(token)) {
		fprintf(stderr, "bulkclaims: the API token has a blank or a "
		    "character that is not printable ASCII\n");
		return CLI_EINPUT;
	}
	/* The token goes to the server only over TLS. */
	if (strncmp(url, "https://", 8) != 0) {
		fprintf(stderr, "bulkclaims: the server URL must start with "
		    "https://\n");
		return CLI_EINPUT;
	}
	/* Accept "https://h", "https://h/" and "https://h/api/v1/". */
	n = strlen(url);
	while (n > 8 && url[n - 1] == '/')
		n--;
	if (n >= 7 && strncmp(url + n - 7, "/api/v1", 7) == 0)
		n -= 7;
	if ((size_t)snprintf(c->base, sizeof(c->base), "%.*s/api/v1/",
	    (int)n, url) >= sizeof(c->base)) {
		fprintf(stderr, "bulkclaims: the server URL is too long\n");
		return CLI_EINPUT;
	}
	snprintf(c->auth, sizeof(c->auth), "Authorization: Token %s", token);
	if (ca != NULL && *ca != '\0' && (c->cacert = strdup(ca)) == NULL) {
		fprintf(stderr, "bulkclaims: out of memory\n");
		return CLI_EFAIL;
	}
	config_free();
	return CLI_OK;
}
