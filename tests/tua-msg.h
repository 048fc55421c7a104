/* tua-msg: the test UA's SIP message model. Pure functions over buffers: stream framing
 * (RFC 3261 §18.3), parsing, header lookup with compact forms (RFC 3261 §7.3.3), splitting of
 * comma-separated header values, and small helpers to read URIs and parameters. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Limits that make a misbehaving peer fail a test instead of eating memory. */
#define TUA_MSG_MAX_HEADER_BYTES (64 * 1024)
#define TUA_MSG_MAX_BODY_BYTES (4 * 1024 * 1024)

typedef struct
{
  char *name;   /* as received, e.g. "v" or "Via" */
  char *value;  /* trimmed, continuation lines unfolded */
  GStrv items;  /* the value split at top-level commas for list headers (Via, Contact, Route,
                 * Record-Route, ...); for other headers, the single value */
} TuaHeader;

/* A parsed SIP message. Fields are read-only for users; build new messages as text. */
typedef struct
{
  gboolean is_request;
  char *method;      /* requests: "INVITE"; NULL for responses */
  char *request_uri; /* requests only */
  guint status;      /* responses: 100..699; 0 for requests */
  char *reason;      /* responses only, may be "" */
  GPtrArray *headers; /* TuaHeader *, in the order received */
  char *body;        /* exactly body_len bytes, plus a NUL that is not part of the body */
  gsize body_len;
  char *raw;         /* the whole message as received, raw_len bytes plus a NUL */
  gsize raw_len;
  /*< private >*/
  gint ref_count;
} TuaMsg;

TuaMsg *tua_msg_ref (TuaMsg *msg);
void tua_msg_unref (TuaMsg *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TuaMsg, tua_msg_unref)

typedef enum
{
  TUA_FRAME_NEED_MORE, /* the buffer holds the start of a message: read more */
  TUA_FRAME_MESSAGE,   /* *msg_len bytes hold one complete message */
  TUA_FRAME_CRLF,      /* *msg_len (2) bytes are a bare CRLF: a keepalive pong (RFC 5626 §4.4.1) */
  TUA_FRAME_INVALID,   /* the stream cannot be framed (error set) */
  TUA_FRAME_LAST
} TuaFrameResult;

const char *tua_frame_result_to_string (TuaFrameResult result);

/* Finds where the first message of a stream buffer ends, using Content-Length, which is
 * mandatory on stream transports (RFC 3261 §18.3, §20.14): a message without it, with a
 * malformed or conflicting one, with headers over TUA_MSG_MAX_HEADER_BYTES or a body over
 * TUA_MSG_MAX_BODY_BYTES is TUA_FRAME_INVALID (G_IO_ERROR_INVALID_DATA). *msg_len is written
 * for TUA_FRAME_MESSAGE and TUA_FRAME_CRLF only. */
TuaFrameResult tua_msg_frame (const char *buf, gsize len, gsize *msg_len, GError **error);

/* Parses exactly one message occupying @buf[0..@len). The header section must end with an
 * empty line; the body is everything after it, and a Content-Length, when present, must equal
 * its length. Any malformed input fails with G_IO_ERROR_INVALID_DATA; *out is written only on
 * success. */
gboolean tua_msg_parse (const char *buf, gsize len, TuaMsg **out, GError **error);

/* The full name for a compact form ("v" -> "Via"), or @name itself when it has none. */
const char *tua_msg_header_full_name (const char *name);

/* TRUE when @a and @b name the same header (case-insensitive, compact forms folded). */
gboolean tua_msg_header_name_equal (const char *a, const char *b);

/* The first value of header @name (compact forms accepted either way), or NULL. For list
 * headers this is the first element: the top Via even when a line carries several. Owned by
 * @msg. */
const char *tua_msg_header (const TuaMsg *msg, const char *name);

/* Every value of header @name in order, over all lines, list headers split into elements.
 * Never NULL: an empty vector when absent. Free with g_strfreev. */
GStrv tua_msg_headers (const TuaMsg *msg, const char *name);

/* Number of values tua_msg_headers() would return. */
guint tua_msg_header_count (const TuaMsg *msg, const char *name);

/* Parses the CSeq header: TRUE and the number and method (owned by the caller) when valid. */
gboolean tua_msg_cseq (const TuaMsg *msg, guint32 *number, char **method);

/* The branch parameter of the top Via, newly allocated, or NULL. */
char *tua_msg_branch (const TuaMsg *msg);

/* Splits a header value at commas that are outside double quotes (with backslash escapes)
 * and outside <...>. Elements are trimmed; empty elements are dropped. */
GStrv tua_sip_split_list (const char *value);

/* The URI of a name-addr or addr-spec value: what is inside <...> when present, otherwise the
 * text up to the first ';' or white space. NULL when there is no URI. */
char *tua_sip_uri (const char *value);

/* A header parameter (after the URI, case-insensitive name) of a value like
 * `"Bob" <sip:b@x;lr>;tag=12;expires=3600`: the unquoted value, "" for a flag parameter, NULL
 * when absent. Parameters inside <...> belong to the URI and are not seen. */
char *tua_sip_param (const char *value, const char *name);

/* A URI parameter (e.g. "lr", "transport") of a bare URI: "" for a flag, NULL when absent. */
char *tua_sip_uri_param (const char *uri, const char *name);

G_END_DECLS
