/* ca-srtp: SRTP/SRTCP sessions (libsrtp2) keyed from a DTLS-SRTP handshake (RFC 5764). */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-srtp.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

/* libsrtp writes at most SRTP_MAX_TRAILER_LEN after an RTP packet, plus the 4-byte SRTCP index
 * (E flag and index) after an RTCP one. */
G_STATIC_ASSERT (CA_SRTP_MAX_TRAILER >= SRTP_MAX_TRAILER_LEN + 4);

/* A wide replay window: audio over a relay can arrive well out of order. */
#define REPLAY_WINDOW 1024

G_DEFINE_QUARK (ca-srtp-error-quark, ca_srtp_error)

struct _CaSrtp
{
  CaSrtpProfile profile;
  srtp_t outbound;
  srtp_t inbound;
};

static const struct
{
  const char *name;
  gulong dtls_id;       /* RFC 5764 §4.1.2, RFC 7714 §14.2 */
  srtp_profile_t srtp;  /* libsrtp's */
  gsize key_len;
  gsize salt_len;
} profiles[CA_SRTP_PROFILE_LAST] = {
  [CA_SRTP_PROFILE_AEAD_AES_128_GCM] = { "SRTP_AEAD_AES_128_GCM", 0x0007,
                                         srtp_profile_aead_aes_128_gcm, SRTP_AES_128_KEY_LEN,
                                         SRTP_AEAD_SALT_LEN },
  [CA_SRTP_PROFILE_AES128_CM_SHA1_80] = { "SRTP_AES128_CM_SHA1_80", 0x0001,
                                          srtp_profile_aes128_cm_sha1_80, SRTP_AES_128_KEY_LEN,
                                          SRTP_SALT_LEN },
};

const char *
ca_srtp_profile_to_string (CaSrtpProfile profile)
{
  if ((guint) profile >= CA_SRTP_PROFILE_LAST)
    return "unknown";
  return profiles[profile].name;
}

gboolean
ca_srtp_profile_from_id (gulong id, CaSrtpProfile *out)
{
  for (guint i = 0; i < CA_SRTP_PROFILE_LAST; i++)
    if (profiles[i].dtls_id == id)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

gsize
ca_srtp_profile_key_len (CaSrtpProfile profile)
{
  g_return_val_if_fail ((guint) profile < CA_SRTP_PROFILE_LAST, 0);
  return profiles[profile].key_len;
}

gsize
ca_srtp_profile_salt_len (CaSrtpProfile profile)
{
  g_return_val_if_fail ((guint) profile < CA_SRTP_PROFILE_LAST, 0);
  return profiles[profile].salt_len;
}

gsize
ca_srtp_profile_material_len (CaSrtpProfile profile)
{
  return 2 * (ca_srtp_profile_key_len (profile) + ca_srtp_profile_salt_len (profile));
}

/* libsrtp's crypto kernel is process-wide, and a second srtp_init() (from GStreamer's srtp
 * elements, say) fails with bad_param although the kernel works. So a failure here is only
 * logged: srtp_create() reports a kernel that really is unusable. */
static void
srtp_library_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      srtp_err_status_t status = srtp_init ();

      if (status != srtp_err_status_ok)
        g_debug ("srtp_init: status %d (initialised elsewhere in this process?)", status);
      g_once_init_leave (&done, 1);
    }
}

/* One direction: key || salt, as libsrtp wants it, in a buffer wiped before returning. */
static gboolean
create_session (CaSrtpProfile profile, srtp_ssrc_type_t direction, const guint8 *key,
                const guint8 *salt, srtp_t *out, GError **error)
{
  gsize key_len = profiles[profile].key_len, salt_len = profiles[profile].salt_len;
  guint8 master[SRTP_MAX_KEY_LEN];
  srtp_policy_t policy;
  srtp_err_status_t status;

  G_STATIC_ASSERT (SRTP_MAX_KEY_LEN >= SRTP_AES_128_KEY_LEN + SRTP_SALT_LEN);
  memset (&policy, 0, sizeof policy);
  if (srtp_crypto_policy_set_from_profile_for_rtp (&policy.rtp, profiles[profile].srtp)
        != srtp_err_status_ok
      || srtp_crypto_policy_set_from_profile_for_rtcp (&policy.rtcp, profiles[profile].srtp)
           != srtp_err_status_ok)
    {
      g_set_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_INIT, "libsrtp does not support %s",
                   profiles[profile].name);
      return FALSE;
    }
  memcpy (master, key, key_len);
  memcpy (master + key_len, salt, salt_len);
  policy.ssrc.type = direction;
  policy.key = master;
  policy.window_size = REPLAY_WINDOW;
  policy.allow_repeat_tx = 0;
  status = srtp_create (out, &policy); /* copies the key into its own expanded state */
  OPENSSL_cleanse (master, sizeof master);
  if (status != srtp_err_status_ok)
    {
      g_set_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_INIT,
                   "libsrtp could not create a %s session (%d)", profiles[profile].name, status);
      return FALSE;
    }
  return TRUE;
}

CaSrtp *
ca_srtp_new (CaSrtpProfile profile, gboolean is_dtls_client, const guint8 *material,
             gsize material_len, GError **error)
{
  g_autoptr (CaSrtp) srtp = NULL;
  gsize key_len, salt_len;
  const guint8 *client_key, *server_key, *client_salt, *server_salt;

  g_return_val_if_fail ((guint) profile < CA_SRTP_PROFILE_LAST, NULL);
  g_return_val_if_fail (material != NULL, NULL);
  g_return_val_if_fail (material_len == ca_srtp_profile_material_len (profile), NULL);

  srtp_library_init ();

  /* RFC 5764 §4.2: client_write_SRTP_master_key | server_write_SRTP_master_key |
   * client_write_SRTP_master_salt | server_write_SRTP_master_salt. */
  key_len = profiles[profile].key_len;
  salt_len = profiles[profile].salt_len;
  client_key = material;
  server_key = client_key + key_len;
  client_salt = server_key + key_len;
  server_salt = client_salt + salt_len;

  srtp = g_new0 (CaSrtp, 1);
  srtp->profile = profile;
  if (!create_session (profile, ssrc_any_outbound, is_dtls_client ? client_key : server_key,
                       is_dtls_client ? client_salt : server_salt, &srtp->outbound, error))
    return NULL;
  if (!create_session (profile, ssrc_any_inbound, is_dtls_client ? server_key : client_key,
                       is_dtls_client ? server_salt : client_salt, &srtp->inbound, error))
    return NULL;
  return g_steal_pointer (&srtp);
}

void
ca_srtp_free (CaSrtp *srtp)
{
  if (srtp == NULL)
    return;
  if (srtp->outbound)
    srtp_dealloc (srtp->outbound);
  if (srtp->inbound)
    srtp_dealloc (srtp->inbound);
  g_free (srtp);
}

CaSrtpProfile
ca_srtp_get_profile (CaSrtp *srtp)
{
  g_return_val_if_fail (srtp != NULL, CA_SRTP_PROFILE_LAST);
  return srtp->profile;
}

static gboolean
status_to_error (srtp_err_status_t status, const char *what, GError **error)
{
  CaSrtpError code;

  switch (status)
    {
    case srtp_err_status_ok:
      return TRUE;
    case srtp_err_status_auth_fail:
      code = CA_SRTP_ERROR_AUTH;
      break;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      code = CA_SRTP_ERROR_REPLAY;
      break;
    default:
      code = CA_SRTP_ERROR_PACKET;
      break;
    }
  g_set_error (error, CA_SRTP_ERROR, code, "%s failed (libsrtp status %d)", what, status);
  return FALSE;
}

/* The smallest packets libsrtp may be handed: an RTP header (RFC 3550 §5.1) and an RTCP
 * header with the sender SSRC (§6.4). libsrtp checks its own bounds too. */
#define RTP_MIN  12
#define RTCP_MIN 8

static gboolean
check_len (gsize len, gsize min, gsize room, GError **error)
{
  if (len < min || room > INT_MAX)
    {
      g_set_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_PACKET, "packet of %" G_GSIZE_FORMAT
                   " bytes is too short or too long", len);
      return FALSE;
    }
  return TRUE;
}

static gboolean
protect (CaSrtp *srtp, gboolean rtcp, guint8 *buf, gsize *len, gsize buf_size, GError **error)
{
  int n;
  srtp_err_status_t status;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL, FALSE);
  if (!check_len (*len, rtcp ? RTCP_MIN : RTP_MIN, buf_size, error))
    return FALSE;
  if (buf_size < *len + CA_SRTP_MAX_TRAILER)
    {
      g_set_error (error, CA_SRTP_ERROR, CA_SRTP_ERROR_PACKET,
                   "no room for the SRTP trailer (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
                   " bytes)", buf_size - *len, (gsize) CA_SRTP_MAX_TRAILER);
      return FALSE;
    }
  n = (int) *len;
  status = rtcp ? srtp_protect_rtcp (srtp->outbound, buf, &n)
                : srtp_protect (srtp->outbound, buf, &n);
  if (!status_to_error (status, rtcp ? "SRTCP protect" : "SRTP protect", error))
    return FALSE;
  *len = (gsize) n;
  return TRUE;
}

static gboolean
unprotect (CaSrtp *srtp, gboolean rtcp, guint8 *buf, gsize *len, GError **error)
{
  int n;
  srtp_err_status_t status;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL, FALSE);
  if (!check_len (*len, rtcp ? RTCP_MIN : RTP_MIN, *len, error))
    return FALSE;
  n = (int) *len;
  status = rtcp ? srtp_unprotect_rtcp (srtp->inbound, buf, &n)
                : srtp_unprotect (srtp->inbound, buf, &n);
  if (!status_to_error (status, rtcp ? "SRTCP unprotect" : "SRTP unprotect", error))
    return FALSE;
  *len = (gsize) n;
  return TRUE;
}

gboolean
ca_srtp_protect (CaSrtp *srtp, guint8 *buf, gsize *len, gsize buf_size, GError **error)
{
  return protect (srtp, FALSE, buf, len, buf_size, error);
}

gboolean
ca_srtp_protect_rtcp (CaSrtp *srtp, guint8 *buf, gsize *len, gsize buf_size, GError **error)
{
  return protect (srtp, TRUE, buf, len, buf_size, error);
}

gboolean
ca_srtp_unprotect (CaSrtp *srtp, guint8 *buf, gsize *len, GError **error)
{
  return unprotect (srtp, FALSE, buf, len, error);
}

gboolean
ca_srtp_unprotect_rtcp (CaSrtp *srtp, guint8 *buf, gsize *len, GError **error)
{
  return unprotect (srtp, TRUE, buf, len, error);
}
