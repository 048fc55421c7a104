/* bench-sip: just enough SIP (RFC 3261) for the load generator, as pure functions over buffers:
 * message framing on a stream, header lookup, and request/response builders. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name;
  gsize name_len;
  const char *value;
  gsize value_len;
} BenchSipHeader;

typedef struct
{
  const char *p;
  const char *end;
} BenchSipIter;

/* Length of the complete message at the start of @buf (headers, blank line and Content-Length
 * bytes of body), 0 when more bytes are needed, -1 when the framing is broken (RFC 3261 §18.3:
 * on a stream Content-Length is mandatory). */
gssize bench_sip_frame (const char *buf, gsize len);

/* Header iteration; the start line is skipped. Folded lines are not supported (no server here
 * folds). */
void bench_sip_iter_init (BenchSipIter *it, const char *msg, gsize len);
gboolean bench_sip_iter_next (BenchSipIter *it, BenchSipHeader *out);
/* Case-insensitive name match, with the compact form (RFC 3261 §7.3.3) when @compact != 0. */
gboolean bench_sip_header_is (const BenchSipHeader *h, const char *full, char compact);
/* The first header named @full (or @compact), NULL when absent. */
const char *bench_sip_find (const char *msg, gsize len, const char *full, char compact,
                            gsize *value_len);

/* The status code of a response, 0 for a request, -1 for garbage. */
int bench_sip_status (const char *msg, gsize len);
/* TRUE when @msg is a request with method @method. */
gboolean bench_sip_is_request (const char *msg, gsize len, const char *method);
/* The CSeq number and method (copied into @method, at most @method_size - 1 bytes). */
gboolean bench_sip_cseq (const char *msg, gsize len, guint32 *number, char *method,
                         gsize method_size);
/* The "tag" parameter of a From/To value, or NULL. */
char *bench_sip_tag (const char *value, gsize len);
/* The URI of a name-addr (between < and >) or of an addr-spec (up to ';'), or NULL. */
char *bench_sip_uri (const char *value, gsize len);
/* The body, after the blank line. */
const char *bench_sip_body (const char *msg, gsize len, gsize *body_len);

typedef struct
{
  const char *method;
  const char *ruri;
  const char *via_sent_by; /* "127.0.0.2:40000" */
  const char *branch;      /* without the magic cookie */
  const char *from_uri;
  const char *from_tag;
  const char *to_uri;
  const char *to_tag; /* NULL outside a dialog */
  const char *call_id;
  guint32 cseq;
  const char *extra; /* full header lines, each ending in CRLF, or NULL */
  const char *content_type;
  const char *body; /* NULL for none */
} BenchSipRequest;

void bench_sip_build_request (GString *out, const BenchSipRequest *req);

/* A response to @request: copies Via, Record-Route, From, To (adding ;tag=@to_tag when the To
 * has no tag), Call-ID and CSeq (RFC 3261 §8.2.6.2), then @extra and the body. */
void bench_sip_build_response (GString *out, const char *request, gsize request_len, int status,
                               const char *reason, const char *to_tag, const char *extra,
                               const char *content_type, const char *body);

/* The route set a UAC keeps from a 2xx (RFC 3261 §12.1.2): every Record-Route value in reverse
 * order, as "Route: ...\r\n" lines. Empty when there is none. */
void bench_sip_route_set (GString *out, const char *response, gsize len);

G_END_DECLS
