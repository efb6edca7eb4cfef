/*
 * bt_http.h - bt_http.c owns HTTP through libcurl: https with
 * verification, plain http only to loopback, every timeout set.
 */
#ifndef BT_HTTP_H
#define BT_HTTP_H

#include "bt_util.h"

struct bt_http_resp {
	long	 status;	/* HTTP status; 0 on a transport error */
	int	 curlcode;
	char	*body;
	size_t	 len;
	long	 used_weight;	/* X-MBX-USED-WEIGHT-1M, -1 when absent */
	double	 retry_after;	/* Retry-After seconds, -1 when absent */
	char	 err[BT_ERRLEN];
};
struct bt_http;
/* Base URL must be https, or http on a loopback address. */
struct bt_http *bt_http_new(const char *base, char *err);
void	 bt_http_free(struct bt_http *h);
/*
 * A run's deadline (a bt_mono() time; 0: none): each request's timeout
 * is cut to what is left of it, and after it no request goes out (a
 * transport error, status 0).
 */
void	 bt_http_deadline(struct bt_http *h, double deadline);
/* GET base+path?query; query values must already be escaped. */
int	 bt_http_get(struct bt_http *h, const char *path, const char *query,
	    struct bt_http_resp *r);
/* POST application/x-www-form-urlencoded. */
int	 bt_http_post(struct bt_http *h, const char *path, const char *form,
	    struct bt_http_resp *r);
/* POST multipart/form-data: n text fields and one file from disk. */
int	 bt_http_post_file(struct bt_http *h, const char *path,
	    const char *const *names, const char *const *values, int n,
	    const char *field, const char *file, const char *type,
	    struct bt_http_resp *r);
void	 bt_http_resp_free(struct bt_http_resp *r);
char	*bt_http_escape(struct bt_http *h, const char *s);

#endif /* BT_HTTP_H */
