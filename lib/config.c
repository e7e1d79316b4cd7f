/*
 * Configuration file loader with environment overrides.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "limits.h"

struct config_entry {
	char	*key;
	char	*value;
};

static struct config_entry *cfg;
static size_t cfg_n;

void
config_free(void)
{
	size_t i;

	for (i = 0; i < cfg_n; i++) {
		free(cfg[i].key);
		free(cfg[i].value);
	}
	free(cfg);
	cfg = NULL;
	cfg_n = 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
config_set(const char *key, const char *value)
{
	struct config_entry *n;
	size_t i;

	for (i = 0; i < cfg_n; i++) {
		if (strcmp(cfg[i].key, key) == 0) {
			char *v = strdup(value);

			if (v == NULL)
				return -1;
			free(cfg[i].value);
			cfg[i].value = v;
			return 0;
		}
	}
	n = realloc(cfg, (cfg_n + 1) * sizeof(*cfg));
	if (n == NULL)
		return -1;
	cfg = n;
	cfg[cfg_n].key = strdup(key);
	cfg[cfg_n].value = strdup(value);
	if (cfg[cfg_n].key == NULL || cfg[cfg_n].value == NULL) {
		free(cfg[cfg_n].key);
		free(cfg[cfg_n].value);
		return -1;
	}
	cfg_n++;
	return 0;
}

int
config_load(const char *path, struct errbuf *err)
{
	char line[CONFIG_LINE_MAX], *p, *eq, *key, *value;
	FILE *f;
	int lineno = 0;

	config_free();
	if (path == NULL)
		path = getenv("BULKCLAIMS_CONFIG");
	if (path == NULL || *path == '\0')
		return 0;
	if ((f = fopen(path, "r")) == NULL)
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fclose(f);
			return errbuf_set(err, "%s:%d: line too long", path,
			    lineno);
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			fclose(f);
			return errbuf_set(err, "%s:%d: expected 'key = value'",
			    path, lineno);
		}
		*eq = '\0';
		key = trim(p);
		value = trim(eq + 1);
		if (*key == '\0') {
			fclose(f);
			return errbuf_set(err, "%s:%d: empty key", path,
			    lineno);
		}
		if (config_set(key, value) != 0) {
			fclose(f);
			return errbuf_set(err, "%s: out of memory", path);
		}
	}
	fclose(f);
	return 0;
}

/*
 * BULKCLAIMS_ + key upper-cased, '.' and '-' as '_'.  The name is built
 * on the stack: config_get() is called from the app's threads at once.
 */
static const char *
env_override(const char *key)
{
	char name[256];
	size_t i, n = strlen(key);

	if (n + sizeof("BULKCLAIMS_") > sizeof(name))
		return NULL;
	memcpy(name, "BULKCLAIMS_", 11);
	for (i = 0; i < n; i++) {
		char c = key[i];

		name[11 + i] = (c == '.' || c == '-') ? '_' :
		    (char)toupper((unsigned char)c);
	}
	name[11 + n] = '\0';
	return getenv(name);
}

const char *
config_get(const char *key, const char *def)
{
	const char *v;
	size_t i;

	if ((v = env_override(key)) != NULL)
		return v;
	for (i = 0; i < cfg_n; i++)
		if (strcmp(cfg[i].key, key) == 0)
			return cfg[i].value;
	return def;
}

long
config_get_long(const char *key, long def)
{
	const char *v = config_get(key, NULL);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return def;
	return n;
}

int
config_get_bool(const char *key, int def)
{
	const char *v = config_get(key, NULL);

	if (v == NULL || *v == '\0')
		return def;
	if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0)
		return 1;
	if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 ||
	    strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0)
		return 0;
	return def;
}
