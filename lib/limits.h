/*
 * Every limit of the system in one place, each with the reason for its
 * number.  nginx's client_max_body_size (nginx/) must agree with
 * UPLOAD_MAX_BYTES.
 */
#ifndef LIMITS_H
#define LIMITS_H

/* Longest configuration line; keys and values are short. */
#define CONFIG_LINE_MAX		4096

/* Default upload.max_bytes: the 10 MiB the API contract promises. */
#define UPLOAD_MAX_BYTES	(10L * 1024 * 1024)
/*
 * The multipart envelope around a 10 MiB file adds boundaries and part
 * headers; nginx accepts this much more so that a file of exactly 10 MiB
 * reaches the app, which then applies the exact file-size cap.
 */
#define UPLOAD_ENVELOPE_SLACK	(64L * 1024)
/* Default upload.max_rows: a 10 MiB file of short rows is ~150,000. */
#define UPLOAD_MAX_ROWS		200000L

/* Multipart: parts per body (a form has a file and a few fields). */
#define MP_MAX_PARTS		16
/* Multipart: bytes of headers per part (browsers send < 300). */
#define MP_MAX_HEADER_BYTES	8192
/* Multipart: RFC 2046 5.1.1 caps a boundary at 70 characters. */
#define MP_MAX_BOUNDARY		70
/* Multipart: a text field kept in memory. */
#define MP_MAX_FIELD_BYTES	(64 * 1024)
/* Multipart: header lines per part (browsers send 2, curl 1 or 2). */
#define MP_MAX_PART_HEADERS	8

/* CSV: one field; longest real value (a name) is far below this. */
#define CSV_MAX_FIELD_BYTES	1024
/* CSV: columns per row (5 required plus extras echoed back). */
#define CSV_MAX_COLUMNS		64

/* JSON: nesting accepted from the queue and from payers. */
#define JSON_MAX_DEPTH		32
/* Largest Celery message accepted from Redis. */
#define CELERY_MAX_MESSAGE	(1024 * 1024)

/* Payer: largest response body accepted (real answers are < 20 KiB). */
#define PAYER_MAX_RESPONSE	(256 * 1024)
/* Payer: hard ceiling on requests in flight per worker process. */
#define PAYER_MAX_CONCURRENCY	1024

/* csvin (CSV intake): per-column caps, in characters, from the X12
 * 005010 claim status request (276) element sizes the payer accepts. */
#define CSVIN_MAX_CLAIM_NUMBER	50	/* REF02 / TRN02 */
#define CSVIN_MAX_FIRST_NAME	35	/* NM104 */
#define CSVIN_MAX_LAST_NAME	60	/* NM103 */
#define CSVIN_MAX_SUBSCRIBER_ID	80	/* NM109 */
/* csvin: bytes handed to libcsv per call; bounds its field buffer. */
#define CSVIN_FEED_BYTES	4096

/* --- payer module --- */
/* Payer: longest OAuth access token kept (real ones are ~1-2 KiB JWTs). */
#define PAYER_MAX_TOKEN		8192
/* Payer: Retry-After honoured up to this many seconds (a job must go on). */
#define PAYER_MAX_RETRY_AFTER_S	120
/* Payer: attempts per row; config above this is clamped (politeness). */
#define PAYER_MAX_ATTEMPTS	10
/* Payer: fresh tokens refused in a row before the job stops (not expiry). */
#define PAYER_MAX_TOKEN_REFUSALS	3
/* Payer: a token bucket's burst, in seconds of its rate (smooth, 1/10 s). */
#define PAYER_RATE_BURST_S	0.1

/* payer-sim: request body accepted (real requests are < 2 KiB). */
#define SIM_MAX_BODY		(64 * 1024)
/* payer-sim: one request field (claim number, name, id) kept. */
#define SIM_MAX_FIELD		128
/* payer-sim: claim numbers whose attempts are counted (~100 B each). */
#define SIM_MAX_CLAIMS		(1024L * 1024)
/* payer-sim: live tokens kept; the oldest is dropped beyond this. */
#define SIM_MAX_TOKENS		4096
/* payer-sim: connections; the spec asks for >= 1,000 delayed in flight. */
#define SIM_MAX_CONNECTIONS	8192
/* payer-sim: longest latency or slow answer (an hour outlasts any client). */
#define SIM_MAX_DELAY_MS	3600000


/* --- celery module --- */
/* Task ids, delivery tags: UUIDs are 36 chars; Celery accepts any string. */
#define CELERY_ID_MAX		256
/* Task, queue, exchange and node names. */
#define CELERY_NAME_MAX		256
/* argsrepr/kwargsrepr: Celery truncates its repr at 1024 characters. */
#define CELERY_REPR_MAX		1024
/* Queues one worker consumes (-Q a,b,...): Celery setups use a handful. */
#define CELERY_MAX_QUEUES	16
/*
 * ETA/countdown messages one worker process holds at once; the main
 * process keeps a copy of each so it can restore them if the process
 * dies, so this is small.  Beyond it, the process stops fetching.
 */
#define CELERY_MAX_HELD		64
/* Largest result meta or event we write (a result is a small summary). */
#define CELERY_MAX_OUTPUT	(4 * 1024 * 1024)
/* Worker processes of one node (--concurrency). */
#define CELERY_MAX_CONCURRENCY	256


/* --- fcgi module --- */
/* Request threads: each holds a PostgreSQL connection (max_connections). */
#define FCGI_MAX_THREADS	256
/* Request path bytes we look at; our longest route is under 100. */
#define FCGI_MAX_PATH		2048
/* Query string: parameters kept (DRF pagination uses 2 or 3). */
#define QUERY_MAX_PARAMS	32
/* Query string: bytes accepted; longer ones are a 400, not a truncation. */
#define QUERY_MAX_BYTES		4096
/* DRF PageNumberPagination: page_size default and max_page_size. */
#define PAGE_SIZE_DEFAULT	20
#define PAGE_SIZE_MAX		100
/* COPY FROM STDIN: bytes batched per PQputCopyData (libpq sends 8 KiB). */
#define COPY_BUF_BYTES		(64 * 1024)
/* Absolute URLs in pagination links (public.url + path + query). */
#define URL_MAX			8192

/* --- security module --- */
/* Login: user name bytes accepted (ours are short; Django allows 150). */
#define LOGIN_MAX_USERNAME	150
/* Login: password bytes accepted; longer is a 400 (Argon2 cost is flat,
 * but nobody needs more and a cap keeps the body small). */
#define LOGIN_MAX_PASSWORD	1024
/* Login: request body bytes read (JSON with both fields and slack). */
#define LOGIN_MAX_BODY		4096
/* Password checks at once: each Argon2id verify allocates 64 MiB, and a
 * failed allocation looks like a wrong password. */
#define LOGIN_MAX_VERIFY	2
/* Retry-After (seconds) of a login refused because both verify slots
 * are busy: a login never waits for one, it would hold one of the four
 * FastCGI threads that progress polls and downloads need. */
#define LOGIN_BUSY_RETRY_S	1
/* Session cookie and CSRF token: 32 random bytes, URL-safe base64. */
#define SESSION_TOKEN_BYTES	32
#define SESSION_TOKEN_CHARS	43
/* Cookie header bytes looked at (nginx's large_client_header_buffers). */
#define COOKIE_MAX_HEADER	8192
/* Audit list: rows per page (default and cap), like the job list. */
#define AUDIT_PAGE_SIZE		50
#define AUDIT_PAGE_MAX		200
/* Per organisation (defaults of limits.org_*; 0 turns a cap off): jobs
 * waiting or running at once -- a worker pool is shared, one practice
 * must not queue 500 files ahead of everyone -- and rows uploaded per 24
 * hours (ten full-size files). */
#define QUOTA_RUNNING_JOBS	20
#define QUOTA_ROWS_PER_DAY	2000000

/* --- intake --- */
/* Default upload.duplicate_window_s: a double click or a re-sent form. */
#define UPLOAD_DUPLICATE_WINDOW_S	600L
/* Validate-only: row errors and warnings listed (the browser shows 100). */
#define VALIDATE_MAX_ISSUES	100
/* Idempotency-Key: longest key accepted (Stripe allows 255). */
#define IDEM_KEY_MAX		255
/* Idempotency-Key: how long the first answer is replayed. */
#define IDEM_TTL_S		(24 * 3600)
/*
 * Idempotency-Key: a claim older than this without an answer belongs to
 * a request that died (longer than nginx's fastcgi_read_timeout 300 s).
 */
#define IDEM_STALE_S		600

/* --- chunk --- */
/* Default chunk.rows: unprocessed rows above which a job is split. */
#define CHUNK_ROWS_DEFAULT	500L
/* Smallest chunk.rows honoured: a message per handful of rows is waste. */
#define CHUNK_ROWS_MIN		10L
/* Most chunks per split; chunks grow to stay under it. */
#define CHUNK_MAX		1000L

#endif
