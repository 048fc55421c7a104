/* sotto-util: atomic writes with a mode, secret files, constant-time comparison. */
#include "config.h"

#include "sotto-util.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

static gboolean
write_all (int fd, const guint8 *p, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
sotto_util_write_file_atomic (const char *path, const void *data, gsize len, int mode,
                              GError **error)
{
  g_autofree char *tmp = g_strdup_printf ("%s.tmp.%d", path, (int) getpid ());
  g_autofree char *dir = g_path_get_dirname (path);
  int saved, fd, dfd;

  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "creating %s: %s", tmp,
                   g_strerror (saved));
      return FALSE;
    }
  if (fchmod (fd, mode) < 0 || !write_all (fd, data, len) || fsync (fd) < 0)
    {
      saved = errno;
      close (fd);
      unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "writing %s: %s", tmp,
                   g_strerror (saved));
      return FALSE;
    }
  close (fd);
  if (rename (tmp, path) < 0)
    {
      saved = errno;
      unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "renaming to %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
  return TRUE;
}

gboolean
sotto_util_read_secret_file (const char *path, guint8 **out, gsize *out_len, GError **error)
{
  struct stat st;
  char *contents = NULL;
  gsize len = 0;

  if (stat (path, &st) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "secret file %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "secret file %s is accessible by group or others (mode %04o); run chmod 600 %s",
                   path, (unsigned) (st.st_mode & 07777), path);
      return FALSE;
    }
  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  if (len == 0)
    {
      g_free (contents);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "secret file %s is empty", path);
      return FALSE;
    }
  *out = (guint8 *) contents;
  *out_len = len;
  return TRUE;
}

gboolean
sotto_util_secure_equal (const void *a, gsize a_len, const void *b, gsize b_len)
{
  if (a_len != b_len)
    return FALSE;
  return CRYPTO_memcmp (a, b, a_len) == 0;
}

gboolean
sotto_util_random (void *buf, gsize len, GError **error)
{
  if (RAND_bytes (buf, (int) len) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the system random generator failed");
      return FALSE;
    }
  return TRUE;
}

char *
sotto_util_hex (const guint8 *data, gsize len)
{
  char *out = g_malloc (len * 2 + 1);

  sotto_util_hex_into (data, len, out);
  return out;
}

void
sotto_util_hex_into (const guint8 *data, gsize len, char *out)
{
  static const char digits[] = "0123456789abcdef";

  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 0xf];
    }
  out[len * 2] = '\0';
}

void
sotto_util_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  OPENSSL_cleanse (secret, strlen (secret));
  g_free (secret);
}

static gboolean
same_ip (const struct sockaddr *a, const struct sockaddr *b)
{
  if (a->sa_family != b->sa_family)
    return FALSE;
  if (a->sa_family == AF_INET)
    return memcmp (&((const struct sockaddr_in *) (const void *) a)->sin_addr,
                   &((const struct sockaddr_in *) (const void *) b)->sin_addr,
                   sizeof (struct in_addr))
           == 0;
  return a->sa_family == AF_INET6
         && memcmp (&((const struct sockaddr_in6 *) (const void *) a)->sin6_addr,
                    &((const struct sockaddr_in6 *) (const void *) b)->sin6_addr,
                    sizeof (struct in6_addr))
                == 0;
}

gboolean
sotto_util_address_is_local (const struct sockaddr *addr)
{
  struct ifaddrs *list = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&list) != 0)
    return TRUE; /* cannot tell: assume it is still there */
  for (const struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next)
    found = i->ifa_addr != NULL && same_ip (i->ifa_addr, addr);
  freeifaddrs (list);
  return found;
}

gboolean
sotto_util_is_dns_name (const char *name)
{
  gsize len = strlen (name);
  const char *label = name;
  gboolean last_all_digits = TRUE;

  if (len == 0 || len > 253)
    return FALSE;
  while (TRUE)
    {
      const char *dot = strchr (label, '.');
      gsize label_len = dot != NULL ? (gsize) (dot - label) : strlen (label);

      if (label_len == 0 || label_len > 63 || label[0] == '-' || label[label_len - 1] == '-')
        return FALSE;
      last_all_digits = TRUE;
      for (gsize i = 0; i < label_len; i++)
        {
          if (!g_ascii_isalnum (label[i]) && label[i] != '-')
            return FALSE;
          if (!g_ascii_isdigit (label[i]))
            last_all_digits = FALSE;
        }
      if (dot == NULL)
        break;
      label = dot + 1;
    }
  /* A top-level label is never all digits: that is an IPv4 address, not a name. */
  return !last_all_digits;
}

void
sotto_util_source_clear (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}
