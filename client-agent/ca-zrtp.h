/* ca-zrtp: a ZRTP (RFC 6189) endpoint per call, over bzrtp, used only to authenticate the
 * call's DTLS-SRTP keys with a Short Authentication String.
 *
 * Why: the SDP, and so the DTLS a=fingerprint, goes through the SIP server. A server that swaps
 * both fingerprints can terminate DTLS on each side. ZRTP runs end to end over the same ICE
 * path once DTLS-SRTP is up (first byte 16..19, RFC 7983), and each side gives it a secret
 * exported from its own DTLS session as the auxiliary shared secret (RFC 6189 §4.3):
 *  - a man in the middle of DTLS only: the two exports differ, ZRTP says MISMATCH;
 *  - a man in the middle of DTLS and ZRTP: the two SASes differ, which the users hear.
 * So the call's keys are authenticated (ca_zrtp_is_authenticated) when the users have confirmed
 * the SAS once (kept in the ZID cache) and the aux secrets matched in this call.
 *
 * Media keys stay DTLS-SRTP's: the SRTP keys ZRTP derives are never used.
 *
 * Packets come in through ca_zrtp_feed() and go out through the send callback; bzrtp's timers
 * run from a 10 ms tick on the given GMainContext while the endpoint is RUNNING. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CA_ZRTP_ERROR (ca_zrtp_error_quark ())
GQuark ca_zrtp_error_quark (void);

typedef enum
{
  CA_ZRTP_ERROR_SETUP,      /* bzrtp could not build the endpoint */
  CA_ZRTP_ERROR_CACHE,      /* the ZID cache cannot be opened, created or initialised */
  CA_ZRTP_ERROR_INVALID,    /* a malformed argument (hello hash, aux secret) or a wrong state */
  CA_ZRTP_ERROR_HELLO_HASH, /* the peer's Hello does not match its SDP a=zrtp-hash */
  CA_ZRTP_ERROR_TIMEOUT,    /* not SECURE within the deadline */
  CA_ZRTP_ERROR_PROTOCOL,   /* bzrtp put the channel in error */
  CA_ZRTP_ERROR_LAST
} CaZrtpError;

typedef enum
{
  CA_ZRTP_STATE_NEW,
  CA_ZRTP_STATE_RUNNING, /* Hello sent, key agreement under way */
  CA_ZRTP_STATE_SECURE,  /* done: the SAS is available */
  CA_ZRTP_STATE_FAILED,  /* terminal; ca_zrtp_get_error() says why */
  CA_ZRTP_STATE_CLOSED,  /* terminal; ca_zrtp_close() */
  CA_ZRTP_STATE_LAST
} CaZrtpState;

/* RFC 6189 §4.3: did the peer prove it holds the same auxiliary secret? */
typedef enum
{
  CA_ZRTP_AUX_UNKNOWN,  /* not SECURE yet, or we set no aux secret */
  CA_ZRTP_AUX_MATCH,    /* both sides hold the same secret: one DTLS session end to end */
  CA_ZRTP_AUX_MISMATCH, /* different secrets (or the peer set none): DTLS was intercepted */
  CA_ZRTP_AUX_LAST
} CaZrtpAuxMatch;

const char *ca_zrtp_state_to_string (CaZrtpState state);
const char *ca_zrtp_aux_match_to_string (CaZrtpAuxMatch match);

/* Longest aux secret accepted; the DTLS export is 32 bytes. */
#define CA_ZRTP_AUX_SECRET_MAX 64
/* Longest datagram ca_zrtp_feed() passes to bzrtp: ZRTP messages are far smaller. */
#define CA_ZRTP_PACKET_MAX 3072

typedef struct _CaZrtp CaZrtp;

/* Sends one ZRTP packet. Called after bzrtp has returned, never from inside it, so it may
 * feed the peer synchronously. */
typedef void (*CaZrtpSendFunc) (CaZrtp *zrtp, const guint8 *data, gsize len, gpointer user_data);
/* Called once per state change, after the endpoint is consistent. It may call
 * ca_zrtp_close() and drop its reference. */
typedef void (*CaZrtpStateFunc) (CaZrtp *zrtp, CaZrtpState state, gpointer user_data);

typedef struct
{
  GMainContext *context;         /* NULL: the thread-default context */
  const char *cache_path;        /* required: the SQLite ZID cache, created 0600 */
  const char *self_uri;          /* required: our address of record; the cache keys on it */
  const char *peer_uri;          /* required: the peer's address of record */
  guint timeout_ms;              /* from ca_zrtp_start() to SECURE; 0: 10 s */
  CaZrtpSendFunc send;           /* required */
  CaZrtpStateFunc state_changed; /* optional */
  gpointer user_data;
} CaZrtpConfig;

/* Opens (or creates, mode 0600) the ZID cache and builds our Hello. */
CaZrtp *ca_zrtp_new (const CaZrtpConfig *config, GError **error);
CaZrtp *ca_zrtp_ref (CaZrtp *zrtp);
void ca_zrtp_unref (CaZrtp *zrtp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaZrtp, ca_zrtp_unref)

/* Our "a=zrtp-hash" value (RFC 6189 §8.1), e.g. "1.10 3f…" (64 hex digits). It changes with
 * every endpoint. Owned by the endpoint. */
const char *ca_zrtp_get_hello_hash (CaZrtp *zrtp);

/* The peer's "a=zrtp-hash" value, with or without the "1.10 " version prefix. Optional: when
 * it is never set, the peer's Hello is not checked against the signalling (the SAS still
 * protects the call). When it is set, a Hello that does not match is dropped (it may be
 * forged: injecting one must not end the call); if no matching Hello has come 4 s after the
 * first one that did not match, or by the deadline, the endpoint FAILS with
 * CA_ZRTP_ERROR_HELLO_HASH. Set in SECURE and not matching the Hello we keyed with, it FAILS at
 * once. FALSE, with CA_ZRTP_ERROR_INVALID, if @hash is malformed or the endpoint is terminal. */
gboolean ca_zrtp_set_peer_hello_hash (CaZrtp *zrtp, const char *hash, GError **error);

/* Our auxiliary shared secret: the 32 bytes exported from our own DTLS session. Only in NEW,
 * because bzrtp mixes it in when the peer's Hello arrives. It is not stored in the cache.
 * FALSE, with CA_ZRTP_ERROR_INVALID, if it is empty, too long, or comes too late. */
gboolean ca_zrtp_set_aux_secret (CaZrtp *zrtp, const guint8 *secret, gsize len, GError **error);

/* NEW -> RUNNING: sends our Hello, starts the tick and the deadline. Packets fed while NEW
 * (the peer may start first) are kept, a few, and processed now. */
void ca_zrtp_start (CaZrtp *zrtp);
/* One datagram from the peer. Anything that is not ZRTP (RFC 7983 first byte, 'ZRTP' cookie),
 * too long, or rejected by bzrtp is dropped without a state change. */
void ca_zrtp_feed (CaZrtp *zrtp, const guint8 *data, gsize len);
/* Stops the timers, goes to CLOSED (unless already terminal) and detaches: no callback is
 * called afterwards. */
void ca_zrtp_close (CaZrtp *zrtp);

CaZrtpState ca_zrtp_get_state (CaZrtp *zrtp);
/* Why the endpoint FAILED (or NULL). Owned by the endpoint. */
const GError *ca_zrtp_get_error (CaZrtp *zrtp);

/* In SECURE (and once CLOSED after it): the SAS to read out, 4 base32 characters (RFC 6189
 * §5.1.6). NULL before, and when FAILED. Owned by the endpoint. The aux match and the
 * verified flag follow the same rule (UNKNOWN, FALSE). */
const char *ca_zrtp_get_sas (CaZrtp *zrtp);
CaZrtpAuxMatch ca_zrtp_get_aux_match (CaZrtp *zrtp);
/* Both sides had confirmed the SAS with this peer's ZID in an earlier call, and the retained
 * secrets still match (RFC 6189 §7.1): then the users need not compare it again. */
gboolean ca_zrtp_is_sas_verified (CaZrtp *zrtp);
/* In SECURE: the users compared the SAS out loud. TRUE stores the verified flag in the cache
 * (for the next call); FALSE clears it. */
void ca_zrtp_set_sas_verified (CaZrtp *zrtp, gboolean verified);
/* A known peer ZID came back with other retained secrets (RFC 6189 §4.3.2): a man in the
 * middle, or a peer that lost its cache. The verified flag is cleared. */
gboolean ca_zrtp_get_cache_mismatch (CaZrtp *zrtp);
/* The call's keys are authenticated: SECURE, SAS verified, and the aux secrets matched. */
gboolean ca_zrtp_is_authenticated (CaZrtp *zrtp);

G_END_DECLS
