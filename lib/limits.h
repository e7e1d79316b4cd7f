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

#endif
