/* certs-layout: see certs-layout.h. */
#include "config.h"

#include "certs-layout.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>

#include "certs-pem.h"
#include "sotto-util.h"

SottoCertsLayout *
sotto_certs_layout_new (const char *dir)
{
  SottoCertsLayout *layout = g_new0 (SottoCertsLayout, 1);

  layout->dir = g_strdup (dir);
  layout->ca_key = g_build_filename (dir, "ca.key", NULL);
  layout->ca_cert = g_build_filename (dir, "ca.pem", NULL);
  layout->server_key = g_build_filename (dir, "server.key", NULL);
  layout->server_cert = g_build_filename (dir, "server.pem", NULL);
  layout->agent = g_build_filename (dir, "agent.pem", NULL);
  layout->cafile = g_build_filename (dir, "cafile.pem", NULL);
  return layout;
}

void
sotto_certs_layout_free (SottoCertsLayout *layout)
{
  if (layout == NULL)
    return;
  g_free (layout->dir);
  g_free (layout->ca_key);
  g_free (layout->ca_cert);
  g_free (layout->server_key);
  g_free (layout->server_cert);
  g_free (layout->agent);
  g_free (layout->cafile);
  g_free (layout);
}

gboolean
sotto_certs_layout_ensure_dir (SottoCertsLayout *layout, GError **error)
{
  g_autofree char *parent = NULL;

  if (g_file_test (layout->dir, G_FILE_TEST_IS_DIR))
    return TRUE;
  /* Only the last folder is private; parents such as /etc/sotto get the usual mode. */
  parent = g_path_get_dirname (layout->dir);
  if (g_mkdir_with_parents (parent, 0755) < 0 || g_mkdir (layout->dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "creating %s: %s",
                   layout->dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* TRUE when @path exists with exactly @data and @mode. */
static gboolean
file_matches (const char *path, const char *data, gsize len, int mode)
{
  struct stat st;
  char *old = NULL;
  gsize old_len = 0;
  gboolean same;

  if (stat (path, &st) < 0 || !S_ISREG (st.st_mode) || (int) (st.st_mode & 07777) != mode)
    return FALSE;
  if (!g_file_get_contents (path, &old, &old_len, NULL))
    return FALSE;
  same = sotto_util_secure_equal (old, old_len, data, len);
  OPENSSL_cleanse (old, old_len); /* it may be a key */
  g_free (old);
  return same;
}

gboolean
sotto_certs_layout_update_file (const char *path, const char *data, gsize len, int mode,
                                gboolean *changed, GError **error)
{
  if (file_matches (path, data, len, mode))
    return TRUE;
  if (!sotto_util_write_file_atomic (path, data, len, mode, error))
    return FALSE;
  *changed = TRUE;
  return TRUE;
}

gboolean
sotto_certs_layout_write_server (SottoCertsLayout *layout, const char *key_pem, GPtrArray *chain,
                                 const char *cafile, gsize cafile_len, gboolean *changed,
                                 GError **error)
{
  g_autoptr (GString) certs = g_string_new (NULL);
  GString *agent;
  gboolean ok;

  for (guint i = 0; i < chain->len; i++)
    if (!sotto_certs_pem_append_cert (certs, chain->pdata[i], error))
      return FALSE;

  agent = g_string_new (key_pem);
  g_string_append_len (agent, certs->str, certs->len);

  /* Each file is replaced atomically. agent.pem, the one Sofia-SIP serves from, carries key and
   * certificate together, so a reader never sees a key with the wrong certificate. */
  ok = sotto_certs_layout_update_file (layout->server_key, key_pem, strlen (key_pem),
                                       SOTTO_CERTS_SECRET_MODE, changed, error)
       && sotto_certs_layout_update_file (layout->server_cert, certs->str, certs->len,
                                          SOTTO_CERTS_PUBLIC_MODE, changed, error)
       && sotto_certs_layout_update_file (layout->cafile, cafile, cafile_len,
                                          SOTTO_CERTS_PUBLIC_MODE, changed, error)
       && sotto_certs_layout_update_file (layout->agent, agent->str, agent->len,
                                          SOTTO_CERTS_SECRET_MODE, changed, error);

  OPENSSL_cleanse (agent->str, agent->len);
  g_string_free (agent, TRUE);
  return ok;
}
