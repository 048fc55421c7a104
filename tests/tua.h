/* tua: Sotto's test SIP user agent. It speaks SIP over a raw OpenSSL TLS client connection
 * (tua-conn.h), independent of Sofia-SIP, so integration tests against sotto-signald control
 * every byte: garbage, replayed Authorization, oversized messages, CRLF keepalives.
 *
 * Everything blocks with explicit deadlines; tests read sequentially:
 *
 *   g_autoptr (TuaConn) c = tua_conn_new ("localhost", port, ca, "localhost", &error);
 *   g_autoptr (TuaUa) alice = tua_ua_new (c, "alice", "example.org", "secret");
 *   g_autoptr (TuaMsg) r = tua_ua_register (alice, 600, &error);   // walks the 401
 *   g_assert_cmpuint (r->status, ==, 200);
 *
 * Requests are TuaRequest structs with public fields, so a test can change anything (replay an
 * Authorization, drop a header) before tua_ua_send(). A replay, for example:
 *
 *   g_autoptr (TuaRequest) ok = tua_ua_register_request (alice, 600);
 *   g_autoptr (TuaMsg) r1 = tua_ua_transaction (alice, ok, &error);     // 401, then 200
 *   g_autoptr (TuaRequest) again = tua_ua_register_request (alice, 600);
 *   again->authorization = g_strdup (ok->authorization);              // same nonce and nc
 *   tua_ua_send (alice, again, &error);
 *   g_autoptr (TuaMsg) r2 = tua_ua_wait_final (alice, again, 2000, &error); // expect 401
 *
 * Everything goes over the one TLS
 * connection of the UA, whatever the Request-URI says: the Contact uses the unreachable
 * TEST-NET address 192.0.2.1, so the proxy can only reach us by reusing the connection. */
#pragma once

#include <glib.h>

#include "tua-conn.h"
#include "tua-digest.h"
#include "tua-msg.h"

G_BEGIN_DECLS

#define TUA_DEFAULT_TIMEOUT_MS 5000
#define TUA_CONTACT_HOST "192.0.2.1:5061"

typedef struct _TuaUa TuaUa;
typedef struct _TuaCall TuaCall;

/* An outgoing request, serialised by tua_request_serialize(). Every field may be changed. */
typedef struct
{
  char *method;
  char *request_uri;
  char *sent_by;       /* Via sent-by, "host:port" */
  char *branch;        /* Via branch, "z9hG4bK..." */
  char *from;          /* full From value, with its tag */
  char *to;            /* full To value (with a tag inside a dialog) */
  char *call_id;
  guint32 cseq;
  char *contact;       /* Contact value, or NULL for none */
  GPtrArray *routes;   /* Route values (char *), in order */
  char *authorization; /* Authorization value, or NULL */
  char *proxy_authorization; /* Proxy-Authorization value, or NULL */
  char *extra_headers; /* raw lines, each ending in CRLF, or NULL */
  char *content_type;  /* used when body is set; NULL: application/sdp for INVITE/ACK,
                        * text/plain otherwise (omitted if extra_headers has a Content-Type) */
  GBytes *body;        /* NULL: empty */
  int max_forwards;    /* 70; negative: no Max-Forwards header */
} TuaRequest;

void tua_request_free (TuaRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TuaRequest, tua_request_free)
TuaRequest *tua_request_copy (const TuaRequest *req);

/* Replaces the body (NULL: none); @len -1 means strlen. */
void tua_request_set_body (TuaRequest *req, const char *body, gssize len);

/* The request on the wire: start line, Via (TLS, branch, rport, alias), Max-Forwards, Route,
 * From, To, Call-ID, CSeq, Contact, credentials, extra headers, Content-Type and an exact
 * Content-Length, CRLF line ends. NUL-terminated; *out_len (optional) is the full length. */
char *tua_request_serialize (const TuaRequest *req, gsize *out_len);

/* A response to @request (RFC 3261 §8.2.6): copies every Via, From, To, Call-ID and CSeq;
 * Record-Route too for 101-299; adds ";tag=@to_tag" to To when it has none and status > 100
 * (@to_tag may be NULL to add none); Contact when @contact is set; @extra_headers raw lines;
 * Content-Type when there is a body; Content-Length always. *out_len optional. */
char *tua_msg_build_response (const TuaMsg *request, guint status, const char *reason,
                              const char *to_tag, const char *contact,
                              const char *extra_headers, const char *content_type,
                              const char *body, gssize body_len, gsize *out_len);

/* ---- The user agent ---- */

/* A UA for sips:@user@@domain over @conn, which it borrows: @conn must outlive the UA (declare
 * the conn's g_autoptr first). @password may be NULL for a UA that never authenticates. */
TuaUa *tua_ua_new (TuaConn *conn, const char *user, const char *domain, const char *password);
void tua_ua_free (TuaUa *ua);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TuaUa, tua_ua_free)

TuaConn *tua_ua_conn (TuaUa *ua);
const char *tua_ua_aor (TuaUa *ua); /* "sips:user@domain" */
/* The Contact value: `<sips:USER@192.0.2.1:5061;transport=tls>` plus
 * `;+sip.instance="<urn:uuid:...>";reg-id=N` when an instance is set. Owned by @ua. */
const char *tua_ua_contact (TuaUa *ua);

void tua_ua_set_password (TuaUa *ua, const char *password);
/* Forces the Digest algorithm answered ("MD5" or "SHA-256"); NULL: the strongest offered.
 * Returns FALSE for an unknown name. */
gboolean tua_ua_set_digest_alg (TuaUa *ua, const char *alg);
/* Adds RFC 5626 +sip.instance (@uuid "urn:uuid:..."; NULL removes it) and, when @reg_id > 0,
 * reg-id to the Contact, and "Supported: outbound, path" to REGISTER. */
void tua_ua_set_instance (TuaUa *ua, const char *uuid_urn, guint reg_id);
/* Replaces the Contact host:port (default TUA_CONTACT_HOST). */
void tua_ua_set_contact_host (TuaUa *ua, const char *hostport);
/* Wait used by the high-level calls below (default TUA_DEFAULT_TIMEOUT_MS). */
void tua_ua_set_timeout (TuaUa *ua, guint timeout_ms);
/* Whether tua_ua_transaction() and calls answer a 401/407 once by themselves (default TRUE). */
void tua_ua_set_auto_auth (TuaUa *ua, gboolean auto_auth);

/* ---- Building, sending, matching ---- */

/* A new out-of-dialog request: new Call-ID, From tag and branch, CSeq 1, To <@to_uri> (or
 * <@request_uri> when NULL), Contact for INVITE/SUBSCRIBE/REFER. */
TuaRequest *tua_ua_new_request (TuaUa *ua, const char *method, const char *request_uri,
                                const char *to_uri);

/* A REGISTER to sips:DOMAIN with To = From = the AOR, the UA's Contact, "Expires: @expires",
 * the UA's one Call-ID and its next CSeq (RFC 3261 §10.2). */
TuaRequest *tua_ua_register_request (TuaUa *ua, guint expires);

/* Readies @req to be sent again as a new transaction: next CSeq, new branch. */
void tua_ua_prepare_retry (TuaUa *ua, TuaRequest *req);

/* Fills req->authorization (for a 401) or req->proxy_authorization (for a 407) answering the
 * challenge in @response with the UA's password: the forced algorithm, else SHA-256 over MD5.
 * nc counts up while the server keeps the same nonce. Does not change CSeq or branch. */
gboolean tua_ua_answer_challenge (TuaUa *ua, TuaRequest *req, const TuaMsg *response,
                                  GError **error);

gboolean tua_ua_send (TuaUa *ua, const TuaRequest *req, GError **error);

/* The next response to @req (same top Via branch and CSeq method), provisional or final;
 * other messages stay queued on the connection. */
TuaMsg *tua_ua_wait_response (TuaUa *ua, const TuaRequest *req, guint timeout_ms,
                              GError **error);
/* The next final (>= 200) response to @req, skipping provisional ones. */
TuaMsg *tua_ua_wait_final (TuaUa *ua, const TuaRequest *req, guint timeout_ms, GError **error);

/* Sends @req and returns its final response; with auto-auth, a 401/407 is answered once
 * (credentials, next CSeq, new branch: @req is updated) and the second final response
 * returned. Not for INVITE (see tua_ua_invite). */
TuaMsg *tua_ua_transaction (TuaUa *ua, TuaRequest *req, GError **error);

/* REGISTER (expires 0: unregister this Contact) through the challenge; the final response. */
TuaMsg *tua_ua_register (TuaUa *ua, guint expires, GError **error);

/* A generic out-of-dialog non-INVITE transaction: @extra_headers raw CRLF-ended lines or NULL,
 * @body NULL or text. Returns the final response. */
TuaMsg *tua_ua_request (TuaUa *ua, const char *method, const char *request_uri,
                        const char *extra_headers, const char *body, GError **error);
TuaMsg *tua_ua_options (TuaUa *ua, const char *request_uri, GError **error);
/* MESSAGE to sips:@target_user@DOMAIN with a text/plain body. */
TuaMsg *tua_ua_message (TuaUa *ua, const char *target_user, const char *text, GError **error);

/* ---- Callee side ---- */

/* The next request with @method (NULL: any) received on the UA's connection. */
TuaMsg *tua_ua_wait_request (TuaUa *ua, const char *method, guint timeout_ms, GError **error);

/* Answers @request: see tua_msg_build_response(). The To tag is the UA's tag for this dialog
 * (the same across responses to one Call-ID and From tag); Contact is added to 101-299
 * responses to INVITE; a body gets Content-Type application/sdp. */
gboolean tua_ua_respond (TuaUa *ua, const TuaMsg *request, guint status, const char *reason,
                         const char *body, GError **error);
/* As tua_ua_respond() with extra raw header lines and an explicit content type (NULL:
 * application/sdp). */
gboolean tua_ua_respond_full (TuaUa *ua, const TuaMsg *request, guint status,
                              const char *reason, const char *extra_headers,
                              const char *content_type, const char *body, GError **error);
/* The To tag this UA uses (or will use) in responses to @request. Owned by @ua. */
const char *tua_ua_local_tag_for (TuaUa *ua, const TuaMsg *request);

/* ---- Calls (INVITE dialogs, RFC 3261 §12-§15) ---- */

/* Sends an INVITE to sips:@target_user@DOMAIN with @sdp (may be NULL) and returns at once;
 * read the answers with tua_call_wait_response(). */
TuaCall *tua_ua_invite (TuaUa *ua, const char *target_user, const char *sdp, GError **error);
/* Same with any Request-URI and extra raw header lines. */
TuaCall *tua_ua_invite_uri (TuaUa *ua, const char *request_uri, const char *sdp,
                            const char *extra_headers, GError **error);

/* The callee's dialog for an INVITE this UA answered (or will answer) with a 2xx: route set
 * = the INVITE's Record-Route in order, remote target = its Contact. */
TuaCall *tua_call_new_uas (TuaUa *ua, const TuaMsg *invite);
void tua_call_free (TuaCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TuaCall, tua_call_free)

/* The next response to the INVITE. A non-2xx final response is ACKed (same branch, RFC 3261
 * §17.1.1.3). With auto-auth, a first 401/407 is ACKed and the INVITE re-sent with credentials
 * (tua_call_authenticate), and waiting goes on. A 2xx establishes the dialog: remote tag, remote
 * target from Contact, route set from Record-Route reversed (§12.1.2); ACK it with
 * tua_call_ack(). */
TuaMsg *tua_call_wait_response (TuaCall *call, guint timeout_ms, GError **error);
/* Skips provisional responses. */
TuaMsg *tua_call_wait_final (TuaCall *call, guint timeout_ms, GError **error);
/* Re-sends the INVITE answering @challenge, a 401/407 that tua_call_wait_response() returned
 * (and already ACKed) when auto-auth is off: credentials, next CSeq, new branch. */
gboolean tua_call_authenticate (TuaCall *call, const TuaMsg *challenge, GError **error);

/* The ACK for a 2xx (§13.2.2.4): new branch, INVITE's CSeq number, route set, the INVITE's
 * credentials, optional SDP answer. */
gboolean tua_call_ack (TuaCall *call, const char *sdp, GError **error);
/* CANCEL for the pending INVITE (§9.1); returns the final response to the CANCEL (the INVITE's
 * 487 stays for tua_call_wait_response). */
TuaMsg *tua_call_cancel (TuaCall *call, GError **error);
/* BYE in the dialog; returns its final response. */
TuaMsg *tua_call_bye (TuaCall *call, GError **error);

/* A new in-dialog request: next local CSeq, new branch, Request-URI and Route from the route
 * set and remote target (loose routing; strict routing when the first route lacks ;lr). */
TuaRequest *tua_call_new_request (TuaCall *call, const char *method);

gboolean tua_call_is_established (TuaCall *call);
const TuaRequest *tua_call_invite (TuaCall *call); /* the INVITE as last sent (UAC only) */
const char *tua_call_remote_target (TuaCall *call);
/* The route set in the order used for Route headers. */
const GPtrArray *tua_call_route_set (TuaCall *call);

G_END_DECLS
