/*
 * bulkclaimsctl: the admin command.  Migrates the schema, creates
 * organisations, practices, users and API tokens, stores payer endpoints
 * and (encrypted) payer credentials, and sets up the demo data that
 * scripts/run uses.  Secrets are read from files, never from argv (which
 * other users can see in ps).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "payer.h"
#include "secrets.h"

static void
usage(void)
{
	fprintf(stderr,
"usage: bulkclaimsctl [-c config] command [options]\n"
"  migrate                       apply pending sql/ migrations\n"
"  genkey                        create secrets.key_file if absent\n"
"  create-org --name N --tin T\n"
"  create-practice --tin T --name N [--npi NPI]\n"
"  create-user --tin T --username U [--role admin|member|viewer]\n"
"              [--email E] [--password-file F]\n"
"  create-token --username U [--expires-days N] [--token-file F]\n"
"              (default tokens.expiry_days, 90; 0 = never expires)\n"
"  set-endpoint --provider P --transaction T --base-url URL\n"
"              [--api-path P] [--token-path P] [--payer-id ID]\n"
"              (api-path default by T: CLAIM_STATUS /oihub/claim/inquiry/v1,\n"
"              CLAIM_DETAILS /oihub/claim/detail/v1, CLAIM_PAYMENT\n"
"              /oihub/claim/payment/v1, MEMBER_SEARCH\n"
"              /oihub/claim/member-search/v1; X12\n"
"              /medicalnetwork/claimstatus/v2/)\n"
"  set-credentials --tin T --provider P --client-id ID\n"
"              --client-secret-file F\n"
"  demo --payer-url URL --token-file F --password-file F\n"
"  set-role --username U --role admin|member|viewer\n"
"  deactivate-user --username U  (also ends its sessions)\n"
"  end-sessions --username U     sign U out everywhere now\n"
"  list-tokens --username U\n"
"  revoke-token --prefix P [--username U]\n"
"  rotate-key --new-key-file F   re-encrypt payer and webhook secrets,\n"
"                                swap the key\n"
"  set-webhook --tin T --url URL --secret-file F\n"
"              (https://, or http:// to the local host; secret sealed)\n"
"  purge --job ID                delete a job's rows and results now\n"
"  purge-expired                 retention.days / audit.retention_days\n"
"  deadline-rules [--tin T]      the deadline rules (in force for T)\n"
"  set-deadline-rule [--tin T] --provider P --action A --kind K\n"
"              --days N --from processed|service [--note N]\n"
"              (no --tin: the default every organisation starts from)\n"
"  delete-deadline-rule [--tin T] --provider P --action A\n");
	exit(2);
}

void
ctl_usage_of(const char *what)
{
	fprintf(stderr, "usage: bulkclaimsctl %s\n", what);
	exit(2);
}

/* Reads the first line of a small secret file (see ctl.h). */
char *
ctl_read_secret(const char *path)
{
	char buf[1024];
	size_t n;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		fatal("cannot read %s", path ? path : "(no file given)");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}

/* Writes a secret file with mode 0600 (replacing it). */
static void
write_secret(const char *path, const char *value)
{
	FILE *f;

	unlink(path);
	umask(077);
	if ((f = fopen(path, "w")) == NULL)
		fatal("cannot write %s", path);
	fprintf(f, "%s\n", value);
	if (fclose(f) != 0)
		fatal("cannot write %s", path);
}

PGresult *
ctl_q(PGconn *db, const char *sql, int n, const char *const *p)
{
	struct errbuf err;
	PGresult *res = db_exec(db, &err, sql, n, p);

	if (res == NULL)
		fatalx("%s", err.msg);
	return res;
}

PGresult *
ctl_q1(PGconn *db, const char *sql, int n, const char *const *p,
    const char *msg)
{
	PGresult *res = ctl_q(db, sql, n, p);

	if (PQntuples(res) != 1)
		fatalx("%s", msg);
	return res;
}

int
ctl_role_valid(const char *role)
{
	return strcmp(role, "admin") == 0 || strcmp(role, "member") == 0 ||
	    strcmp(role, "viewer") == 0;
}

static void
cmd_create_org(PGconn *db, const struct ctl_opts *o)
{
	const char *p[2] = { o->name, o->tin };

	if (!o->name || !o->tin)
		usage();
	PQclear(ctl_q(db, "INSERT INTO organizations (name, tin) "
	    "VALUES ($1, $2) "
	    "ON CONFLICT (tin) DO UPDATE SET name = EXCLUDED.name", 2, p));
	log_info("organization saved");
}

static void
cmd_create_practice(PGconn *db, const struct ctl_opts *o)
{
	const char *p[3] = { o->tin, o->name, o->npi };

	if (!o->name || !o->tin)
		usage();
	PQclear(ctl_q1(db, "INSERT INTO practices (organization_id, name, "
	    "tin, npi) SELECT id, $2, $1, $3 FROM organizations WHERE tin = $1 "
	    "ON CONFLICT (organization_id, tin) DO UPDATE "
	    "SET name = EXCLUDED.name, npi = EXCLUDED.npi RETURNING id",
	    3, p, "no organization with that TIN"));
	log_info("practice saved");
}

static void
cmd_create_user(PGconn *db, const struct ctl_opts *o)
{
	char hash[crypto_pwhash_STRBYTES], *pw = NULL, detail[96];
	const char *p[5];
	PGresult *r;

	if (!o->tin || !o->username)
		usage();
	if (o->role && !ctl_role_valid(o->role))
		fatalx("role must be admin, member or viewer");
	if (o->password_file) {
		pw = ctl_read_secret(o->password_file);
		if (strlen(pw) < 8)
			fatalx("password must have at least 8 characters");
		if (crypto_pwhash_str(hash, pw, strlen(pw),
		    crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			fatalx("password hashing failed (out of memory?)");
		sodium_memzero(pw, strlen(pw));
		free(pw);
	}
	p[0] = o->tin;
	p[1] = o->username;
	p[2] = o->role ? o->role : "member";
	p[3] = o->email;
	p[4] = o->password_file ? hash : NULL;
	r = ctl_q1(db, "INSERT INTO users (organization_id, username, role, "
	    "email, "
	    "password_hash) SELECT id, $2, $3, $4, $5 FROM organizations "
	    "WHERE tin = $1 ON CONFLICT (username) DO UPDATE SET "
	    "role = EXCLUDED.role, email = COALESCE(EXCLUDED.email, "
	    "users.email), password_hash = COALESCE(EXCLUDED.password_hash, "
	    "users.password_hash) RETURNING id, organization_id", 5, p,
	    "no organization with that TIN");
	snprintf(detail, sizeof(detail), "user_id=%s role=%s%s",
	    PQgetvalue(r, 0, 0), p[2], o->password_file ? " password" : "");
	ctl_audit(db, PQgetvalue(r, 0, 1), "user_change", NULL, "success",
	    detail);
	log_info("user saved user_id=%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* Hex of a SHA-256 for a bytea parameter ("\\x...") */
void
ctl_bytea_hex(const unsigned char h[32], char out[68])
{
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, 65, h, 32);
}

char *
ctl_bytea_hexdup(const unsigned char *b, size_t n)
{
	size_t hexlen = n * 2 + 3;
	char *hex;

	if ((hex = malloc(hexlen)) == NULL)
		fatalx("out of memory");
	hex[0] = '\\';
	hex[1] = 'x';
	sodium_bin2hex(hex + 2, hexlen - 2, b, n);
	return hex;
}

static void
cmd_create_token(PGconn *db, const struct ctl_opts *o)
{
	char tok[SECRETS_TOKEN_LEN + 1], hex[68], days[32], prefix[9];
	char detail[128];
	unsigned char h[32];
	const char *p[4];
	PGresult *r;
	long ndays;

	if (!o->username)
		usage();
	secrets_token_new(tok);
	if (secrets_token_hash(tok, h) != 0)
		fatalx("token hashing failed");
	ctl_bytea_hex(h, hex);
	memcpy(prefix, tok, 8);
	prefix[8] = '\0';
	/* A token that never expires is a choice, not an accident. */
	ndays = o->expires_days >= 0 ? o->expires_days :
	    config_get_long("tokens.expiry_days", 90);
	snprintf(days, sizeof(days), "%ld", ndays);
	p[0] = o->username;
	p[1] = hex;
	p[2] = prefix;
	p[3] = ndays > 0 ? days : NULL;
	r = ctl_q1(db, "INSERT INTO api_tokens (user_id, token_hash, prefix, "
	    "expires_at) SELECT id, $2::bytea, $3, now() + make_interval("
	    "days => $4::int) FROM users WHERE username = $1 RETURNING id,"
	    " user_id, (SELECT organization_id FROM users WHERE username = $1)",
	    4, p, "no such user");
	snprintf(detail, sizeof(detail), "prefix=%s user_id=%s expires_days=%s",
	    prefix, PQgetvalue(r, 0, 1), ndays > 0 ? days : "-");
	ctl_audit(db, PQgetvalue(r, 0, 2), "token_create", NULL, "success",
	    detail);
	log_info("token created token_id=%s prefix=%s", PQgetvalue(r, 0, 0),
	    prefix);
	PQclear(r);
	if (o->token_file)
		write_secret(o->token_file, tok);
	else
		printf("%s\n", tok);
	sodium_memzero(tok, sizeof(tok));
}

/* The path an adapter speaks on the simulator (and the real payer). */
static const char *
default_api_path(const char *provider, const char *transaction)
{
	if (strcasecmp(provider, "X12") == 0)
		return "/medicalnetwork/claimstatus/v2/";
	if (strcasecmp(transaction, "CLAIM_DETAILS") == 0)
		return "/oihub/claim/detail/v1";
	if (strcasecmp(transaction, "CLAIM_PAYMENT") == 0)
		return "/oihub/claim/payment/v1";
	if (strcasecmp(transaction, "MEMBER_SEARCH") == 0)
		return "/oihub/claim/member-search/v1";
	return "/oihub/claim/inquiry/v1";
}

static void
cmd_set_endpoint(PGconn *db, const struct ctl_opts *o)
{
	const char *p[6];
	struct errbuf err;

	if (!o->provider || !o->transaction || !o->base_url)
		usage();
	if (payer_base_url_check(o->base_url,
	    config_get_bool("payer.allow_http", 0), &err) == -1)
		fatalx("%s", err.msg);
	p[0] = o->provider;
	p[1] = o->transaction;
	p[2] = o->base_url;
	p[3] = o->api_path ? o->api_path : default_api_path(o->provider,
	    o->transaction);
	p[4] = o->token_path ? o->token_path : "/apip/auth/v2/token";
	p[5] = o->payer_id ? o->payer_id : "87726";
	PQclear(ctl_q(db, "INSERT INTO payer_endpoints (provider_code, "
	    "transaction_code, base_url, api_path, token_path, payer_id) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider_code, "
	    "transaction_code) DO UPDATE SET base_url = EXCLUDED.base_url, "
	    "api_path = EXCLUDED.api_path, token_path = EXCLUDED.token_path, "
	    "payer_id = EXCLUDED.payer_id", 6, p));
	log_info("payer endpoint saved provider=%s transaction=%s",
	    o->provider, o->transaction);
}

static void
set_credentials(PGconn *db, const char *tin, const char *provider,
    const char *client_id, const char *secret)
{
	unsigned char key[SECRETS_KEY_LEN], *sealed;
	char ad[SECRETS_AD_MAX], *hex, org[24], detail[96];
	const char *p[4];
	size_t sealedlen;
	struct errbuf err;
	PGresult *r, *r2;

	p[0] = tin;
	p[1] = provider;
	r = ctl_q1(db, "SELECT p.id, o.id FROM practices p JOIN organizations"
	    " o ON o.id = p.organization_id WHERE p.tin = $1 AND o.tin = $1", 1,
	    p, "no practice with that TIN");
	snprintf(org, sizeof(org), "%s", PQgetvalue(r, 0, 1));
	/* the provider's endpoints share one base URL (payer engine rule) */
	r2 = ctl_q1(db, "SELECT min(base_url) FROM payer_endpoints "
	    "WHERE provider_code = $1 AND is_active "
	    "HAVING count(DISTINCT base_url) = 1", 1, &provider,
	    "set the provider's endpoint (set-endpoint) first: its base URL "
	    "is sealed with the secret");
	/* The row identity and the endpoint bind the ciphertext. */
	if (secrets_payer_ad(ad, PQgetvalue(r, 0, 0), provider,
	    PQgetvalue(r2, 0, 0)) == -1)
		fatalx("payer base URL too long");
	PQclear(r2);
	PQclear(r);
	if (secrets_key_load(config_get("secrets.key_file", NULL), key,
	    &err) != 0)
		fatalx("%s", err.msg);
	if (secrets_seal(key, ad, secret, strlen(secret), &sealed, &sealedlen,
	    &err) != 0)
		fatalx("%s", err.msg);
	sodium_memzero(key, sizeof(key));
	hex = ctl_bytea_hexdup(sealed, sealedlen);
	free(sealed);
	p[2] = client_id;
	p[3] = hex;
	PQclear(ctl_q(db, "BEGIN", 0, NULL));
	PQclear(ctl_q(db, "INSERT INTO payer_credentials (practice_id, "
	    "provider_code, client_id, client_secret_enc) SELECT p.id, $2, $3, "
	    "$4::bytea FROM practices p JOIN organizations o ON o.id = "
	    "p.organization_id WHERE p.tin = $1 AND o.tin = $1 "
	    "ON CONFLICT (practice_id, provider_code) DO UPDATE SET "
	    "client_id = EXCLUDED.client_id, client_secret_enc = "
	    "EXCLUDED.client_secret_enc, updated_at = now()", 4, p));
	free(hex);
	snprintf(detail, sizeof(detail), "provider=%.16s",
	    provider);
	ctl_audit(db, org, "credential_change", NULL, "success", detail);
	PQclear(ctl_q(db, "COMMIT", 0, NULL));
	log_info("payer credentials saved provider=%s", provider);
}

static void
cmd_set_credentials(PGconn *db, const struct ctl_opts *o)
{
	char *secret;

	if (!o->tin || !o->provider || !o->client_id ||
	    !o->client_secret_file)
		usage();
	secret = ctl_read_secret(o->client_secret_file);
	set_credentials(db, o->tin, o->provider, o->client_id, secret);
	sodium_memzero(secret, strlen(secret));
	free(secret);
}

/* 1 if the token in path exists in the database. */
static int
token_file_valid(PGconn *db, const char *path)
{
	unsigned char h[32];
	char hex[68], *tok;
	const char *p[1] = { hex };
	PGresult *r;
	int valid;

	if (access(path, R_OK) != 0)
		return 0;
	tok = ctl_read_secret(path);
	valid = secrets_token_hash(tok, h) == 0;
	free(tok);
	if (!valid)
		return 0;
	ctl_bytea_hex(h, hex);
	r = ctl_q(db, "SELECT 1 FROM api_tokens WHERE token_hash = $1::bytea "
	    "AND revoked_at IS NULL", 1, p);
	valid = PQntuples(r) == 1;
	PQclear(r);
	return valid;
}

/*
 * The demo data of scripts/run, idempotent: an organisation, a practice,
 * the simulator as the payer endpoints (UHC claim status, details and
 * payment; X12 claim status), credentials the simulator accepts, and
 * user "demo" (admin) with a password and an API token.
 */
static void
cmd_demo(PGconn *db, struct ctl_opts *o)
{
	const char *tin = config_get("demo.tin", "123456789");
	const char *cid, *csecret;
	char pw[SECRETS_TOKEN_LEN + 1];

	if (!o->payer_url || !o->token_file || !o->password_file)
		usage();
	o->name = "Demo Medical Group";
	o->tin = tin;
	cmd_create_org(db, o);
	o->name = "Demo Family Practice";
	o->npi = "1234567893";
	cmd_create_practice(db, o);
	o->base_url = o->payer_url;
	o->transaction = "CLAIM_STATUS";
	o->provider = "UHC";
	cmd_set_endpoint(db, o);
	o->transaction = "CLAIM_DETAILS";
	cmd_set_endpoint(db, o);
	o->transaction = "CLAIM_PAYMENT";
	cmd_set_endpoint(db, o);
	o->transaction = "MEMBER_SEARCH";
	cmd_set_endpoint(db, o);
	o->transaction = "CLAIM_STATUS";
	o->provider = "X12";
	cmd_set_endpoint(db, o);
	cid = config_get("sim.client_id", "bulkclaims-dev");
	csecret = config_get("sim.client_secret", "bulkclaims-dev-secret");
	set_credentials(db, tin, "UHC", cid, csecret);
	set_credentials(db, tin, "X12", cid, csecret);
	if (access(o->password_file, R_OK) != 0) {
		secrets_token_new(pw);
		pw[16] = '\0';
		write_secret(o->password_file, pw);
		sodium_memzero(pw, sizeof(pw));
	}
	o->username = "demo";
	o->role = "admin";
	o->email = "demo@example.com";
	cmd_create_user(db, o);
	if (!token_file_valid(db, o->token_file))
		cmd_create_token(db, o);
	log_info("demo data ready");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "tin", required_argument, NULL, 'T' },
		{ "npi", required_argument, NULL, 'P' },
		{ "username", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		{ "email", required_argument, NULL, 'e' },
		{ "password-file", required_argument, NULL, 'w' },
		{ "provider", required_argument, NULL, 'p' },
		{ "transaction", required_argument, NULL, 't' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "api-path", required_argument, NULL, 'a' },
		{ "token-path", required_argument, NULL, 'k' },
		{ "payer-id", required_argument, NULL, 'i' },
		{ "client-id", required_argument, NULL, 'I' },
		{ "client-secret-file", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 'f' },
		{ "payer-url", required_argument, NULL, 'U' },
		{ "expires-days", required_argument, NULL, 'x' },
		{ "new-key-file", required_argument, NULL, 'K' },
		{ "job", required_argument, NULL, 'j' },
		{ "prefix", required_argument, NULL, 'X' },
		{ "action", required_argument, NULL, 'y' },
		{ "kind", required_argument, NULL, 'g' },
		{ "days", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'F' },
		{ "note", required_argument, NULL, 'n' },
		{ "url", required_argument, NULL, 'L' },
		{ "secret-file", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_opts o;
	const char *cfgpath = NULL, *cmd;
	struct errbuf err;
	PGconn *db;
	int ch;

	memset(&o, 0, sizeof(o));
	o.expires_days = -1;	/* not given: tokens.expiry_days */
	log_init("bulkclaimsctl", getenv("BULKCLAIMS_LOG_FILE"), 1, 0);
	/* "+" stops at the command word; its options are parsed after it. */
	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		if (ch == 'c')
			cfgpath = optarg;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	optind++;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'N': o.name = optarg; break;
		case 'T': o.tin = optarg; break;
		case 'P': o.npi = optarg; break;
		case 'u': o.username = optarg; break;
		case 'r': o.role = optarg; break;
		case 'e': o.email = optarg; break;
		case 'w': o.password_file = optarg; break;
		case 'p': o.provider = optarg; break;
		case 't': o.transaction = optarg; break;
		case 'b': o.base_url = optarg; break;
		case 'a': o.api_path = optarg; break;
		case 'k': o.token_path = optarg; break;
		case 'i': o.payer_id = optarg; break;
		case 'I': o.client_id = optarg; break;
		case 's': o.client_secret_file = optarg; break;
		case 'f': o.token_file = optarg; break;
		case 'U': o.payer_url = optarg; break;
		case 'x': o.expires_days = strtol(optarg, NULL, 10); break;
		case 'K': o.new_key_file = optarg; break;
		case 'L': o.url = optarg; break;
		case 'S': o.secret_file = optarg; break;
		case 'j': o.job = optarg; break;
		case 'X': o.prefix = optarg; break;
		case 'y': o.action = optarg; break;
		case 'g': o.kind = optarg; break;
		case 'd': o.days = strtol(optarg, NULL, 10); break;
		case 'F': o.from = optarg; break;
		case 'n': o.note = optarg; break;
		default: usage();
		}
	}
	if (sodium_init() < 0)
		fatalx("libsodium cannot be initialised");
	config_set_program("ctl");
	if (config_load(cfgpath, &err) != 0)
		fatalx("%s", err.msg);
	if (strcmp(cmd, "genkey") == 0) {
		const char *path = config_get("secrets.key_file", NULL);

		if (path == NULL)
			fatalx("secrets.key_file is not set");
		if (access(path, F_OK) == 0)
			return 0;
		if (secrets_key_create(path, &err) != 0)
			fatalx("%s", err.msg);
		log_info("credential key created");
		return 0;
	}
	db = db_connect(config_get_own("database.url", NULL), "bulkclaimsctl",
	    &err);
	if (db == NULL)
		fatalx("%s", err.msg);
	PQclear(PQexec(db, "SET client_min_messages = warning"));
	if (strcmp(cmd, "migrate") == 0) {
		if (ctl_migrate(db, ctl_sql_dir(), &err) != 0)
			fatalx("migrate: %s", err.msg);
	} else if (strcmp(cmd, "create-org") == 0)
		cmd_create_org(db, &o);
	else if (strcmp(cmd, "create-practice") == 0)
		cmd_create_practice(db, &o);
	else if (strcmp(cmd, "create-user") == 0)
		cmd_create_user(db, &o);
	else if (strcmp(cmd, "create-token") == 0)
		cmd_create_token(db, &o);
	else if (strcmp(cmd, "set-endpoint") == 0)
		cmd_set_endpoint(db, &o);
	else if (strcmp(cmd, "set-credentials") == 0)
		cmd_set_credentials(db, &o);
	else if (strcmp(cmd, "demo") == 0)
		cmd_demo(db, &o);
	else if (strcmp(cmd, "set-role") == 0)
		ctl_set_role(db, &o);
	else if (strcmp(cmd, "deactivate-user") == 0)
		ctl_deactivate_user(db, &o);
	else if (strcmp(cmd, "end-sessions") == 0)
		ctl_end_sessions(db, &o);
	else if (strcmp(cmd, "list-tokens") == 0)
		ctl_list_tokens(db, &o);
	else if (strcmp(cmd, "revoke-token") == 0)
		ctl_revoke_token(db, &o);
	else if (strcmp(cmd, "rotate-key") == 0)
		ctl_rotate_key(db, &o);
	else if (strcmp(cmd, "set-webhook") == 0)
		ctl_set_webhook(db, &o);
	else if (strcmp(cmd, "purge") == 0)
		ctl_purge_job(db, &o);
	else if (strcmp(cmd, "purge-expired") == 0)
		ctl_purge_expired(db, &o);
	else if (strcmp(cmd, "deadline-rules") == 0)
		ctl_deadline_rules(db, &o);
	else if (strcmp(cmd, "set-deadline-rule") == 0)
		ctl_set_deadline_rule(db, &o);
	else if (strcmp(cmd, "delete-deadline-rule") == 0)
		ctl_delete_deadline_rule(db, &o);
	else
		usage();
	PQfinish(db);
	config_free();
	return 0;
}
