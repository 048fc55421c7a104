/* bench-ua: the SIP behaviour of one simulated user agent: registration with Digest
 * (RFC 3261 §10, §22), and for the calls case a caller or a callee (RFC 3261 §13, §15). */
#include "config.h"

#include "bench-sip.h"
#include "bench-worker-priv.h"

#include <string.h>
#include <unistd.h>

#define SDP_FMT \
  "v=0\r\no=- %u 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" \
  "m=audio %u RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

static void ua_on_opened (BenchConn *conn, gpointer user);
static void ua_on_message (BenchConn *conn, const char *msg, gsize len, gpointer user);
static void ua_on_closed (BenchConn *conn, const char *why, gpointer user);

static const BenchConnHandlers ua_handlers = { ua_on_opened, ua_on_message, ua_on_closed };

static void
next_id (BenchWorker *w, char *buf, gsize size)
{
  g_snprintf (buf, size, "%x%x%04x", (guint) getpid (), ++w->seq, g_random_int () & 0xffff);
}

void
bench_ua_init (BenchWorker *w, BenchUa *ua, guint index)
{
  const BenchOptions *o = w->opt;
  memset (ua, 0, sizeof *ua);
  ua->w = w;
  ua->index = index;
  g_snprintf (ua->name, sizeof ua->name, "u%05u", o->user_offset + index);
  g_autofree char *pw = bench_password_for (ua->name);
  g_strlcpy (ua->password, pw, sizeof ua->password);
  g_snprintf (ua->aor, sizeof ua->aor, "sips:%s@%s", ua->name, o->domain);
  /* Unreachable on purpose (TEST-NET-1): the server must use the registered connection. */
  g_snprintf (ua->contact, sizeof ua->contact, "<sips:%s@192.0.2.1:5061>", ua->name);
  ua->src.sin_family = AF_INET;
  ua->src.sin_addr.s_addr = htonl (0x7f000002u + index % MAX (o->src_count, 1u));
  ua->src.sin_port = 0;
  if (o->kase == BENCH_CASE_CALLS)
    {
      ua->is_caller = index % 2 == 0;
      ua->is_callee = !ua->is_caller;
      g_snprintf (ua->peer_aor, sizeof ua->peer_aor, "sips:u%05u@%s",
                  o->user_offset + index + 1, o->domain);
    }
}

/* ---- operation bookkeeping ---- */

static gboolean
ua_counts (BenchUa *ua)
{
  return ua->op_active && ua->op_counted;
}

static void
ua_begin_op (BenchUa *ua)
{
  ua->op_active = TRUE;
  ua->op_counted = ua->w->measuring;
  ua->op_start = bench_now_us ();
  ua->deadline = ua->op_start + (gint64) ua->w->opt->timeout_ms * 1000;
}

static void ua_start_call (BenchUa *ua);

/* After an operation: start the next one while the run goes on. A failed one waits a little,
 * so that a dead server does not turn the generator into a busy loop. */
static void
ua_end_op (BenchUa *ua, gboolean ok)
{
  BenchWorker *w = ua->w;
  gint64 now = bench_now_us ();
  if (ok && ua->op_counted && w->measuring)
    bench_stats_record (w->stats, now - ua->op_start);
  ua->op_active = FALSE;
  ua->deadline = 0;
  if (!w->measuring || w->stopping)
    return;
  if (ok)
    bench_ua_start_work (ua);
  else
    ua->retry_at = now + 20000;
}

/* Any failure: count it where it belongs, drop the connection, retry later. */
static void
ua_fail (BenchUa *ua, guint64 *counter)
{
  BenchWorker *w = ua->w;
  if (ua->setup_pending)
    w->stats->setup_errors++;
  else if (ua_counts (ua) || (!ua->op_active && w->measuring))
    (*counter)++;
  if (ua->conn)
    bench_conn_close (g_steal_pointer (&ua->conn));
  ua->registering = FALSE;
  ua->registered = FALSE;
  ua->call = BENCH_CALL_NONE;
  ua->op_active = FALSE;
  ua->deadline = 0;
  ua->retry_at = bench_now_us () + 100000;
  if (ua->setup_pending && ++ua->setup_failures >= 5)
    {
      ua->setup_pending = FALSE;
      w->setup_inflight--;
      w->setup_finished++;
      ua->retry_at = 0;
    }
}

/* ---- registration ---- */

static void
ua_send_register (BenchUa *ua)
{
  BenchWorker *w = ua->w;
  const BenchOptions *o = w->opt;
  char branch[40], cnonce[40];
  next_id (w, branch, sizeof branch);
  g_autofree char *ruri = g_strdup_printf ("sips:%s", o->domain);
  g_autoptr (GString) extra = g_string_new (NULL);
  g_string_append_printf (extra, "Contact: %s\r\nExpires: %u\r\n", ua->contact, o->expires);
  ua->sent_auth = ua->have_ch;
  if (ua->have_ch)
    {
      next_id (w, cnonce, sizeof cnonce);
      bench_digest_append_credentials (extra, FALSE, &ua->ch, ua->name, ua->password, "REGISTER",
                                       ruri, ++ua->nc, cnonce);
    }
  BenchSipRequest req = {
    .method = "REGISTER", .ruri = ruri, .via_sent_by = bench_conn_local (ua->conn),
    .branch = branch, .from_uri = ua->aor, .from_tag = ua->from_tag, .to_uri = ua->aor,
    .call_id = ua->call_id, .cseq = ++ua->cseq, .extra = extra->str,
  };
  bench_sip_build_request (w->scratch, &req);
  bench_conn_send (ua->conn, w->scratch->str, w->scratch->len);
}

static void
ua_connect (BenchUa *ua)
{
  g_autoptr (GError) error = NULL;
  if (ua->conn)
    bench_conn_close (g_steal_pointer (&ua->conn));
  /* A new connection is a new client instance: new Call-ID, fresh challenge. */
  next_id (ua->w, ua->call_id, sizeof ua->call_id);
  next_id (ua->w, ua->from_tag, sizeof ua->from_tag);
  ua->cseq = 0;
  ua->have_ch = FALSE;
  ua->registered = FALSE;
  ua->conn = bench_conn_open (ua->w->loop, &ua->src, &ua->w->opt->server, &ua_handlers, ua, &error);
  if (!ua->conn)
    ua_fail (ua, &ua->w->stats->conn_errors);
}

void
bench_ua_register (BenchUa *ua, gboolean as_op)
{
  ua->registering = TRUE;
  ua->reg_is_op = as_op;
  ua->auth_rounds = 0;
  ua->retry_at = 0;
  if (as_op)
    ua_begin_op (ua);
  else
    ua->deadline = bench_now_us () + (gint64) ua->w->opt->timeout_ms * 1000;
  if (ua->conn && ua->w->opt->kase != BENCH_CASE_CHURN)
    ua_send_register (ua);
  else
    ua_connect (ua); /* registers once open */
}

static void
ua_registered (BenchUa *ua)
{
  BenchWorker *w = ua->w;
  ua->registering = FALSE;
  ua->registered = TRUE;
  ua->deadline = 0;
  if (ua->setup_pending)
    {
      ua->setup_pending = FALSE;
      w->setup_inflight--;
      w->setup_finished++;
      w->stats->registered++;
    }
  if (ua->reg_is_op)
    {
      if (w->opt->kase == BENCH_CASE_CHURN && ua->conn)
        bench_conn_close (g_steal_pointer (&ua->conn));
      ua_end_op (ua, TRUE);
    }
  else if (w->measuring && !w->stopping)
    bench_ua_start_work (ua);
}

static void
ua_register_response (BenchUa *ua, int status, const char *msg, gsize len)
{
  BenchWorker *w = ua->w;
  if (status < 200)
    return;
  if (status >= 200 && status < 300)
    {
      ua_registered (ua);
      return;
    }
  if (status == 401)
    {
      BenchDigestChallenge ch;
      if (!bench_digest_pick (msg, len, FALSE, w->opt->alg, &ch))
        {
          ua_fail (ua, &w->stats->errors);
          return;
        }
      if (ch.stale)
        w->stats->stale++;
      else if (ua->sent_auth)
        {
          /* Credentials refused: a real failure, not a nonce refresh. */
          ua_fail (ua, &w->stats->auth_failures);
          return;
        }
      if (++ua->auth_rounds > 3)
        {
          ua_fail (ua, &w->stats->auth_failures);
          return;
        }
      ua->ch = ch;
      ua->have_ch = TRUE;
      ua->nc = 0;
      ua_send_register (ua);
      return;
    }
  ua_fail (ua, &w->stats->errors);
}

/* ---- calls: the caller side ---- */

static void
ua_send_invite (BenchUa *ua, const BenchDigestChallenge *ch)
{
  BenchWorker *w = ua->w;
  char cnonce[40], sdp[512];
  next_id (w, ua->dlg_branch, sizeof ua->dlg_branch);
  g_autoptr (GString) extra = g_string_new (NULL);
  g_string_append_printf (extra, "Contact: %s\r\n", ua->contact);
  if (ch)
    {
      next_id (w, cnonce, sizeof cnonce);
      bench_digest_append_credentials (extra, TRUE, ch, ua->name, ua->password, "INVITE",
                                       ua->peer_aor, 1, cnonce);
    }
  g_snprintf (sdp, sizeof sdp, SDP_FMT, w->seq, 20000 + (ua->index % 20000) * 2);
  BenchSipRequest req = {
    .method = "INVITE", .ruri = ua->peer_aor, .via_sent_by = bench_conn_local (ua->conn),
    .branch = ua->dlg_branch, .from_uri = ua->aor, .from_tag = ua->dlg_from_tag,
    .to_uri = ua->peer_aor, .call_id = ua->dlg_call_id, .cseq = ++ua->dlg_cseq,
    .extra = extra->str, .content_type = "application/sdp", .body = sdp,
  };
  bench_sip_build_request (w->scratch, &req);
  bench_conn_send (ua->conn, w->scratch->str, w->scratch->len);
}

/* ACK to a non-2xx final response: same branch and CSeq number as the INVITE, hop by hop
 * (RFC 3261 §17.1.1.3). */
static void
ua_ack_failure (BenchUa *ua, const char *msg, gsize len)
{
  gsize tl = 0;
  const char *to = bench_sip_find (msg, len, "To", 't', &tl);
  g_autofree char *to_tag = to ? bench_sip_tag (to, tl) : NULL;
  BenchSipRequest req = {
    .method = "ACK", .ruri = ua->peer_aor, .via_sent_by = bench_conn_local (ua->conn),
    .branch = ua->dlg_branch, .from_uri = ua->aor, .from_tag = ua->dlg_from_tag,
    .to_uri = ua->peer_aor, .to_tag = to_tag, .call_id = ua->dlg_call_id, .cseq = ua->dlg_cseq,
  };
  /* bench_sip_build_request prints "CSeq: n METHOD" with the request's method: right for ACK. */
  bench_sip_build_request (ua->w->scratch, &req);
  bench_conn_send (ua->conn, ua->w->scratch->str, ua->w->scratch->len);
}

/* ACK to the 2xx and BYE, both in the dialog through the route set (RFC 3261 §12.2.1.1). */
static gboolean
ua_ack_and_bye (BenchUa *ua, const char *msg, gsize len)
{
  BenchWorker *w = ua->w;
  gsize tl = 0, cl = 0;
  const char *to = bench_sip_find (msg, len, "To", 't', &tl);
  const char *contact = bench_sip_find (msg, len, "Contact", 'm', &cl);
  g_autofree char *to_tag = to ? bench_sip_tag (to, tl) : NULL;
  g_autofree char *target = contact ? bench_sip_uri (contact, cl) : NULL;
  if (!to_tag || !target)
    return FALSE;
  g_autoptr (GString) routes = g_string_new (NULL);
  bench_sip_route_set (routes, msg, len);
  char branch[40];
  next_id (w, branch, sizeof branch);
  BenchSipRequest req = {
    .method = "ACK", .ruri = target, .via_sent_by = bench_conn_local (ua->conn), .branch = branch,
    .from_uri = ua->aor, .from_tag = ua->dlg_from_tag, .to_uri = ua->peer_aor, .to_tag = to_tag,
    .call_id = ua->dlg_call_id, .cseq = ua->dlg_cseq, .extra = routes->str,
  };
  bench_sip_build_request (w->scratch, &req);
  bench_conn_send (ua->conn, w->scratch->str, w->scratch->len);
  next_id (w, branch, sizeof branch);
  req.method = "BYE";
  req.cseq = ++ua->dlg_cseq;
  bench_sip_build_request (w->scratch, &req);
  bench_conn_send (ua->conn, w->scratch->str, w->scratch->len);
  return TRUE;
}

static void
ua_start_call (BenchUa *ua)
{
  BenchWorker *w = ua->w;
  ua_begin_op (ua);
  next_id (w, ua->dlg_call_id, sizeof ua->dlg_call_id);
  next_id (w, ua->dlg_from_tag, sizeof ua->dlg_from_tag);
  ua->dlg_cseq = 0;
  ua->call = BENCH_CALL_INVITE1;
  ua_send_invite (ua, NULL);
}

static void
ua_call_failed (BenchUa *ua, guint64 *counter)
{
  /* The connection stays: the registration is still good. */
  if (ua_counts (ua))
    (*counter)++;
  ua->call = BENCH_CALL_NONE;
  ua_end_op (ua, FALSE);
}

static void
ua_invite_response (BenchUa *ua, int status, const char *msg, gsize len)
{
  BenchWorker *w = ua->w;
  if (status < 200 || (ua->call != BENCH_CALL_INVITE1 && ua->call != BENCH_CALL_INVITE2))
    return;
  if (status >= 200 && status < 300)
    {
      if (!ua_ack_and_bye (ua, msg, len))
        {
          ua_call_failed (ua, &w->stats->errors);
          return;
        }
      ua->call = BENCH_CALL_BYE;
      return;
    }
  ua_ack_failure (ua, msg, len);
  if (status == 407 && ua->call == BENCH_CALL_INVITE1)
    {
      BenchDigestChallenge ch;
      if (!bench_digest_pick (msg, len, TRUE, w->opt->alg, &ch))
        {
          ua_call_failed (ua, &w->stats->errors);
          return;
        }
      ua->call = BENCH_CALL_INVITE2;
      ua_send_invite (ua, &ch);
      return;
    }
  ua_call_failed (ua, status == 407 ? &w->stats->auth_failures : &w->stats->errors);
}

static void
ua_bye_response (BenchUa *ua, int status)
{
  if (status < 200 || ua->call != BENCH_CALL_BYE)
    return;
  ua->call = BENCH_CALL_NONE;
  if (status >= 300)
    {
      ua_call_failed (ua, &ua->w->stats->errors);
      return;
    }
  ua_end_op (ua, TRUE);
}

/* ---- calls: the callee side, answering at once ---- */

static void
ua_callee_request (BenchUa *ua, const char *msg, gsize len)
{
  BenchWorker *w = ua->w;
  GString *out = w->scratch;
  if (bench_sip_is_request (msg, len, "ACK"))
    return;
  if (bench_sip_is_request (msg, len, "INVITE"))
    {
      char sdp[512];
      g_autofree char *extra = g_strdup_printf ("Contact: %s\r\n", ua->contact);
      next_id (w, ua->callee_tag, sizeof ua->callee_tag);
      g_snprintf (sdp, sizeof sdp, SDP_FMT, w->seq, 20000 + (ua->index % 20000) * 2);
      bench_sip_build_response (out, msg, len, 180, "Ringing", ua->callee_tag, extra, NULL, NULL);
      bench_conn_send (ua->conn, out->str, out->len);
      bench_sip_build_response (out, msg, len, 200, "OK", ua->callee_tag, extra,
                                "application/sdp", sdp);
      bench_conn_send (ua->conn, out->str, out->len);
      return;
    }
  /* BYE, and anything else: accept. */
  bench_sip_build_response (out, msg, len, 200, "OK", NULL, NULL, NULL, NULL);
  bench_conn_send (ua->conn, out->str, out->len);
}

/* ---- connection events ---- */

static void
ua_on_opened (BenchConn *conn, gpointer user)
{
  BenchUa *ua = user;
  if (ua->registering)
    ua_send_register (ua);
}

static void
ua_on_message (BenchConn *conn, const char *msg, gsize len, gpointer user)
{
  BenchUa *ua = user;
  int status = bench_sip_status (msg, len);
  if (status < 0)
    return;
  if (status == 0)
    {
      ua_callee_request (ua, msg, len);
      return;
    }
  guint32 cseq = 0;
  char method[16];
  if (!bench_sip_cseq (msg, len, &cseq, method, sizeof method))
    return;
  if (strcmp (method, "REGISTER") == 0)
    {
      if (ua->registering && cseq == ua->cseq)
        ua_register_response (ua, status, msg, len);
    }
  else if (strcmp (method, "INVITE") == 0)
    {
      if (cseq == ua->dlg_cseq)
        ua_invite_response (ua, status, msg, len);
    }
  else if (strcmp (method, "BYE") == 0)
    {
      if (cseq == ua->dlg_cseq)
        ua_bye_response (ua, status);
    }
}

static void
ua_on_closed (BenchConn *conn, const char *why, gpointer user)
{
  BenchUa *ua = user;
  g_debug ("%s: %s", ua->name, why);
  ua->conn = NULL;
  ua_fail (ua, &ua->w->stats->conn_errors);
}

/* ---- driving ---- */

void
bench_ua_start_work (BenchUa *ua)
{
  switch (ua->w->opt->kase)
    {
    case BENCH_CASE_REGISTER:
    case BENCH_CASE_CHURN:
      bench_ua_register (ua, TRUE);
      break;
    case BENCH_CASE_CALLS:
      if (ua->is_caller && ua->registered)
        ua_start_call (ua);
      break;
    default:
      break;
    }
}

void
bench_ua_tick (BenchUa *ua, gint64 now)
{
  BenchWorker *w = ua->w;
  if (ua->deadline && now > ua->deadline)
    {
      ua_fail (ua, &w->stats->timeouts);
      return;
    }
  if (ua->retry_at && now >= ua->retry_at && !w->stopping)
    {
      ua->retry_at = 0;
      if (ua->registered && ua->conn)
        {
          if (w->measuring)
            bench_ua_start_work (ua);
        }
      else if (ua->setup_pending || w->measuring || w->opt->kase == BENCH_CASE_IDLE
               || ua->is_callee)
        bench_ua_register (ua, w->measuring && (w->opt->kase == BENCH_CASE_REGISTER
                                                || w->opt->kase == BENCH_CASE_CHURN));
    }
}

void
bench_ua_shutdown (BenchUa *ua)
{
  if (ua->conn)
    bench_conn_close (g_steal_pointer (&ua->conn));
}
