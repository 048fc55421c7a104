/* Tests for the client agent's DTLS-SRTP: two endpoints back to back on one GMainContext,
 * their datagrams carried by idle sources (so a "network" can drop them), SRTP both ways for
 * both profiles, a wrong fingerprint, lost flights, garbage, and the RFC 7983 demux. */
#include "config.h"

#include <string.h>

#include "client-agent/ca-demux.h"
#include "client-agent/ca-dtls.h"
#include "common/sotto-tls.h"

#define DEADLINE_MS 5000

typedef struct _Fixture Fixture;

typedef struct
{
  Fixture *f;
  const char *name;
  CaDtlsCert *cert;
  CaDtls *dtls;
  gpointer other; /* Peer * */
  guint sent;     /* datagrams handed to the link */
  guint dropped;
  gint64 drop_until; /* monotonic time: drop what is sent before it */
  gboolean blackhole;
  guint n_changes;
  CaDtlsState states[8];
} Peer;

struct _Fixture
{
  GMainContext *context;
  Peer a; /* active: DTLS client */
  Peer b; /* passive: DTLS server */
};

typedef struct
{
  CaDtls *to;
  GBytes *datagram;
} Delivery;

static void
delivery_free (gpointer data)
{
  Delivery *d = data;

  ca_dtls_unref (d->to);
  g_bytes_unref (d->datagram);
  g_free (d);
}

static gboolean
deliver (gpointer data)
{
  Delivery *d = data;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (d->datagram, &len);

  ca_dtls_feed (d->to, bytes, len);
  return G_SOURCE_REMOVE;
}

static void
on_send (CaDtls *dtls, const guint8 *data, gsize len, gpointer user_data)
{
  Peer *p = user_data;
  Peer *other = p->other;
  Delivery *d;
  GSource *idle;

  g_assert_true (dtls == p->dtls);
  p->sent++;
  if (p->blackhole || g_get_monotonic_time () < p->drop_until || other->dtls == NULL)
    {
      p->dropped++;
      return;
    }
  d = g_new0 (Delivery, 1);
  d->to = ca_dtls_ref (other->dtls);
  d->datagram = g_bytes_new (data, len);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, deliver, d, delivery_free);
  g_source_attach (idle, p->f->context);
  g_source_unref (idle);
}

static void
on_state (CaDtls *dtls, CaDtlsState state, gpointer user_data)
{
  Peer *p = user_data;

  g_assert_true (dtls == p->dtls);
  g_assert_cmpint (state, ==, ca_dtls_get_state (dtls));
  g_assert_cmpuint (p->n_changes, <, G_N_ELEMENTS (p->states));
  p->states[p->n_changes++] = state;
}

static gboolean
on_wait_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Predicate) (Fixture *f);

/* Runs the loop until @done or @ms pass; returns @done's verdict. */
static gboolean
run_until (Fixture *f, Predicate done, guint ms)
{
  gboolean expired = FALSE;
  GSource *timer = g_timeout_source_new (ms);

  g_source_set_callback (timer, on_wait_deadline, &expired, NULL);
  g_source_attach (timer, f->context);
  while (!done (f) && !expired)
    g_main_context_iteration (f->context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  return done (f);
}

static gboolean
never (Fixture *f)
{
  return FALSE;
}

static gboolean
is_settled (CaDtlsState s)
{
  return s == CA_DTLS_STATE_CONNECTED || s == CA_DTLS_STATE_FAILED || s == CA_DTLS_STATE_CLOSED;
}

static gboolean
both_connected (Fixture *f)
{
  return ca_dtls_get_state (f->a.dtls) == CA_DTLS_STATE_CONNECTED
         && ca_dtls_get_state (f->b.dtls) == CA_DTLS_STATE_CONNECTED;
}

static gboolean
both_settled (Fixture *f)
{
  return is_settled (ca_dtls_get_state (f->a.dtls)) && is_settled (ca_dtls_get_state (f->b.dtls));
}

static gboolean
both_terminal (Fixture *f)
{
  CaDtlsState a = ca_dtls_get_state (f->a.dtls), b = ca_dtls_get_state (f->b.dtls);

  return a != CA_DTLS_STATE_CONNECTED && b != CA_DTLS_STATE_CONNECTED && both_settled (f);
}

static void
peer_init (Fixture *f, Peer *p, Peer *other, const char *name)
{
  g_autoptr (GError) error = NULL;

  p->f = f;
  p->name = name;
  p->other = other;
  p->cert = ca_dtls_cert_new (&error);
  g_assert_no_error (error);
  g_assert_nonnull (p->cert);
}

static CaDtls *
peer_endpoint (Peer *p, CaDtlsRole role, guint profiles, guint timeout_ms)
{
  g_autoptr (GError) error = NULL;
  CaDtlsConfig config = {
    .cert = p->cert,
    .role = role,
    .profiles = profiles,
    .handshake_timeout_ms = timeout_ms,
    .context = p->f->context,
    .send = on_send,
    .state_changed = on_state,
    .user_data = p,
  };

  p->dtls = ca_dtls_new (&config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p->dtls);
  g_assert_cmpint (ca_dtls_get_state (p->dtls), ==, CA_DTLS_STATE_NEW);
  return p->dtls;
}

static void
set_expected (Peer *p, const char *fingerprint)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ca_dtls_set_remote_fingerprint (p->dtls, fingerprint, &error));
  g_assert_no_error (error);
}

/* Endpoints with both profiles offered, each expecting the other's real fingerprint. */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  guint profiles = GPOINTER_TO_UINT (data);

  f->context = g_main_context_new ();
  peer_init (f, &f->a, &f->b, "a");
  peer_init (f, &f->b, &f->a, "b");
  peer_endpoint (&f->a, CA_DTLS_ROLE_ACTIVE, profiles, 0);
  peer_endpoint (&f->b, CA_DTLS_ROLE_PASSIVE, profiles, 0);
}

static void
peer_clear (Peer *p)
{
  if (p->dtls)
    ca_dtls_close (p->dtls);
  g_clear_pointer (&p->dtls, ca_dtls_unref);
  g_clear_pointer (&p->cert, ca_dtls_cert_unref);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  peer_clear (&f->a);
  peer_clear (&f->b);
  /* Datagrams still in flight hold their endpoint; let them land on closed ones. */
  for (int i = 0; i < 1000 && g_main_context_iteration (f->context, FALSE); i++)
    ;
  g_main_context_unref (f->context);
}

static void
start_both (Fixture *f)
{
  set_expected (&f->a, ca_dtls_cert_get_fingerprint (f->b.cert));
  set_expected (&f->b, ca_dtls_cert_get_fingerprint (f->a.cert));
  ca_dtls_start (f->b.dtls);
  ca_dtls_start (f->a.dtls);
}

/* ---- SRTP over the keyed sessions ---- */

#define PAYLOAD_LEN 160

/* An RTP packet (RFC 3550 §5.1): V=2, PT 111, and a recognisable payload. */
static gsize
make_rtp (guint8 *buf, guint16 seq, guint32 ssrc)
{
  buf[0] = 0x80;
  buf[1] = 111;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  memset (buf + 4, 0, 4); /* timestamp */
  buf[4] = seq >> 8;
  buf[8] = ssrc >> 24;
  buf[9] = ssrc >> 16;
  buf[10] = ssrc >> 8;
  buf[11] = ssrc & 0xff;
  for (guint i = 0; i < PAYLOAD_LEN; i++)
    buf[12 + i] = (guint8) ("sotto voice frame "[i % 18] ^ (seq & 0x0f));
  return 12 + PAYLOAD_LEN;
}

/* An RTCP sender report (RFC 3550 §6.4.1) without report blocks: 28 bytes. */
static gsize
make_rtcp (guint8 *buf, guint32 ssrc)
{
  memset (buf, 0, 28);
  buf[0] = 0x80;
  buf[1] = 200;
  buf[3] = 6; /* length in 32-bit words minus one */
  buf[4] = ssrc >> 24;
  buf[7] = ssrc & 0xff;
  for (guint i = 8; i < 28; i++)
    buf[i] = (guint8) (i * 7);
  return 28;
}

static void
check_rtp_direction (CaSrtp *from, CaSrtp *to, guint32 ssrc)
{
  guint8 plain[512], packet[512], tampered[512];
  gsize plain_len, len, tampered_len;
  g_autoptr (GError) error = NULL;

  /* 1: round trip, and the wire form hides the payload. */
  plain_len = make_rtp (plain, 1000, ssrc);
  memcpy (packet, plain, plain_len);
  len = plain_len;
  g_assert_true (ca_srtp_protect (from, packet, &len, sizeof packet, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, plain_len);
  g_assert_cmpmem (packet, 12, plain, 12); /* SRTP leaves the header in clear */
  g_assert_true (memcmp (packet + 12, plain + 12, PAYLOAD_LEN) != 0);
  for (gsize i = 0; i + 11 <= len; i++)
    g_assert_true (memcmp (packet + i, "sotto voice", 11) != 0);

  /* The sender's own inbound key is the other half of the material: it must not verify. */
  {
    guint8 mine[512];
    gsize mine_len = len;

    memcpy (mine, packet, len);
    g_assert_false (ca_srtp_unprotect (from, mine, &mine_len, &error));
    g_assert_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_AUTH);
    g_clear_error (&error);
  }

  g_assert_true (ca_srtp_unprotect (to, packet, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (packet, len, plain, plain_len);

  /* 2: a flipped payload byte fails authentication (and so does one in the header). */
  for (guint i = 0; i < 2; i++)
    {
      static const gsize spots[] = { 40, 5 };

      tampered_len = make_rtp (tampered, 1001 + i, ssrc);
      g_assert_true (ca_srtp_protect (from, tampered, &tampered_len, sizeof tampered, &error));
      tampered[spots[i]] ^= 0x01;
      g_assert_false (ca_srtp_unprotect (to, tampered, &tampered_len, &error));
      g_assert_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_AUTH);
      g_clear_error (&error);
    }

  /* 3: a replay of an accepted packet is refused. */
  plain_len = make_rtp (plain, 1003, ssrc);
  len = plain_len;
  memcpy (packet, plain, len);
  g_assert_true (ca_srtp_protect (from, packet, &len, sizeof packet, &error));
  memcpy (tampered, packet, len);
  tampered_len = len;
  g_assert_true (ca_srtp_unprotect (to, packet, &len, &error));
  g_assert_cmpmem (packet, len, plain, plain_len);
  g_assert_false (ca_srtp_unprotect (to, tampered, &tampered_len, &error));
  g_assert_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_REPLAY);
  g_clear_error (&error);

  /* 4: no room for the trailer is an error, not an overflow. */
  plain_len = make_rtp (plain, 1004, ssrc);
  len = plain_len;
  g_assert_false (ca_srtp_protect (from, plain, &len, plain_len + 4, &error));
  g_assert_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_PACKET);
  g_clear_error (&error);
}

static void
check_rtcp_direction (CaSrtp *from, CaSrtp *to, guint32 ssrc)
{
  guint8 plain[256], packet[256];
  gsize plain_len, len;
  g_autoptr (GError) error = NULL;

  plain_len = make_rtcp (plain, ssrc);
  memcpy (packet, plain, plain_len);
  len = plain_len;
  g_assert_true (ca_srtp_protect_rtcp (from, packet, &len, sizeof packet, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, plain_len);
  g_assert_true (memcmp (packet + 8, plain + 8, plain_len - 8) != 0);

  {
    guint8 bad[256];
    gsize bad_len = len;

    memcpy (bad, packet, len);
    bad[10] ^= 0x80;
    g_assert_false (ca_srtp_unprotect_rtcp (to, bad, &bad_len, &error));
    g_assert_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_AUTH);
    g_clear_error (&error);
  }
  g_assert_true (ca_srtp_unprotect_rtcp (to, packet, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (packet, len, plain, plain_len);
}

static void
check_media_both_ways (Fixture *f, CaSrtpProfile expected)
{
  CaSrtp *a = ca_dtls_get_srtp (f->a.dtls);
  CaSrtp *b = ca_dtls_get_srtp (f->b.dtls);

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpstr (ca_srtp_profile_to_string (ca_srtp_get_profile (a)), ==,
                   ca_srtp_profile_to_string (expected));
  g_assert_cmpint (ca_srtp_get_profile (b), ==, expected);
  check_rtp_direction (a, b, 0x11111111);
  check_rtp_direction (b, a, 0x22222222);
  check_rtcp_direction (a, b, 0x11111111);
  check_rtcp_direction (b, a, 0x22222222);
}

/* ---- cases ---- */

static void
test_handshake (Fixture *f, gconstpointer data)
{
  guint profiles = GPOINTER_TO_UINT (data);
  CaSrtpProfile expected = profiles == CA_SRTP_PROFILE_MASK (CA_SRTP_PROFILE_AES128_CM_SHA1_80)
                             ? CA_SRTP_PROFILE_AES128_CM_SHA1_80
                             : CA_SRTP_PROFILE_AEAD_AES_128_GCM;

  start_both (f);
  g_assert_true (run_until (f, both_settled, DEADLINE_MS));
  g_assert_true (both_connected (f));
  g_assert_null (ca_dtls_get_error (f->a.dtls));
  /* Exactly NEW -> CONNECTING -> CONNECTED, each reported once. */
  for (Peer *p = &f->a; p != NULL; p = p == &f->a ? &f->b : NULL)
    {
      g_assert_cmpuint (p->n_changes, ==, 2);
      g_assert_cmpint (p->states[0], ==, CA_DTLS_STATE_CONNECTING);
      g_assert_cmpint (p->states[1], ==, CA_DTLS_STATE_CONNECTED);
      g_assert_cmpuint (p->dropped, ==, 0);
    }
  check_media_both_ways (f, expected);

  /* Closing one side reaches the other as CLOSED through close_notify; the closer hears
   * nothing more. */
  ca_dtls_close (f->a.dtls);
  g_assert_cmpint (ca_dtls_get_state (f->a.dtls), ==, CA_DTLS_STATE_CLOSED);
  g_assert_cmpuint (f->a.n_changes, ==, 2);
  g_assert_true (run_until (f, both_terminal, DEADLINE_MS));
  g_assert_cmpint (ca_dtls_get_state (f->b.dtls), ==, CA_DTLS_STATE_CLOSED);
  g_assert_null (ca_dtls_get_srtp (f->b.dtls));
}

/* The side told to expect a different certificate fails with the reason the call will show;
 * the other side, whose check passes, is told through close_notify. */
static void
test_fingerprint_mismatch (Fixture *f, gconstpointer data)
{
  gboolean active_checks = GPOINTER_TO_INT (data);
  Peer *checker = active_checks ? &f->a : &f->b;
  Peer *honest = active_checks ? &f->b : &f->a;
  g_autoptr (GError) error = NULL;
  g_autoptr (CaDtlsCert) stranger = ca_dtls_cert_new (&error);
  const GError *reason;

  g_assert_no_error (error);
  g_assert_cmpstr (ca_dtls_cert_get_fingerprint (stranger), !=,
                   ca_dtls_cert_get_fingerprint (honest->cert));
  set_expected (checker, ca_dtls_cert_get_fingerprint (stranger));
  set_expected (honest, ca_dtls_cert_get_fingerprint (checker->cert));
  ca_dtls_start (f->b.dtls);
  ca_dtls_start (f->a.dtls);

  g_assert_true (run_until (f, both_terminal, DEADLINE_MS));
  g_assert_cmpint (ca_dtls_get_state (checker->dtls), ==, CA_DTLS_STATE_FAILED);
  reason = ca_dtls_get_error (checker->dtls);
  g_assert_error ((GError *) reason, CA_DTLS_ERROR, CA_DTLS_ERROR_FINGERPRINT);
  g_assert_cmpstr (reason->message, ==, "peer fingerprint does not match the SDP");
  g_assert_null (ca_dtls_get_srtp (checker->dtls));
  /* The checker never reported CONNECTED, so no media was ever keyed on its side. */
  for (guint i = 0; i < checker->n_changes; i++)
    g_assert_cmpint (checker->states[i], !=, CA_DTLS_STATE_CONNECTED);
  g_assert_cmpint (ca_dtls_get_state (honest->dtls), ==, CA_DTLS_STATE_CLOSED);
  g_assert_null (ca_dtls_get_error (honest->dtls));
}

/* The answer's fingerprint can trail the first DTLS flight: the endpoint waits in CONNECTING
 * with the handshake done, and keys SRTP once it arrives. */
static void
test_fingerprint_late (Fixture *f, gconstpointer data)
{
  set_expected (&f->b, ca_dtls_cert_get_fingerprint (f->a.cert));
  ca_dtls_start (f->b.dtls);
  ca_dtls_start (f->a.dtls);
  g_assert_false (run_until (f, both_settled, 400));
  g_assert_cmpint (ca_dtls_get_state (f->b.dtls), ==, CA_DTLS_STATE_CONNECTED);
  g_assert_cmpint (ca_dtls_get_state (f->a.dtls), ==, CA_DTLS_STATE_CONNECTING);
  g_assert_null (ca_dtls_get_srtp (f->a.dtls));

  set_expected (&f->a, ca_dtls_cert_get_fingerprint (f->b.cert));
  g_assert_cmpint (ca_dtls_get_state (f->a.dtls), ==, CA_DTLS_STATE_CONNECTED);
  check_media_both_ways (f, CA_SRTP_PROFILE_AEAD_AES_128_GCM);
}

/* Everything one side sends in its first 300 ms is lost: the client's ClientHello, or the
 * server's whole first flight. OpenSSL's timer (1 s, doubling) resends it. */
static void
test_lost_first_flight (Fixture *f, gconstpointer data)
{
  Peer *lossy = GPOINTER_TO_INT (data) ? &f->a : &f->b;
  gint64 t0 = g_get_monotonic_time ();

  lossy->drop_until = t0 + 300 * G_TIME_SPAN_MILLISECOND;
  start_both (f);
  g_assert_true (run_until (f, both_settled, DEADLINE_MS));
  g_assert_true (both_connected (f));
  g_assert_cmpuint (lossy->dropped, >=, 1);
  g_assert_cmpuint (lossy->sent, >, lossy->dropped);
  /* It took a retransmission, so at least OpenSSL's first timeout. */
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 900 * G_TIME_SPAN_MILLISECOND);
  check_media_both_ways (f, CA_SRTP_PROFILE_AEAD_AES_128_GCM);
}

/* Nothing ever arrives: the endpoint gives up at its deadline with a clear reason. */
static void
test_handshake_timeout (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;

  f.context = g_main_context_new ();
  peer_init (&f, &f.a, &f.b, "a");
  peer_init (&f, &f.b, &f.a, "b");
  peer_endpoint (&f.a, CA_DTLS_ROLE_ACTIVE, 0, 300);
  peer_endpoint (&f.b, CA_DTLS_ROLE_PASSIVE, 0, 300);
  f.a.blackhole = TRUE;
  set_expected (&f.a, ca_dtls_cert_get_fingerprint (f.b.cert));
  ca_dtls_start (f.a.dtls);
  ca_dtls_start (f.b.dtls);
  g_assert_true (run_until (&f, both_terminal, DEADLINE_MS));
  for (Peer *p = &f.a; p != NULL; p = p == &f.a ? &f.b : NULL)
    {
      g_assert_cmpint (ca_dtls_get_state (p->dtls), ==, CA_DTLS_STATE_FAILED);
      g_assert_error ((GError *) ca_dtls_get_error (p->dtls), CA_DTLS_ERROR,
                      CA_DTLS_ERROR_TIMEOUT);
    }
  g_assert_cmpuint (f.a.sent, >=, 1);
  g_assert_cmpuint (f.b.sent, ==, 0);
  fixture_tear_down (&f, NULL);
}

static void
feed_garbage (CaDtls *dtls)
{
  /* A DTLS 1.2 record header: type, version fe fd, epoch, 48-bit sequence, length. */
  static const guint8 handshake_overlong[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9,
                                               0xff, 0xff, 1, 2, 3 };
  static const guint8 epoch1_bad_mac[] = { 23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0, 16,
                                           0xde, 0xad, 0xbe, 0xef, 0x55, 0xaa, 0x00, 0x11,
                                           0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99 };
  static const guint8 alert_wrong_epoch[] = { 21, 0xfe, 0xfd, 0, 7, 0, 0, 0, 0, 0, 1, 0, 2, 2,
                                              40 };
  static const guint8 stun_like[] = { 0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42 };
  static const guint8 rtp_like[] = { 0x80, 111, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4 };
  static const guint8 one[] = { 22 };
  guint8 noise[300];

  for (guint i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_test_rand_int_range (0, 256);
  noise[0] = 22;
  noise[1] = 0x03; /* a TLS, not DTLS, version: random bytes must not be a valid record */
  ca_dtls_feed (dtls, handshake_overlong, sizeof handshake_overlong);
  ca_dtls_feed (dtls, epoch1_bad_mac, sizeof epoch1_bad_mac);
  ca_dtls_feed (dtls, alert_wrong_epoch, sizeof alert_wrong_epoch);
  ca_dtls_feed (dtls, stun_like, sizeof stun_like);
  ca_dtls_feed (dtls, rtp_like, sizeof rtp_like);
  ca_dtls_feed (dtls, one, sizeof one);
  ca_dtls_feed (dtls, one, 0);
  ca_dtls_feed (dtls, NULL, 0);
  ca_dtls_feed (dtls, noise, sizeof noise);
}

/* Garbage before, during and after the handshake is dropped: no crash, no state change. */
static void
test_garbage (Fixture *f, gconstpointer data)
{
  feed_garbage (f->b.dtls); /* starts B (NEW -> CONNECTING) but cannot hurt it */
  g_assert_cmpint (ca_dtls_get_state (f->b.dtls), ==, CA_DTLS_STATE_CONNECTING);
  start_both (f);
  feed_garbage (f->a.dtls);
  feed_garbage (f->b.dtls);
  g_assert_true (run_until (f, both_settled, DEADLINE_MS));
  g_assert_true (both_connected (f));
  feed_garbage (f->a.dtls);
  feed_garbage (f->b.dtls);
  g_assert_false (run_until (f, never, 100));
  g_assert_true (both_connected (f));
  g_assert_cmpuint (f->a.n_changes, ==, 2);
  g_assert_cmpuint (f->b.n_changes, ==, 2);
  check_media_both_ways (f, CA_SRTP_PROFILE_AEAD_AES_128_GCM);
}

/* RFC 7983 §7, figure 3, as ranges: every byte value lands where the RFC puts it. */
static void
test_demux (void)
{
  static const struct
  {
    guint lo, hi;
    CaDemuxKind kind;
  } ranges[] = {
    { 0, 3, CA_DEMUX_STUN },          { 4, 15, CA_DEMUX_UNKNOWN },
    { 16, 19, CA_DEMUX_ZRTP },        { 20, 63, CA_DEMUX_DTLS },
    { 64, 79, CA_DEMUX_TURN_CHANNEL }, { 80, 127, CA_DEMUX_UNKNOWN },
    { 128, 191, CA_DEMUX_RTP_RTCP },  { 192, 255, CA_DEMUX_UNKNOWN },
  };
  guint covered = 0;
  static const guint8 rtcp_sr[] = { 0x80, 200 }, rtcp_bye[] = { 0x81, 203 };
  static const guint8 rtp_opus[] = { 0x80, 111 }, rtp_marker[] = { 0x80, 0x80 | 111 };
  static const guint8 rtp_pt_63_marker[] = { 0x80, 0x80 | 63 };

  for (guint r = 0; r < G_N_ELEMENTS (ranges); r++)
    for (guint b = ranges[r].lo; b <= ranges[r].hi; b++, covered++)
      {
        CaDemuxKind kind = ca_demux_classify ((guint8) b);

        if (kind != ranges[r].kind)
          g_error ("byte %u: %s, expected %s", b, ca_demux_kind_to_string (kind),
                   ca_demux_kind_to_string (ranges[r].kind));
      }
  g_assert_cmpuint (covered, ==, 256);
  g_assert_cmpstr (ca_demux_kind_to_string (CA_DEMUX_DTLS), ==, "dtls");
  g_assert_cmpstr (ca_demux_kind_to_string (CA_DEMUX_LAST), ==, "invalid");

  /* RFC 5761 §4: second byte 192..223 is RTCP. */
  g_assert_true (ca_demux_is_rtcp (rtcp_sr, 2));
  g_assert_true (ca_demux_is_rtcp (rtcp_bye, 2));
  g_assert_false (ca_demux_is_rtcp (rtp_opus, 2));
  g_assert_false (ca_demux_is_rtcp (rtp_marker, 2));
  g_assert_true (ca_demux_is_rtcp (rtp_pt_63_marker, 2) == FALSE);
  g_assert_false (ca_demux_is_rtcp (rtcp_sr, 1));
  g_assert_false (ca_demux_is_rtcp (NULL, 0));
}

static void
test_fingerprint_parse (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CaDtlsCert) cert = ca_dtls_cert_new (&error);
  const char *text;
  g_autofree char *lower = NULL;
  g_autofree char *short_one = NULL, *trailing = NULL, *spaced = NULL;
  guint8 parsed[CA_DTLS_FINGERPRINT_LEN], hashed[CA_DTLS_FINGERPRINT_LEN];
  guint8 again[CA_DTLS_FINGERPRINT_LEN];

  g_assert_no_error (error);
  text = ca_dtls_cert_get_fingerprint (cert);
  g_assert_cmpuint (strlen (text), ==, 32 * 3 - 1);
  g_assert_true (g_regex_match_simple ("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", text, 0, 0));
  g_assert_true (ca_dtls_fingerprint_parse (text, parsed));
  g_assert_true (ca_dtls_fingerprint_of (ca_dtls_cert_get_x509 (cert), hashed));
  g_assert_cmpmem (parsed, sizeof parsed, hashed, sizeof hashed);

  lower = g_ascii_strdown (text, -1);
  g_assert_true (ca_dtls_fingerprint_parse (lower, again));
  g_assert_cmpmem (again, sizeof again, hashed, sizeof hashed);

  short_one = g_strndup (text, strlen (text) - 3);
  trailing = g_strconcat (text, ":", NULL);
  spaced = g_strconcat ("sha-256 ", text, NULL);
  g_assert_false (ca_dtls_fingerprint_parse (short_one, again));
  g_assert_false (ca_dtls_fingerprint_parse (trailing, again));
  g_assert_false (ca_dtls_fingerprint_parse (spaced, again));
  g_assert_false (ca_dtls_fingerprint_parse ("", again));
  g_assert_false (ca_dtls_fingerprint_parse (NULL, again));
  g_assert_false (ca_dtls_fingerprint_parse ("G0", again));
  /* SHA-1 length (20 pairs) is not SHA-256. */
  g_assert_false (ca_dtls_fingerprint_parse ("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                                             "AB:CD:EF:01", again));
}

static void
test_roles (void)
{
  CaDtlsRole role = CA_DTLS_ROLE_LAST;

  g_assert_true (ca_dtls_role_from_remote_setup ("active", &role));
  g_assert_cmpint (role, ==, CA_DTLS_ROLE_PASSIVE);
  g_assert_true (ca_dtls_role_from_remote_setup ("passive", &role));
  g_assert_cmpint (role, ==, CA_DTLS_ROLE_ACTIVE);
  role = CA_DTLS_ROLE_LAST;
  g_assert_true (ca_dtls_role_from_remote_setup ("actpass", &role));
  g_assert_cmpint (role, ==, CA_DTLS_ROLE_ACTIVE);
  role = CA_DTLS_ROLE_LAST;
  g_assert_false (ca_dtls_role_from_remote_setup ("holdconn", &role));
  g_assert_false (ca_dtls_role_from_remote_setup ("ACTIVE", &role));
  g_assert_false (ca_dtls_role_from_remote_setup (NULL, &role));
  g_assert_cmpint (role, ==, CA_DTLS_ROLE_LAST);
  g_assert_cmpstr (ca_dtls_role_to_setup (CA_DTLS_ROLE_ACTIVE), ==, "active");
  g_assert_cmpstr (ca_dtls_role_to_setup (CA_DTLS_ROLE_PASSIVE), ==, "passive");
  for (guint s = 0; s < CA_DTLS_STATE_LAST; s++)
    g_assert_cmpstr (ca_dtls_state_to_string (s), !=, "invalid");
  g_assert_cmpstr (ca_dtls_state_to_string (CA_DTLS_STATE_LAST), ==, "invalid");
  g_assert_cmpstr (ca_srtp_profile_to_string (CA_SRTP_PROFILE_AES128_CM_SHA1_80), ==,
                   "SRTP_AES128_CM_SHA1_80");
}

/* A malformed fingerprint is refused up front, and the endpoint keeps waiting for a good one. */
static void
test_fingerprint_malformed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (ca_dtls_set_remote_fingerprint (f->a.dtls, "sha-256 00:11", &error));
  g_assert_error (error, CA_DTLS_ERROR, CA_DTLS_ERROR_FINGERPRINT);
  g_assert_cmpint (ca_dtls_get_state (f->a.dtls), ==, CA_DTLS_STATE_NEW);
  start_both (f);
  g_assert_true (run_until (f, both_settled, DEADLINE_MS));
  g_assert_true (both_connected (f));
}

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  /* As in sotto-agentd: the process-wide TLS policy is in force. */
  if (!sotto_tls_apply_policy (&error))
    g_error ("%s", error->message);

  g_test_add_func ("/client-agent/demux/rfc7983", test_demux);
  g_test_add_func ("/client-agent/dtls/fingerprint/parse", test_fingerprint_parse);
  g_test_add_func ("/client-agent/dtls/roles", test_roles);
  ADD ("/client-agent/dtls/handshake/default-prefers-gcm", test_handshake, GUINT_TO_POINTER (0));
  ADD ("/client-agent/dtls/handshake/aead-aes-128-gcm", test_handshake,
       GUINT_TO_POINTER (CA_SRTP_PROFILE_MASK (CA_SRTP_PROFILE_AEAD_AES_128_GCM)));
  ADD ("/client-agent/dtls/handshake/aes128-cm-sha1-80", test_handshake,
       GUINT_TO_POINTER (CA_SRTP_PROFILE_MASK (CA_SRTP_PROFILE_AES128_CM_SHA1_80)));
  ADD ("/client-agent/dtls/fingerprint/mismatch-active", test_fingerprint_mismatch,
       GINT_TO_POINTER (TRUE));
  ADD ("/client-agent/dtls/fingerprint/mismatch-passive", test_fingerprint_mismatch,
       GINT_TO_POINTER (FALSE));
  ADD ("/client-agent/dtls/fingerprint/late", test_fingerprint_late, NULL);
  ADD ("/client-agent/dtls/fingerprint/malformed", test_fingerprint_malformed, NULL);
  ADD ("/client-agent/dtls/retransmit/client-flight-lost", test_lost_first_flight,
       GINT_TO_POINTER (TRUE));
  ADD ("/client-agent/dtls/retransmit/server-flight-lost", test_lost_first_flight,
       GINT_TO_POINTER (FALSE));
  ADD ("/client-agent/dtls/garbage", test_garbage, NULL);
  g_test_add_func ("/client-agent/dtls/timeout", test_handshake_timeout);
  return g_test_run ();
}
