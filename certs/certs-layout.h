/* certs-layout: the files of a certificate directory, written atomically and only when
 * their contents change. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef struct
{
  char *dir;
  char *ca_key;      /* ca.key     0600 */
  char *ca_cert;     /* ca.pem     0644 */
  char *server_key;  /* server.key 0600 */
  char *server_cert; /* server.pem 0644: server certificate, then the chain */
  char *agent;       /* agent.pem  0600: key, server certificate, chain (Sofia-SIP) */
  char *cafile;      /* cafile.pem 0644: trusted CAs (Sofia-SIP) */
} SottoCertsLayout;

#define SOTTO_CERTS_SECRET_MODE 0600
#define SOTTO_CERTS_PUBLIC_MODE 0644

SottoCertsLayout *sotto_certs_layout_new (const char *dir);
void sotto_certs_layout_free (SottoCertsLayout *layout);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoCertsLayout, sotto_certs_layout_free)

/* Creates @layout's folder with mode 0700 when missing. */
gboolean sotto_certs_layout_ensure_dir (SottoCertsLayout *layout, GError **error);

/* Writes @data to @path unless the file already holds exactly @data with @mode.
 * *changed is set to TRUE when the file was written (and left alone otherwise). */
gboolean sotto_certs_layout_update_file (const char *path, const char *data, gsize len, int mode,
                                         gboolean *changed, GError **error);

/* Writes server.key, server.pem, agent.pem and cafile.pem for @key_pem and @chain (X509 *,
 * the server certificate first), with @cafile as cafile.pem. */
gboolean sotto_certs_layout_write_server (SottoCertsLayout *layout, const char *key_pem,
                                          GPtrArray *chain, const char *cafile, gsize cafile_len,
                                          gboolean *changed, GError **error);

G_END_DECLS
