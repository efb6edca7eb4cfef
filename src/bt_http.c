/*
 * bt_http.c - HTTP through libcurl, one reused handle per service.
 *
 * https with verification by default; plain http only when the base URL
 * names a loopback address, as the test servers do (contracts.md).  All
 * three timeout families are set (ops.md 5), no redirects are followed,
 * bodies are capped, and curl's error texts are redacted because they
 * quote URLs, which for Telegram hold the bot token.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "bt_conf.h"
#include "bt_http.h"

struct bt_http {
	CURL	*curl;
	char	*base;
	size_t	 max;
	long	 timeout_ms;	/* BT_HTTP_TIMEOUT */
	double	 deadline;	/* bt_mono() time; 0: none */
	char	 errbuf[CURL_ERROR_SIZE];
	struct bt_http_resp *cur;
	struct bt_buf body;
};

static bool
loopback(const char *url)
{
	const char *h = url + 7;	/* after "http://" */

	return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
	    strncmp(h, "[::1]", 5) == 0;
}

struct bt_http *
bt_http_new(const char *base, char *err)
{
	static bool inited;
	struct bt_http *h;
	bool plain;

	if (strncmp(base, "https://", 8) == 0)
		plain = false;
	else if (strncmp(base, "http://", 7) == 0 && loopback(base))
		plain = true;
	else {
		snprintf(err, BT_ERRLEN, "%s: only https, or http on a "
		    "loopback address, is allowed", base);
		return NULL;
	}
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, BT_ERRLEN, "curl_global_init failed");
			return NULL;
		}
		inited = true;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->base = strdup(base)) == NULL)
		abort();
	/* No trailing slash: paths start with one. */
	while (strlen(h->base) > 0 && h->base[strlen(h->base) - 1] == '/')
		h->base[strlen(h->base) - 1] = '\0';
	h->max = (size_t)bt_conf_long("BT_HTTP_MAX_BODY_MB") << 20;
	if ((h->curl = curl_easy_init()) == NULL) {
		snprintf(err, BT_ERRLEN, "curl_easy_init failed");
		free(h->base);
		free(h);
		return NULL;
	}
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR,
	    plain ? "http" : "https");
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(bt_conf_double("BT_HTTP_CONNECT_TIMEOUT") * 1000));
	h->timeout_ms = (long)(bt_conf_double("BT_HTTP_TIMEOUT") * 1000);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME,
	    bt_conf_long("BT_HTTP_LOW_SPEED_TIME"));
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "bt/" BT_VERSION);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	/* Never CURLOPT_VERBOSE: it would print URLs with secrets. */
	return h;
}

void
bt_http_deadline(struct bt_http *h, double deadline)
{
	h->deadline = deadline;
}

void
bt_http_free(struct bt_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	bt_buf_free(&h->body);
	free(h->base);
	free(h);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct bt_http *h = arg;

	if (h->body.len + size * n > h->max)
		return 0;		/* aborts the transfer */
	bt_buf_add(&h->body, p, size * n);
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct bt_http *h = arg;
	size_t len = size * n;
	char line[256];

	if (len >= sizeof(line))
		return len;
	memcpy(line, p, len);
	line[len] = '\0';
	if (strncasecmp(line, "X-MBX-USED-WEIGHT-1M:", 21) == 0)
		h->cur->used_weight = strtol(line + 21, NULL, 10);
	return len;
}

/* A request that never went out: a transport error with an empty body. */
static int
not_sent(struct bt_http_resp *r, const char *why)
{
	memset(r, 0, sizeof(*r));
	r->used_weight = -1;
	r->retry_after = -1;
	snprintf(r->err, sizeof(r->err), "%s", why);
	if ((r->body = strdup("")) == NULL)
		abort();
	return -1;
}

/*
 * The whole request's timeout: BT_HTTP_TIMEOUT, or less when the run's
 * deadline is nearer.  False when the deadline has passed.
 */
static bool
set_timeout(struct bt_http *h)
{
	double left;
	long ms = h->timeout_ms;

	if (h->deadline > 0) {
		if ((left = h->deadline - bt_mono()) <= 0)
			return false;
		if (left * 1000 < (double)ms)
			ms = (long)(left * 1000) + 1;
	}
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, ms);
	return true;
}

static int
perform(struct bt_http *h, const char *url, struct bt_http_resp *r)
{
	CURLcode cc;
	curl_off_t ra = -1;

	if (!set_timeout(h))
		return not_sent(r, "the run's deadline has passed");
	memset(r, 0, sizeof(*r));
	r->used_weight = -1;
	r->retry_after = -1;
	h->cur = r;
	h->body.len = 0;
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
	cc = curl_easy_perform(h->curl);
	r->curlcode = (int)cc;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	/* libcurl before 8.12 gives a negative value for a past date. */
	if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) ==
	    CURLE_OK && ra > 0)
		r->retry_after = (double)ra;
	else if (r->status == 429 || r->status == 418)
		r->retry_after = ra == 0 ? 0 : -1;
	if ((r->body = malloc(h->body.len + 1)) == NULL)
		abort();
	if (h->body.len > 0)
		memcpy(r->body, h->body.p, h->body.len);
	r->body[h->body.len] = '\0';
	r->len = h->body.len;
	if (cc != CURLE_OK) {
		if (cc == CURLE_WRITE_ERROR)
			snprintf(r->err, sizeof(r->err), "response larger "
			    "than %zu bytes", h->max);
		else
			snprintf(r->err, sizeof(r->err), "%s",
			    h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
		bt_redact(r->err);
		/* A transport error has no usable status. */
		r->status = 0;
		return -1;
	}
	return 0;
}

int
bt_http_get(struct bt_http *h, const char *path, const char *query,
    struct bt_http_resp *r)
{
	char *url;
	int rc;

	if (asprintf(&url, "%s%s%s%s", h->base, path, query && *query ? "?" :
	    "", query ? query : "") == -1)
		abort();
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	rc = perform(h, url, r);
	free(url);
	return rc;
}

int
bt_http_post(struct bt_http *h, const char *path, const char *form,
    struct bt_http_resp *r)
{
	char *url;
	int rc;

	if (asprintf(&url, "%s%s", h->base, path) == -1)
		abort();
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	curl_easy_setopt(h->curl, CURLOPT_COPYPOSTFIELDS, form);
	rc = perform(h, url, r);
	/* Scrub the URL (it may hold a token) from the handle's memory. */
	explicit_bzero(url, strlen(url));
	free(url);
	return rc;
}

/*
 * POST multipart/form-data: n text fields, and one file read from disk
 * by libcurl (its name in the form, its file name and type as sent).
 */
int
bt_http_post_file(struct bt_http *h, const char *path,
    const char *const *names, const char *const *values, int n,
    const char *field, const char *file, const char *type,
    struct bt_http_resp *r)
{
	curl_mime *mime;
	curl_mimepart *part;
	char *url, why[BT_ERRLEN];
	int i, rc;

	if (asprintf(&url, "%s%s", h->base, path) == -1)
		abort();
	if ((mime = curl_mime_init(h->curl)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, names[i]);
		curl_mime_data(part, values[i], CURL_ZERO_TERMINATED);
	}
	part = curl_mime_addpart(mime);
	curl_mime_name(part, field);
	if (curl_mime_filedata(part, file) != CURLE_OK) {
		snprintf(why, sizeof(why), "%s: cannot be read", file);
		not_sent(r, why);
		curl_mime_free(mime);
		explicit_bzero(url, strlen(url));
		free(url);
		return -1;
	}
	curl_mime_type(part, type);
	curl_easy_setopt(h->curl, CURLOPT_MIMEPOST, mime);
	rc = perform(h, url, r);
	curl_easy_setopt(h->curl, CURLOPT_MIMEPOST, NULL);
	curl_mime_free(mime);
	explicit_bzero(url, strlen(url));
	free(url);
	return rc;
}

void
bt_http_resp_free(struct bt_http_resp *r)
{
	free(r->body);
	r->body = NULL;
}

char *
bt_http_escape(struct bt_http *h, const char *s)
{
	char *e, *copy;

	if ((e = curl_easy_escape(h->curl, s, 0)) == NULL)
		abort();
	copy = strdup(e);
	curl_free(e);
	return copy;
}
