/* ca-zrtp: a ZRTP endpoint (RFC 6189) over bzrtp, used for its SAS only (see ca-zrtp.h).
 *
 * bzrtp calls us back from inside its functions (to send, to report the SAS). Like ca-dtls, we
 * only record what it says there: packets are queued and sent, and the state changed, once
 * bzrtp has returned, so the send callback may feed the peer and the peer us. bzrtp has no
 * clock: its retransmission timers fire only from bzrtp_iterate(), which a 10 ms tick calls. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-zrtp.h"
#include "sotto-util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bzrtp/bzrtp.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#define TICK_MS            10
#define DEFAULT_TIMEOUT_MS 10000
#define PENDING_MAX        8  /* datagrams kept while NEW */
#define HELLO_HASH_HEX     64 /* SHA-256 (RFC 6189 §8.1) */
#define HEADER_LEN         12 /* RFC 6189 §5: 0x10 0x00, sequence, cookie, SSRC */
/* The peer resends its Hello for about 4 s (20 tries, 50 ms doubling to 200 ms): that long
 * after a Hello that did not match a=zrtp-hash, the right one is not coming. */
#define HELLO_HASH_GRACE_MS 4000

G_DEFINE_QUARK (ca-zrtp-error-quark, ca_zrtp_error)

struct _CaZrtp
{
  gint ref_count;
  GMainContext *context;
  guint timeout_ms;
  CaZrtpSendFunc send;
  CaZrtpStateFunc state_changed;
  gpointer user_data;
  gboolean detached; /* after ca_zrtp_close(): no more callbacks */

  sqlite3 *db;
  bzrtpContext_t *bz;
  guint32 ssrc;           /* names bzrtp's only channel; also in our packets' header */
  char hello_hash[80];    /* "1.10 <64 hex>" */
  GQueue out;             /* of GBytes: what bzrtp sent from inside a call */
  GQueue pending;         /* of GBytes: fed while NEW */

  GSource *tick;
  gint64 deadline;        /* monotonic µs */
  gint64 mismatch_since;  /* monotonic µs of the first Hello not matching a=zrtp-hash, or 0 */
  CaZrtpState state;
  GError *error;

  /* What bzrtp reported from inside a call, applied once it has returned. */
  gboolean secured;
  char *sas;
  CaZrtpAuxMatch aux;
  gboolean verified;
  gboolean cache_mismatch;
};

/* ---- names ---- */

const char *
ca_zrtp_state_to_string (CaZrtpState state)
{
  static const char *const names[CA_ZRTP_STATE_LAST] = {
    [CA_ZRTP_STATE_NEW] = "new",       [CA_ZRTP_STATE_RUNNING] = "running",
    [CA_ZRTP_STATE_SECURE] = "secure", [CA_ZRTP_STATE_FAILED] = "failed",
    [CA_ZRTP_STATE_CLOSED] = "closed",
  };
  return (guint) state < CA_ZRTP_STATE_LAST ? names[state] : "invalid";
}

const char *
ca_zrtp_aux_match_to_string (CaZrtpAuxMatch match)
{
  static const char *const names[CA_ZRTP_AUX_LAST] = {
    [CA_ZRTP_AUX_UNKNOWN] = "unknown",
    [CA_ZRTP_AUX_MATCH] = "match",
    [CA_ZRTP_AUX_MISMATCH] = "mismatch",
  };
  return (guint) match < CA_ZRTP_AUX_LAST ? names[match] : "invalid";
}

/* ---- state ---- */

static gboolean
is_terminal (CaZrtpState state)
{
  return state == CA_ZRTP_STATE_FAILED || state == CA_ZRTP_STATE_CLOSED;
}

static gboolean
transition_allowed (CaZrtpState from, CaZrtpState to)
{
  switch (from)
    {
    case CA_ZRTP_STATE_NEW:
      return to == CA_ZRTP_STATE_RUNNING || is_terminal (to);
    case CA_ZRTP_STATE_RUNNING:
      return to == CA_ZRTP_STATE_SECURE || is_terminal (to);
    case CA_ZRTP_STATE_SECURE:
      /* FAILED only when a late a=zrtp-hash does not match the Hello (ca_zrtp_set_peer_...). */
      return is_terminal (to);
    default:
      return FALSE;
    }
}

static void
flush (CaZrtp *zrtp)
{
  GBytes *packet;

  while ((packet = g_queue_pop_head (&zrtp->out)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (packet, &len);

      if (!zrtp->detached && !is_terminal (zrtp->state))
        zrtp->send (zrtp, data, len, zrtp->user_data);
      g_bytes_unref (packet);
    }
}

/* The one place the state changes. Takes @reason. In SECURE the last packet (Conf2ACK) goes
 * out before the callback; in a terminal state nothing more is sent: a failed endpoint has
 * nothing to say that the peer could trust. */
static void
set_state (CaZrtp *zrtp, CaZrtpState state, GError *reason)
{
  CaZrtpState old = zrtp->state;

  if (!transition_allowed (old, state))
    {
      g_critical ("ZRTP: no transition %s -> %s", ca_zrtp_state_to_string (old),
                  ca_zrtp_state_to_string (state));
      g_clear_error (&reason);
      return;
    }
  zrtp->state = state;
  if (reason != NULL)
    {
      g_clear_error (&zrtp->error);
      zrtp->error = reason;
    }
  /* bzrtp has no timer once SECURE: a lost Conf2ACK is answered when Confirm2 comes again. */
  if (state != CA_ZRTP_STATE_RUNNING)
    sotto_util_source_clear (&zrtp->tick);
  if (is_terminal (state))
    {
      g_queue_clear_full (&zrtp->out, (GDestroyNotify) g_bytes_unref);
      g_queue_clear_full (&zrtp->pending, (GDestroyNotify) g_bytes_unref);
    }

  if (state == CA_ZRTP_STATE_FAILED)
    g_message ("ZRTP: %s -> %s: %s", ca_zrtp_state_to_string (old),
               ca_zrtp_state_to_string (state),
               zrtp->error ? zrtp->error->message : "unknown reason");
  else if (state == CA_ZRTP_STATE_SECURE)
    g_info ("ZRTP: %s -> %s, aux secret %s, SAS %s%s", ca_zrtp_state_to_string (old),
            ca_zrtp_state_to_string (state), ca_zrtp_aux_match_to_string (zrtp->aux),
            zrtp->verified ? "previously verified" : "not verified",
            zrtp->cache_mismatch ? ", cache mismatch" : "");
  else
    g_info ("ZRTP: %s -> %s", ca_zrtp_state_to_string (old), ca_zrtp_state_to_string (state));

  flush (zrtp);
  if (zrtp->state_changed != NULL && !zrtp->detached)
    zrtp->state_changed (zrtp, state, zrtp->user_data);
}

static void G_GNUC_PRINTF (3, 4)
fail (CaZrtp *zrtp, CaZrtpError code, const char *format, ...)
{
  va_list args;
  GError *reason;

  va_start (args, format);
  reason = g_error_new_valist (CA_ZRTP_ERROR, code, format, args);
  va_end (args);
  set_state (zrtp, CA_ZRTP_STATE_FAILED, reason);
}

static void
fail_hello_hash (CaZrtp *zrtp)
{
  fail (zrtp, CA_ZRTP_ERROR_HELLO_HASH,
        "the peer's ZRTP Hello does not match the a=zrtp-hash in its SDP (RFC 6189 section "
        "8.1): the signalling or the media path was tampered with");
}

/* Called after every bzrtp call: applies what bzrtp reported from inside it. */
static void
after_bzrtp (CaZrtp *zrtp, int ret)
{
  if (is_terminal (zrtp->state))
    return;
  if (ret == BZRTP_ERROR_HELLOHASH_MISMATCH && zrtp->mismatch_since == 0)
    {
      /* bzrtp drops such a Hello without keeping it, so the channel stays in discovery and
       * answers 0x80 to every resend. Anyone who can put a datagram on the path can forge a
       * Hello (the CRC is no MAC): failing at once would hand them the call. The right Hello
       * may still come; if not, the tick fails the endpoint with this reason. */
      zrtp->mismatch_since = g_get_monotonic_time ();
      g_message ("ZRTP: a Hello that does not match the peer's a=zrtp-hash: ignored");
    }
  if (zrtp->state == CA_ZRTP_STATE_RUNNING && zrtp->secured)
    {
      set_state (zrtp, CA_ZRTP_STATE_SECURE, NULL);
      return;
    }
  if (zrtp->state == CA_ZRTP_STATE_RUNNING
      && bzrtp_getChannelStatus (zrtp->bz, zrtp->ssrc) == BZRTP_CHANNEL_ERROR)
    {
      fail (zrtp, CA_ZRTP_ERROR_PROTOCOL, "the ZRTP key agreement failed");
      return;
    }
  flush (zrtp);
}

/* ---- bzrtp's callbacks: record, never act ---- */

static int
on_bz_send (void *client_data, const uint8_t *packet, uint16_t len)
{
  CaZrtp *zrtp = client_data;

  g_queue_push_tail (&zrtp->out, g_bytes_new (packet, len));
  return 0;
}

static int
on_bz_secrets (void *client_data, const bzrtpSrtpSecrets_t *secrets, uint8_t part)
{
  /* ZRTP's SRTP keys are deliberately ignored: media stays keyed by DTLS-SRTP, and ZRTP only
   * authenticates it (through the aux secret and the SAS). */
  return 0;
}

static int
on_bz_secure (void *client_data, const bzrtpSrtpSecrets_t *secrets, int32_t verified)
{
  CaZrtp *zrtp = client_data;

  g_clear_pointer (&zrtp->sas, g_free);
  if (secrets->sas != NULL)
    zrtp->sas = g_strndup (secrets->sas, secrets->sasLength);
  switch (secrets->auxSecretMismatch)
    {
    case BZRTP_AUXSECRET_MATCH:
      zrtp->aux = CA_ZRTP_AUX_MATCH;
      break;
    case BZRTP_AUXSECRET_MISMATCH:
      zrtp->aux = CA_ZRTP_AUX_MISMATCH;
      break;
    default:
      zrtp->aux = CA_ZRTP_AUX_UNKNOWN;
      break;
    }
  /* bzrtp passes our cached flag AND the peer's (the V flag of its Confirm, §7.1). */
  zrtp->verified = verified != 0;
  if (secrets->cacheMismatch)
    zrtp->cache_mismatch = TRUE;
  zrtp->secured = TRUE;
  return 0;
}

static int
on_bz_status (void *client_data, const uint8_t level, const uint8_t id, const char *text)
{
  CaZrtp *zrtp = client_data;

  if (id == BZRTP_MESSAGE_CACHEMISMATCH)
    zrtp->cache_mismatch = TRUE;
  g_debug ("ZRTP: bzrtp says %u/%u%s%s", level, id, text ? ": " : "", text ? text : "");
  return 0;
}

/* ---- the tick ---- */

static gboolean
on_tick (gpointer data)
{
  g_autoptr (CaZrtp) zrtp = ca_zrtp_ref (data);
  gint64 now = g_get_monotonic_time ();
  int ret;

  if (now >= zrtp->deadline
      || (zrtp->mismatch_since != 0
          && now >= zrtp->mismatch_since + (gint64) HELLO_HASH_GRACE_MS * 1000))
    {
      /* bzrtp stops sending Hello after 20 tries (about 4 s) without a word: we must fail. */
      g_clear_pointer (&zrtp->tick, g_source_unref);
      if (zrtp->mismatch_since != 0)
        fail_hello_hash (zrtp);
      else
        fail (zrtp, CA_ZRTP_ERROR_TIMEOUT, "ZRTP did not complete within %u ms",
              zrtp->timeout_ms);
      return G_SOURCE_REMOVE;
    }
  ret = bzrtp_iterate (zrtp->bz, zrtp->ssrc, (uint64_t) (now / 1000));
  after_bzrtp (zrtp, ret); /* may end the tick */
  return zrtp->tick != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* ---- setup ---- */

/* The cache holds retained secrets: only its owner may read it. */
static gboolean
prepare_cache_file (const char *path, GError **error)
{
  struct stat st;
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_CACHE, "cannot open the ZID cache %s: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_CACHE, "the ZID cache %s is not a file",
                   path);
      close (fd);
      return FALSE;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_message ("ZRTP: the ZID cache %s was readable by others; now 0600", path);
      if (fchmod (fd, 0600) != 0)
        {
          int saved = errno;
          g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_CACHE, "cannot restrict %s: %s",
                       path, g_strerror (saved));
          close (fd);
          return FALSE;
        }
    }
  close (fd);
  return TRUE;
}

static gboolean
open_cache (CaZrtp *zrtp, const char *path, GError **error)
{
  int rc;

  if (!prepare_cache_file (path, error))
    return FALSE;
  rc = sqlite3_open_v2 (path, &zrtp->db, SQLITE_OPEN_READWRITE, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_CACHE, "cannot open the ZID cache %s: %s",
                   path, zrtp->db ? sqlite3_errmsg (zrtp->db) : sqlite3_errstr (rc));
      return FALSE;
    }
  /* Two calls at once hold two connections to the same file. */
  sqlite3_busy_timeout (zrtp->db, 2000);
  return TRUE;
}

static void
restrict_algorithms (bzrtpContext_t *bz)
{
  /* X25519 first, DH3k because RFC 6189 §5.1.5 mandates it (bzrtp adds it anyway); no DH2k.
   * Only base32 SAS, so both Sotto sides read out the same 4 characters. Hashes, ciphers and
   * auth tags keep bzrtp's defaults: they protect ZRTP's own Confirm messages only. */
  uint8_t key_agreement[7] = { ZRTP_KEYAGREEMENT_X255, ZRTP_KEYAGREEMENT_DH3k };
  uint8_t sas[7] = { ZRTP_SAS_B32 };

  bzrtp_setSupportedCryptoTypes (bz, ZRTP_KEYAGREEMENT_TYPE, key_agreement, 2);
  bzrtp_setSupportedCryptoTypes (bz, ZRTP_SAS_TYPE, sas, 1);
}

CaZrtp *
ca_zrtp_new (const CaZrtpConfig *config, GError **error)
{
  g_autoptr (CaZrtp) zrtp = NULL;
  bzrtpCallbacks_t callbacks = { 0 };
  uint8_t hash[sizeof zrtp->hello_hash];
  int ret;

  g_return_val_if_fail (config != NULL && config->send != NULL, NULL);
  g_return_val_if_fail (config->cache_path != NULL, NULL);
  g_return_val_if_fail (config->self_uri != NULL && config->peer_uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  zrtp = g_new0 (CaZrtp, 1);
  zrtp->ref_count = 1;
  zrtp->context = config->context ? g_main_context_ref (config->context)
                                  : g_main_context_ref_thread_default ();
  zrtp->timeout_ms = config->timeout_ms ? config->timeout_ms : DEFAULT_TIMEOUT_MS;
  zrtp->send = config->send;
  zrtp->state_changed = config->state_changed;
  zrtp->user_data = config->user_data;
  g_queue_init (&zrtp->out);
  g_queue_init (&zrtp->pending);
  zrtp->state = CA_ZRTP_STATE_NEW;
  zrtp->ssrc = g_random_int ();

  if (!open_cache (zrtp, config->cache_path, error))
    return NULL;

  zrtp->bz = bzrtp_createBzrtpContext ();
  if (zrtp->bz == NULL)
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_SETUP, "bzrtp could not create a context");
      return NULL;
    }
  /* Cache and algorithms before bzrtp_initBzrtpContext(), which builds the Hello. No mutex:
   * the context lives on one thread, and SQLite locks the file against other connections. */
  ret = bzrtp_setZIDCache_lock (zrtp->bz, zrtp->db, config->self_uri, config->peer_uri, NULL);
  if (ret != 0 && ret != BZRTP_CACHE_SETUP && ret != BZRTP_CACHE_UPDATE)
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_CACHE,
                   "the ZID cache %s cannot be initialised (bzrtp 0x%x)", config->cache_path, ret);
      return NULL;
    }
  restrict_algorithms (zrtp->bz);
  callbacks.bzrtp_statusMessage = on_bz_status;
  callbacks.bzrtp_messageLevel = BZRTP_MESSAGE_ERROR;
  callbacks.bzrtp_sendData = on_bz_send;
  callbacks.bzrtp_srtpSecretsAvailable = on_bz_secrets;
  callbacks.bzrtp_startSrtpSession = on_bz_secure;
  if (bzrtp_setCallbacks (zrtp->bz, &callbacks) != 0
      || (ret = bzrtp_initBzrtpContext (zrtp->bz, zrtp->ssrc)) != 0
      || bzrtp_setClientData (zrtp->bz, zrtp->ssrc, zrtp) != 0
      || bzrtp_getSelfHelloHash (zrtp->bz, zrtp->ssrc, hash, sizeof hash) != 0)
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_SETUP,
                   "bzrtp could not initialise the endpoint (0x%x)", ret);
      return NULL;
    }
  g_strlcpy (zrtp->hello_hash, (const char *) hash, sizeof zrtp->hello_hash);
  return g_steal_pointer (&zrtp);
}

CaZrtp *
ca_zrtp_ref (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, NULL);
  zrtp->ref_count++;
  return zrtp;
}

void
ca_zrtp_unref (CaZrtp *zrtp)
{
  if (zrtp == NULL || --zrtp->ref_count > 0)
    return;
  sotto_util_source_clear (&zrtp->tick);
  g_queue_clear_full (&zrtp->out, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&zrtp->pending, (GDestroyNotify) g_bytes_unref);
  /* bzrtp wipes its keys and the aux secret; it uses the cache until then. */
  if (zrtp->bz != NULL)
    bzrtp_destroyBzrtpContext (zrtp->bz, zrtp->ssrc);
  if (zrtp->db != NULL)
    sqlite3_close (zrtp->db);
  g_clear_error (&zrtp->error);
  g_free (zrtp->sas);
  g_main_context_unref (zrtp->context);
  g_free (zrtp);
}

/* ---- signalling ---- */

const char *
ca_zrtp_get_hello_hash (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, NULL);
  return zrtp->hello_hash;
}

/* RFC 6189 §8.1: zrtp-version SP zrtp-hash-value, the version being digits and dots; we also
 * take the bare hash. Returns the 64 hex digits, lower case, or NULL. */
static char *
parse_hello_hash (const char *value)
{
  const char *hex = strchr (value, ' ');

  if (hex != NULL)
    {
      if (hex == value)
        return NULL;
      for (const char *c = value; c < hex; c++)
        if (!g_ascii_isdigit (*c) && *c != '.')
          return NULL;
      hex++;
    }
  else
    hex = value;
  if (strlen (hex) != HELLO_HASH_HEX)
    return NULL;
  for (const char *c = hex; *c != '\0'; c++)
    if (!g_ascii_isxdigit (*c))
      return NULL;
  return g_ascii_strdown (hex, -1);
}

gboolean
ca_zrtp_set_peer_hello_hash (CaZrtp *zrtp, const char *hash, GError **error)
{
  g_autoptr (CaZrtp) hold = NULL;
  g_autofree char *hex = NULL;
  int ret;

  g_return_val_if_fail (zrtp != NULL && hash != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (is_terminal (zrtp->state))
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_INVALID, "the ZRTP endpoint is %s",
                   ca_zrtp_state_to_string (zrtp->state));
      return FALSE;
    }
  hex = parse_hello_hash (hash);
  if (hex == NULL)
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_INVALID,
                   "malformed a=zrtp-hash (want \"1.10 \" and 64 hex digits)");
      return FALSE;
    }
  /* bzrtp checks at once if the peer's Hello has come already, else when it comes. On a
   * mismatch it throws that Hello away and restarts the channel: while RUNNING the right Hello
   * may still come; once SECURE we keyed with a peer the signalling did not announce. */
  hold = ca_zrtp_ref (zrtp);
  ret = bzrtp_setPeerHelloHash (zrtp->bz, zrtp->ssrc, (uint8_t *) hex, strlen (hex));
  if (ret == BZRTP_ERROR_HELLOHASH_MISMATCH && zrtp->state == CA_ZRTP_STATE_SECURE)
    fail_hello_hash (zrtp);
  else
    after_bzrtp (zrtp, ret);
  return TRUE;
}

gboolean
ca_zrtp_set_aux_secret (CaZrtp *zrtp, const guint8 *secret, gsize len, GError **error)
{
  g_return_val_if_fail (zrtp != NULL && secret != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len == 0 || len > CA_ZRTP_AUX_SECRET_MAX)
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_INVALID,
                   "an aux secret of %" G_GSIZE_FORMAT " bytes (want 1 to %u)", len,
                   CA_ZRTP_AUX_SECRET_MAX);
      return FALSE;
    }
  /* RFC 6189 §4.3: bzrtp hashes it into the auxsecretIDs when the peer's Hello comes; we keep
   * what is fed while NEW unprocessed, so NEW is still early enough. */
  if (zrtp->state != CA_ZRTP_STATE_NEW
      || bzrtp_setAuxiliarySharedSecret (zrtp->bz, secret, len) != 0)
    {
      g_set_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_INVALID,
                   "the aux secret must be set before ZRTP starts (state %s)",
                   ca_zrtp_state_to_string (zrtp->state));
      return FALSE;
    }
  return TRUE;
}

/* ---- packets ---- */

static gboolean
looks_like_zrtp (const guint8 *data, gsize len)
{
  /* RFC 7983 §7: 16..19; RFC 6189 §5: the 'ZRTP' cookie at offset 4. */
  return len >= HEADER_LEN && len <= CA_ZRTP_PACKET_MAX && data[0] >= 16 && data[0] <= 19
         && memcmp (data + 4, "ZRTP", 4) == 0;
}

static void
process (CaZrtp *zrtp, const guint8 *data, gsize len)
{
  /* bzrtp takes a mutable buffer; it must not touch the caller's. */
  g_autofree guint8 *copy = g_memdup2 (data, len);
  int ret = bzrtp_processMessage (zrtp->bz, zrtp->ssrc, copy, (uint16_t) len);

  if (ret != 0 && ret != BZRTP_ERROR_HELLOHASH_MISMATCH)
    g_debug ("ZRTP: bzrtp dropped a packet (0x%x)", ret); /* resent Hellos give 0xa200 */
  after_bzrtp (zrtp, ret);
}

void
ca_zrtp_start (CaZrtp *zrtp)
{
  g_autoptr (CaZrtp) hold = NULL;
  GBytes *packet;
  int ret;

  g_return_if_fail (zrtp != NULL);
  if (zrtp->state != CA_ZRTP_STATE_NEW)
    return;
  hold = ca_zrtp_ref (zrtp);
  zrtp->deadline = g_get_monotonic_time () + (gint64) zrtp->timeout_ms * 1000;
  zrtp->tick = g_timeout_source_new (TICK_MS);
  g_source_set_callback (zrtp->tick, on_tick, zrtp, NULL);
  g_source_set_static_name (zrtp->tick, "ca-zrtp tick");
  g_source_attach (zrtp->tick, zrtp->context);

  ret = bzrtp_startChannelEngine (zrtp->bz, zrtp->ssrc); /* queues our first Hello */
  if (ret != 0)
    {
      fail (zrtp, CA_ZRTP_ERROR_SETUP, "bzrtp could not start (0x%x)", ret);
      return;
    }
  set_state (zrtp, CA_ZRTP_STATE_RUNNING, NULL); /* sends the Hello */
  while (zrtp->state == CA_ZRTP_STATE_RUNNING
         && (packet = g_queue_pop_head (&zrtp->pending)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (packet, &len);

      process (zrtp, data, len);
      g_bytes_unref (packet);
    }
}

void
ca_zrtp_feed (CaZrtp *zrtp, const guint8 *data, gsize len)
{
  g_autoptr (CaZrtp) hold = NULL;

  g_return_if_fail (zrtp != NULL);
  g_return_if_fail (data != NULL || len == 0);
  if (!looks_like_zrtp (data, len) || is_terminal (zrtp->state))
    return;
  if (zrtp->state == CA_ZRTP_STATE_NEW)
    {
      /* The peer's DTLS may finish first and its Hello come before our aux secret is known. */
      if (g_queue_get_length (&zrtp->pending) < PENDING_MAX)
        g_queue_push_tail (&zrtp->pending, g_bytes_new (data, len));
      return;
    }
  hold = ca_zrtp_ref (zrtp);
  process (zrtp, data, len);
}

/* After close: let go of bzrtp and of the cache file at once, from an idle (close may run
 * inside one of bzrtp's own callbacks). An ended call may be kept around for its details for
 * a long time, and its open SQLite connection made the next call's cache writes wait out
 * their busy timeout (calls after the first took seconds to start). */
static gboolean
release_engine (gpointer data)
{
  CaZrtp *zrtp = data;

  if (zrtp->bz != NULL)
    bzrtp_destroyBzrtpContext (zrtp->bz, zrtp->ssrc);
  zrtp->bz = NULL;
  if (zrtp->db != NULL)
    sqlite3_close (zrtp->db);
  zrtp->db = NULL;
  return G_SOURCE_REMOVE;
}

void
ca_zrtp_close (CaZrtp *zrtp)
{
  g_autoptr (CaZrtp) hold = NULL;

  g_return_if_fail (zrtp != NULL);
  if (zrtp->detached)
    return;
  hold = ca_zrtp_ref (zrtp);
  zrtp->detached = TRUE;
  if (!is_terminal (zrtp->state))
    set_state (zrtp, CA_ZRTP_STATE_CLOSED, NULL);
  sotto_util_source_clear (&zrtp->tick);
  {
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, release_engine, ca_zrtp_ref (zrtp),
                           (GDestroyNotify) ca_zrtp_unref);
    g_source_attach (idle, zrtp->context);
    g_source_unref (idle);
  }
}

/* ---- results ---- */

/* Results of a key agreement we still stand by: not after a late a=zrtp-hash mismatch. */
static gboolean
has_result (CaZrtp *zrtp)
{
  return zrtp->secured && zrtp->state != CA_ZRTP_STATE_FAILED;
}

CaZrtpState
ca_zrtp_get_state (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, CA_ZRTP_STATE_LAST);
  return zrtp->state;
}

const GError *
ca_zrtp_get_error (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, NULL);
  return zrtp->error;
}

const char *
ca_zrtp_get_sas (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, NULL);
  return has_result (zrtp) ? zrtp->sas : NULL;
}

CaZrtpAuxMatch
ca_zrtp_get_aux_match (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, CA_ZRTP_AUX_UNKNOWN);
  return has_result (zrtp) ? zrtp->aux : CA_ZRTP_AUX_UNKNOWN;
}

gboolean
ca_zrtp_is_sas_verified (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, FALSE);
  return has_result (zrtp) && zrtp->verified;
}

void
ca_zrtp_set_sas_verified (CaZrtp *zrtp, gboolean verified)
{
  g_return_if_fail (zrtp != NULL);
  g_return_if_fail (zrtp->secured);
  if (zrtp->state == CA_ZRTP_STATE_FAILED)
    {
      /* A late a=zrtp-hash mismatch: bzrtp has torn down the exchange the users compared. */
      g_message ("ZRTP: SAS confirmation ignored: the endpoint failed");
      return;
    }
  if (zrtp->bz == NULL)
    {
      g_message ("ZRTP: SAS confirmation ignored: the call is over");
      return;
    }
  /* bzrtp writes the pvs flag into the cache row of this peer ZID and URI; after a cache
   * mismatch, confirming the SAS also stores the new retained secret (RFC 6189 §4.6.1). */
  if (verified)
    bzrtp_SASVerified (zrtp->bz);
  else
    bzrtp_resetSASVerified (zrtp->bz);
  zrtp->verified = verified;
  if (verified)
    zrtp->cache_mismatch = FALSE;
  g_info ("ZRTP: the SAS is now marked %s", verified ? "verified" : "not verified");
}

gboolean
ca_zrtp_get_cache_mismatch (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, FALSE);
  return zrtp->cache_mismatch;
}

gboolean
ca_zrtp_is_authenticated (CaZrtp *zrtp)
{
  g_return_val_if_fail (zrtp != NULL, FALSE);
  return zrtp->state == CA_ZRTP_STATE_SECURE && zrtp->verified
         && zrtp->aux == CA_ZRTP_AUX_MATCH;
}
