/* The libcurl transport: one multi handle, a pool of easy handles, and each attempt sent exactly
 * as the engine built it (the listed headers, no redirects of curl's own). */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"
#include "engine/retry.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/url.h"

#define EASY_POOL_MAX 64

typedef struct curl_transport {
    imgsync__transport base;
    CURLM *multi;
    CURL *pool[EASY_POOL_MAX];
    size_t npool;
    /* event-loop mode: who is told of sockets, the sockets told */
    void (*sock)(void *ud, int fd, int what);
    void *sock_ud;
    int *fds;
    size_t nfds, fdcap;
} curl_transport;

/* Per transfer. */
typedef struct easy_state {
    CURL *easy;
    struct curl_slist *headers;
    int header_phase; /* 0 before the status line, 1 in the response headers, 2 after them */
    char errbuf[CURL_ERROR_SIZE];
} easy_state;

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    imgsync__xfer *x = ud;
    easy_state *st = x->tp;
    size_t len = size * n;
    if (st && len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        st->header_phase = 1; /* also a new response after 100 Continue */
    else if (st && (len == 0 || p[0] == '\r' || p[0] == '\n'))
        st->header_phase = 2;
    return imgsync__eresp_header_line(x->resp, p, len) ? 0 : len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    imgsync__xfer *x = ud;
    size_t len = size * n;
    return imgsync__eresp_append(x->resp, p, len) ? 0 : len;
}

/* The wire's headers for curl. Content-Length comes from the body size and Accept-Encoding
 * from CURLOPT_ACCEPT_ENCODING (which also decodes), both with the same values as listed. */
static int build_headers(const imgsync__wire *w, easy_state *st, const char **encoding)
{
    *encoding = NULL;
    for (size_t i = 0; i < w->n; i++) {
        const imgsync__hdr *h = &w->h[i];
        if (!strcasecmp(h->name, "Content-Length"))
            continue;
        if (!strcasecmp(h->name, "Accept-Encoding")) {
            *encoding = h->value;
            continue;
        }
        char *line = imgsync__strjoin(h->name, ": ", h->value, (char *)NULL);
        struct curl_slist *l = line ? curl_slist_append(st->headers, line) : NULL;
        imgsync__wipe_free(line);
        if (!l)
            return IMGSYNC_ENOMEM;
        st->headers = l;
    }
    /* no "Expect: 100-continue" round trip for bodies, and no form Content-Type of curl's own:
     * nothing goes out that the list did not show */
    struct curl_slist *l = curl_slist_append(st->headers, "Expect:");
    if (l && !imgsync__wire_header(w, "Content-Type") && strcmp(w->method, "GET") && strcmp(w->method, "HEAD"))
        l = curl_slist_append(l, "Content-Type:");
    if (!l)
        return IMGSYNC_ENOMEM;
    st->headers = l;
    return 0;
}

/* The method, and a body exactly where the wire lists a Content-Length (the engine lists one
 * for a body and for POST/PUT without one): curl sends a Content-Length for POSTFIELDS, even an
 * empty one, so a DELETE without a body must get none or it would carry a header that was never
 * signed. */
static void set_method(CURL *h, const imgsync__wire *w)
{
    if (!strcmp(w->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return;
    }
    int sends = imgsync__wire_header(w, "Content-Length") != NULL;
    if (sends) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(w->body ? w->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, w->body ? (const char *)w->body : "");
    }
    /* POSTFIELDS alone means POST: any other method sending a body is named explicitly */
    if (strcmp(w->method, "POST") != 0 && (sends || strcmp(w->method, "GET") != 0))
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, w->method);
}

/* CA directory, client certificate and proxy of the attempt's group. */
static void set_net_options(CURL *h, const imgsync__wire *w)
{
    if (w->ca_dir)
        curl_easy_setopt(h, CURLOPT_CAPATH, w->ca_dir);
    if (w->cert_file) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, w->cert_file);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        /* an empty pass phrase: an encrypted key fails the handshake instead of OpenSSL
         * prompting on the terminal (and the sync hanging) */
        curl_easy_setopt(h, CURLOPT_KEYPASSWD, "");
    }
    if (w->key_file) {
        curl_easy_setopt(h, CURLOPT_SSLKEY, w->key_file);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (w->proxy) {
        /* "" turns the environment's proxy off; a configured proxy is used for every host,
         * whatever no_proxy says (an empty NOPROXY overrides the variable) */
        curl_easy_setopt(h, CURLOPT_PROXY, w->proxy);
        if (*w->proxy)
            curl_easy_setopt(h, CURLOPT_NOPROXY, "");
    }
}

static void set_options(CURL *h, imgsync__xfer *x, easy_state *st, const char *encoding)
{
    const imgsync__wire *w = x->wire;
    curl_easy_setopt(h, CURLOPT_URL, w->url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, st->headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, st->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, w->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, w->connect_timeout_ms);
    if (w->low_speed_bytes > 0) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, w->low_speed_bytes);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (w->low_speed_time_ms + 999) / 1000);
    }
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* the engine decides where a redirect may go */
    if (encoding)
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, encoding);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    /* multiplexing is known only on TLS (ALPN); waiting for it over plain http would queue every
     * request behind the first one */
    if (imgsync__url_is_https(w->url))
        curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    set_method(h, w);
    if (w->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, w->ca_file);
    set_net_options(h, w);
    if (w->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static void state_free(curl_transport *ct, easy_state *st)
{
    if (!st)
        return;
    /* curl_slist_append copied each line (an Authorization among them): wipe the copies */
    for (struct curl_slist *l = st->headers; l; l = l->next)
        imgsync__wipe(l->data, strlen(l->data));
    curl_slist_free_all(st->headers);
    if (st->easy) {
        if (ct->npool < EASY_POOL_MAX)
            ct->pool[ct->npool++] = st->easy;
        else
            curl_easy_cleanup(st->easy);
    }
    free(st);
}

static int ct_start(imgsync__transport *t, imgsync__xfer *x)
{
    curl_transport *ct = (curl_transport *)t;
    easy_state *st = calloc(1, sizeof(*st));
    if (!st)
        return IMGSYNC_ENOMEM;
    st->easy = ct->npool ? ct->pool[--ct->npool] : curl_easy_init();
    const char *encoding;
    if (!st->easy || build_headers(x->wire, st, &encoding)) {
        state_free(ct, st);
        return IMGSYNC_ENOMEM;
    }
    curl_easy_reset(st->easy);
    set_options(st->easy, x, st, encoding);
    if (curl_multi_add_handle(ct->multi, st->easy) != CURLM_OK) {
        state_free(ct, st);
        return IMGSYNC_ENOMEM;
    }
    x->tp = st;
    return 0;
}

static void ct_abort(imgsync__transport *t, imgsync__xfer *x)
{
    curl_transport *ct = (curl_transport *)t;
    easy_state *st = x->tp;
    if (!st)
        return;
    curl_multi_remove_handle(ct->multi, st->easy);
    state_free(ct, st);
    x->tp = NULL;
}

/* libcurl's failure as an engine error and retry class. */
void imgsync__curl_map_error(int code, const char *errbuf, int in_headers, imgsync__eresp *r)
{
    CURLcode c = (CURLcode)code;
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(c);
    /* response headers over libcurl's own limits: a line over 100 KB ends as "out of memory"
     * (libcurl 7.x leaves the error buffer empty), all headers over 300 KB as a receive error
     * ("Too large response headers"), newer versions say CURLE_TOO_LARGE; none is worth a retry
     * and none is a lack of memory (issue 6 item 12) */
    if ((c == CURLE_OUT_OF_MEMORY && (in_headers || strstr(errbuf, "header"))) ||
        (c == CURLE_RECV_ERROR && strstr(errbuf, "Too large response header"))
#if LIBCURL_VERSION_NUM >= 0x080600
        || c == CURLE_TOO_LARGE
#endif
    ) {
        imgsync__eresp_fail(r, IMGSYNC_ETOOBIG, IMGSYNC__RETRY_NEVER, "response header too large");
        return;
    }
    switch (c) {
    case CURLE_COULDNT_CONNECT:
        imgsync__eresp_fail(r, IMGSYNC_ENETWORK, IMGSYNC__RETRY_SAFE, detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        imgsync__eresp_fail(r, IMGSYNC_ETIMEOUT, IMGSYNC__RETRY_IDEMPOTENT, detail);
        break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        imgsync__eresp_fail(r, IMGSYNC_ENETWORK, IMGSYNC__RETRY_IDEMPOTENT, detail);
        break;
    case CURLE_OUT_OF_MEMORY:
        imgsync__eresp_fail(r, IMGSYNC_ENOMEM, 0, detail);
        break;
    default:
        /* DNS (not retried: the name will not appear in a second), TLS verification and the like */
        imgsync__eresp_fail(r, IMGSYNC_ENETWORK, 0, detail);
        break;
    }
}

static void finish(curl_transport *ct, CURL *easy, CURLcode cc)
{
    imgsync__xfer *x = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    if (!x)
        return;
    easy_state *st = x->tp;
    if (cc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        imgsync__eresp_set_status(x->resp, (int)status);
    } else {
        imgsync__curl_map_error(cc, st->errbuf, st->header_phase == 1, x->resp);
    }
    char *eff = NULL;
    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &eff);
    imgsync__eresp_set_url(x->resp, eff ? eff : x->wire->url);
    curl_multi_remove_handle(ct->multi, easy);
    state_free(ct, st);
    x->tp = NULL;
    ct->base.done(ct->base.owner, x);
}

/* Report the transfers curl finished. */
static int drain(curl_transport *ct)
{
    int left = 0, n = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(ct->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        finish(ct, m->easy_handle, m->data.result);
        n++;
    }
    return n;
}

static int collect(curl_transport *ct)
{
    int running = 0;
    curl_multi_perform(ct->multi, &running);
    return drain(ct);
}

static void ct_wait(imgsync__transport *t, int timeout_ms)
{
    curl_transport *ct = (curl_transport *)t;
    if (collect(ct))
        return;
    curl_multi_poll(ct->multi, NULL, 0, timeout_ms, NULL);
    collect(ct);
}

static void ct_set_limits(imgsync__transport *t, long total, long per_host)
{
    curl_transport *ct = (curl_transport *)t;
    /* connections stay open for reuse; curl's own caps follow the engine's */
    curl_multi_setopt(ct->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, total);
    curl_multi_setopt(ct->multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
}

/* ---- event-loop mode (curl's multi socket interface) -------------------------------------- */

static ssize_t fd_index(const curl_transport *ct, int fd)
{
    for (size_t i = 0; i < ct->nfds; i++)
        if (ct->fds[i] == fd)
            return (ssize_t)i;
    return -1;
}

/* Remember fd as told; curl cannot be refused here, so without memory the loop still hears of
 * it (action then refuses its events until it is told again). */
static void fd_note(curl_transport *ct, int fd, int what)
{
    ssize_t i = fd_index(ct, fd);
    if (what == IMGSYNC__IO_REMOVE) {
        if (i >= 0)
            ct->fds[i] = ct->fds[--ct->nfds];
        return;
    }
    if (i >= 0)
        return;
    if (ct->nfds == ct->fdcap) {
        size_t cap = ct->fdcap ? ct->fdcap * 2 : 16;
        int *fds = realloc(ct->fds, cap * sizeof(*fds));
        if (!fds)
            return;
        ct->fds = fds;
        ct->fdcap = cap;
    }
    ct->fds[ct->nfds++] = fd;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    curl_transport *ct = userp;
    (void)easy;
    (void)socketp;
    fd_note(ct, (int)s, what);
    if (ct->sock)
        ct->sock(ct->sock_ud, (int)s, what);
    return 0;
}

static int ct_watch(imgsync__transport *t, void (*sock)(void *ud, int fd, int what), void *ud)
{
    curl_transport *ct = (curl_transport *)t;
    if (!sock) {
        /* the loop stops watching what it was told of: curl tells nothing more */
        while (ct->nfds) {
            int fd = ct->fds[--ct->nfds];
            if (ct->sock)
                ct->sock(ct->sock_ud, fd, IMGSYNC__IO_REMOVE);
        }
    }
    ct->sock = sock;
    ct->sock_ud = ud;
    curl_multi_setopt(ct->multi, CURLMOPT_SOCKETFUNCTION, sock ? on_socket : NULL);
    curl_multi_setopt(ct->multi, CURLMOPT_SOCKETDATA, ct);
    return 0;
}

static int ct_action(imgsync__transport *t, int fd, int events)
{
    curl_transport *ct = (curl_transport *)t;
    if (fd >= 0 && fd_index(ct, fd) < 0)
        return IMGSYNC_EINVAL;
    int mask = ((events & IMGSYNC__IO_IN) ? CURL_CSELECT_IN : 0) | ((events & IMGSYNC__IO_OUT) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(ct->multi, fd < 0 ? CURL_SOCKET_TIMEOUT : (curl_socket_t)fd, mask, &running);
    drain(ct);
    return 0;
}

/* libcurl's own answer rather than the last value its timer callback gave: that one goes stale
 * once the loop acted on it (libcurl calls back only when its earliest timer changes). */
static long ct_timeout(imgsync__transport *t)
{
    long ms = -1;
    if (curl_multi_timeout(((curl_transport *)t)->multi, &ms) != CURLM_OK)
        return -1;
    return ms;
}

static void ct_free(imgsync__transport *t)
{
    curl_transport *ct = (curl_transport *)t;
    ct->sock = NULL; /* curl_multi_cleanup may close sockets: the loop was told before (ct_watch) */
    for (size_t i = 0; i < ct->npool; i++)
        curl_easy_cleanup(ct->pool[i]);
    curl_multi_cleanup(ct->multi);
    free(ct->fds);
    free(ct);
}

static void ct_wakeup(imgsync__transport *t) { curl_multi_wakeup(((curl_transport *)t)->multi); }

static const imgsync__transport_ops curl_ops = {ct_start, ct_abort, ct_wait, ct_set_limits, ct_free,
                                                ct_wakeup, ct_watch, ct_action, ct_timeout};

imgsync__transport *imgsync__curl_transport_new(void)
{
    curl_transport *ct = calloc(1, sizeof(*ct));
    if (!ct)
        return NULL;
    if (!(ct->multi = curl_multi_init())) {
        free(ct);
        return NULL;
    }
    ct->base.ops = &curl_ops;
    return &ct->base;
}
