/* interop-client: linphonec and baresip as test subprocesses (see interop-client.h). */
#include "config.h"

#include "interop-client.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "ca-audio-compare.h"
#include "sotto-test.h"

const char *
interop_kind_to_string (InteropKind kind)
{
  switch (kind)
    {
    case INTEROP_LINPHONEC:
      return "linphonec";
    case INTEROP_BARESIP:
      return "baresip";
    case INTEROP_KIND_LAST:
    default:
      return "?";
    }
}

static const char *
find_once (const char *name, char **slot)
{
  if (*slot == NULL)
    *slot = g_find_program_in_path (name);
  return *slot;
}

const char *
interop_linphonec_path (void)
{
  static char *path;

  return find_once ("linphonec", &path);
}

const char *
interop_baresip_path (void)
{
  static char *path;

  return find_once ("baresip", &path);
}

static InteropClient *
client_new (InteropKind kind, const char *user)
{
  InteropClient *c = g_new0 (InteropClient, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *tmpl = g_strdup_printf ("sotto-%s-%s-XXXXXX", interop_kind_to_string (kind),
                                           user);

  c->kind = kind;
  c->name = g_strdup_printf ("%s/%s", interop_kind_to_string (kind), user);
  c->dir = g_dir_make_tmp (tmpl, &error);
  g_assert_no_error (error);
  c->out_path = g_build_filename (c->dir, "output.txt", NULL);
  return c;
}

static void
client_spawn (InteropClient *c, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);

  /* Its own HOME: neither client may read or write the user's real configuration. */
  g_subprocess_launcher_setenv (launcher, "HOME", c->dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", c->dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", c->dir, TRUE);
  g_subprocess_launcher_set_cwd (launcher, c->dir);
  g_subprocess_launcher_set_stdout_file_path (launcher, c->out_path);
  g_subprocess_launcher_set_child_setup (launcher, sotto_test_die_with_parent, NULL, NULL);
  c->proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_test_message ("%s: folder %s, output %s", c->name, c->dir, c->out_path);
}

static void
write_file (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

InteropClient *
interop_linphonec_start (SigHarness *h, const InteropClientConfig *cfg)
{
  InteropClient *c = client_new (INTEROP_LINPHONEC, cfg->user);
  g_autofree char *rc_path = g_build_filename (c->dir, "linphonerc", NULL);
  g_autofree char *enc = g_strdup (cfg->encryption != NULL ? cfg->encryption : "none");
  g_autofree char *rc = NULL;
  g_autofree char *stdbuf = g_find_program_in_path ("stdbuf");

  c->log_path = g_build_filename (c->dir, "linphonec.log", NULL);
  /* Ports 0 disable UDP and TCP; -1 picks a random TLS port: the test never binds 5060.
   * verify_server_cn checks the name "localhost" against the certificate (IP SANs are not
   * used). The NAT policy turns ICE on (host candidates only: no STUN server). rtcp_mux=1:
   * linphonec 5.1 otherwise answers an a=rtcp-mux offer without it (RFC 5761 §5.1.1) and runs
   * a second DTLS handshake on an RTCP component sotto-agentd does not have, so it never calls
   * the call encrypted. */
  rc = g_strdup_printf ("[sip]\n"
                        "sip_port=0\n"
                        "sip_tcp_port=0\n"
                        "sip_tls_port=-1\n"
                        "root_ca=%s\n"
                        "verify_server_certs=1\n"
                        "verify_server_cn=1\n"
                        "media_encryption=%s\n"
                        "media_encryption_mandatory=%d\n"
                        "default_proxy=0\n"
                        "[rtp]\n"
                        "audio_rtp_port=-1\n"
                        "rtcp_mux=1\n"
                        "[sound]\n"
                        "echocancellation=0\n"
                        "[net]\n"
                        "%s"
                        "[nat_policy_0]\n"
                        "ref=sottotest\n"
                        "protocols=%s\n"
                        "[storage]\n"
                        "uri=%s/linphone.db\n"
                        "[misc]\n"
                        "zrtp_secrets_file=%s/zrtp-secrets\n"
                        "[auth_info_0]\n"
                        "username=%s\n"
                        "passwd=%s\n"
                        "realm=" SIG_HARNESS_DOMAIN "\n"
                        "domain=" SIG_HARNESS_DOMAIN "\n"
                        "[proxy_0]\n"
                        "reg_proxy=<sips:" SIG_HARNESS_DOMAIN ":%u>\n"
                        "reg_identity=sip:%s@" SIG_HARNESS_DOMAIN "\n"
                        "reg_expires=600\n"
                        "reg_sendregister=1\n",
                        h->cafile, enc, g_strcmp0 (enc, "none") != 0 ? 1 : 0,
                        cfg->ice ? "nat_policy_ref=sottotest\n" : "",
                        cfg->ice ? "ice" : "", c->dir, c->dir, cfg->user, cfg->password,
                        (unsigned) h->port, cfg->user);
  write_file (rc_path, rc);
  {
    g_autoptr (GPtrArray) argv = g_ptr_array_new ();

    /* stdbuf -oL: linphonec's prompt output is otherwise block-buffered into the file. */
    if (stdbuf != NULL)
      {
        g_ptr_array_add (argv, stdbuf);
        g_ptr_array_add (argv, (char *) "-oL");
      }
    g_ptr_array_add (argv, (char *) interop_linphonec_path ());
    g_ptr_array_add (argv, (char *) "-c");
    g_ptr_array_add (argv, rc_path);
    g_ptr_array_add (argv, (char *) "-d");
    g_ptr_array_add (argv, (char *) "6");
    g_ptr_array_add (argv, (char *) "-l");
    g_ptr_array_add (argv, c->log_path);
    g_ptr_array_add (argv, NULL);
    client_spawn (c, (const char *const *) argv->pdata);
  }
  return c;
}

char *
interop_lan_address (void)
{
  g_autoptr (GSubprocess) p = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) words = NULL;

  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                        &error, "hostname", "-I", NULL);
  if (p == NULL || !g_subprocess_communicate_utf8 (p, NULL, NULL, &out, NULL, NULL))
    return g_strdup ("127.0.0.1");
  words = g_strsplit (g_strstrip (out), " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (strchr (words[i], '.') != NULL && !g_str_has_prefix (words[i], "127."))
      return g_strdup (words[i]);
  return g_strdup ("127.0.0.1");
}

static void
put_le (GByteArray *a, guint32 value, guint bytes)
{
  for (guint i = 0; i < bytes; i++)
    {
      guint8 byte = (guint8) (value >> (8 * i));

      g_byte_array_append (a, &byte, 1);
    }
}

/* Writes @src (16-bit PCM WAV, any rate, mono or stereo) to @dst as 16-bit stereo at @rate,
 * by linear interpolation: enough for a speech comparison, not for listening. */
gboolean
interop_wav_convert (const char *src, const char *dst, guint rate, GError **error)
{
  g_autofree float *in = NULL;
  g_autoptr (GByteArray) file = g_byte_array_new ();
  gsize n_in = 0, n_out;
  guint in_rate = 0;

  if (!ca_audio_read_wav (src, &in, &n_in, &in_rate, error))
    return FALSE;
  n_out = n_in == 0 ? 0 : (gsize) ((double) n_in * rate / in_rate);
  /* The canonical 44-byte header: RIFF, a 16-byte PCM fmt chunk, data. */
  g_byte_array_append (file, (const guint8 *) "RIFF", 4);
  put_le (file, (guint32) (36 + n_out * 4), 4);
  g_byte_array_append (file, (const guint8 *) "WAVEfmt ", 8);
  put_le (file, 16, 4);
  put_le (file, 1, 2); /* PCM */
  put_le (file, 2, 2); /* channels */
  put_le (file, rate, 4);
  put_le (file, rate * 4, 4); /* bytes per second */
  put_le (file, 4, 2);        /* bytes per frame */
  put_le (file, 16, 2);
  g_byte_array_append (file, (const guint8 *) "data", 4);
  put_le (file, (guint32) (n_out * 4), 4);
  for (gsize i = 0; i < n_out; i++)
    {
      double pos = (double) i * in_rate / rate;
      gsize k = (gsize) pos;
      double a = in[MIN (k, n_in - 1)], b = in[MIN (k + 1, n_in - 1)];
      double v = CLAMP ((a + (b - a) * (pos - (double) k)) * 32767.0, -32768.0, 32767.0);
      guint32 sample = (guint16) (gint16) v;

      put_le (file, sample, 2);
      put_le (file, sample, 2);
    }
  return g_file_set_contents (dst, (const char *) file->data, (gssize) file->len, error);
}

InteropClient *
interop_baresip_start (SigHarness *h, const InteropClientConfig *cfg)
{
  InteropClient *c = client_new (INTEROP_BARESIP, cfg->user);
  g_autofree char *conf_path = g_build_filename (c->dir, "config", NULL);
  g_autofree char *acc_path = g_build_filename (c->dir, "accounts", NULL);
  g_autofree char *player = g_build_filename (c->dir, "player.wav", NULL);
  g_autofree char *addr = interop_lan_address ();
  g_autofree char *conf = NULL;
  g_autofree char *acc = NULL;
  g_autofree char *play = NULL;
  const char *argv[] = { interop_baresip_path (), "-f", c->dir, NULL };

  /* baresip 1.0's aufile source refuses a file whose rate and channels are not the encoder's
   * ("must have sample-rate 48000 Hz", ENODEV for opus/48000/2), and then baresip sends no RTP
   * at all while the call stays up; its resampler only takes integer ratios (not 22050 to
   * 48000), so it gets a 48 kHz stereo copy: from the agent's offer it picks opus. */
  if (cfg->baresip_play != NULL)
    {
      g_autoptr (GError) error = NULL;

      play = g_build_filename (c->dir, "play-48k.wav", NULL);
      g_assert_true (interop_wav_convert (cfg->baresip_play, play, 48000, &error));
      g_assert_no_error (error);
    }
  /* aufile is only a source in baresip 1.0; with no sound card the player is a file too, so
   * a call never fails for want of a device. sndfile records both directions to files. */
  /* rtcp_mux: Sotto runs one ICE component and refuses a peer that will not multiplex. */
  conf = g_strdup_printf ("poll_method epoll\n"
                          "sip_listen 127.0.0.1:0\n"
                          "rtcp_mux yes\n"
                          "sip_cafile %s\n"
                          "net_interface %s\n"
                          "audio_player aufile,%s\n"
                          "audio_source aufile,%s\n"
                          "audio_alert aufile,%s\n"
                          "snd_path %s\n"
                          "module_path /usr/lib/baresip/modules\n"
                          "module stdio.so\n"
                          "module g711.so\n"
                          "module opus.so\n"
                          "module aufile.so\n"
                          "%s%s%s"
                          "module_app account.so\n"
                          "module_app menu.so\n",
                          h->cafile, addr, player,
                          play != NULL ? play : player, player,
                          cfg->baresip_record_dir != NULL ? cfg->baresip_record_dir : c->dir,
                          cfg->baresip_record_dir != NULL ? "module sndfile.so\n" : "",
                          cfg->ice ? "module ice.so\n" : "",
                          cfg->encryption != NULL ? "module dtls_srtp.so\n" : "");
  write_file (conf_path, conf);
  /* The outbound proxy is named "localhost" like the AOR's domain; baresip does not check the
   * certificate's name either way (FACTS). */
  acc = g_strdup_printf ("<sip:%s@" SIG_HARNESS_DOMAIN ";transport=tls>;auth_pass=%s;"
                         "outbound=\"sip:127.0.0.1:%u;transport=tls\";regint=600%s%s%s%s%s\n",
                         cfg->user, cfg->password, (unsigned) h->port,
                         cfg->encryption != NULL ? ";mediaenc=" : "",
                         cfg->encryption != NULL ? cfg->encryption : "",
                         cfg->ice ? ";medianat=ice" : "",
                         cfg->auto_answer ? ";answermode=auto" : "", "");
  write_file (acc_path, acc);
  g_test_message ("baresip %s: net_interface %s", cfg->user, addr);
  client_spawn (c, argv);
  return c;
}

void
interop_client_send (InteropClient *c, const char *line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("%s\n", line);
  GOutputStream *in;

  g_assert_nonnull (c->proc);
  in = g_subprocess_get_stdin_pipe (c->proc);
  g_test_message ("%s <- %s", c->name, line);
  g_output_stream_write_all (in, text, strlen (text), NULL, NULL, &error);
  if (error == NULL)
    g_output_stream_flush (in, NULL, &error);
  if (error != NULL)
    g_test_message ("%s: could not write a command: %s", c->name, error->message);
}

char *
interop_client_output (InteropClient *c)
{
  char *text = NULL;

  if (!g_file_get_contents (c->out_path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

gboolean
interop_client_running (InteropClient *c)
{
  return c->proc != NULL && g_subprocess_get_identifier (c->proc) != NULL;
}

static char *
search (const char *text, const char *regex, gsize from, gsize *end)
{
  g_autoptr (GRegex) re = g_regex_new (regex, G_REGEX_MULTILINE, 0, NULL);
  g_autoptr (GMatchInfo) mi = NULL;
  int s = 0, e = 0;

  g_assert_nonnull (re);
  if (from > strlen (text)
      || !g_regex_match_full (re, text, -1, (gint) from, 0, &mi, NULL))
    return NULL;
  g_match_info_fetch_pos (mi, 0, &s, &e);
  if (end != NULL)
    *end = (gsize) e;
  return g_match_info_fetch (mi, g_regex_get_capture_count (re) > 0 ? 1 : 0);
}

char *
interop_client_wait (InteropClient *c, const char *regex, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      g_autofree char *text = interop_client_output (c);
      gsize end = 0;
      char *m = search (text, regex, c->cursor, &end);
      gboolean alive;

      if (m != NULL)
        {
          c->cursor = end;
          return m;
        }
      alive = interop_client_running (c);
      if (!alive || g_get_monotonic_time () >= deadline)
        {
          g_test_message ("%s: no /%s/ within %u ms%s", c->name, regex, timeout_ms,
                          alive ? "" : " (it exited)");
          return NULL;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (50 * 1000);
    }
}

char *
interop_client_find (InteropClient *c, const char *regex)
{
  g_autofree char *text = interop_client_output (c);

  return search (text, regex, 0, NULL);
}

char *
interop_client_find_in_log (InteropClient *c, const char *regex)
{
  g_autofree char *text = NULL;

  if (c->log_path == NULL || !g_file_get_contents (c->log_path, &text, NULL, NULL))
    return NULL;
  return search (text, regex, 0, NULL);
}

void
interop_client_stop (InteropClient *c)
{
  const char *id;
  GPid pid;
  gint64 deadline;
  pid_t r;

  if (c->proc == NULL)
    return;
  id = g_subprocess_get_identifier (c->proc);
  if (id != NULL)
    {
      pid = (GPid) g_ascii_strtoll (id, NULL, 10);
      interop_client_send (c, c->kind == INTEROP_LINPHONEC ? "quit" : "/quit");
      deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      while ((r = waitpid (pid, NULL, WNOHANG)) == 0 && g_get_monotonic_time () < deadline)
        g_usleep (20 * 1000);
      if (r == 0)
        {
          g_test_message ("%s did not quit within 5 s: SIGKILL", c->name);
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
        }
    }
  g_clear_object (&c->proc);
}

void
interop_client_free (InteropClient *c)
{
  if (c == NULL)
    return;
  interop_client_stop (c);
  if (g_getenv ("SOTTO_KEEP_TEST_DIRS") == NULL)
    sotto_test_remove_tree (c->dir);
  g_free (c->name);
  g_free (c->dir);
  g_free (c->out_path);
  g_free (c->log_path);
  g_free (c);
}

gboolean
interop_wav_fix_sizes (const char *path, const char *fixed, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  gsize pos = 12;

  if (!g_file_get_contents (path, &data, &len, error))
    return FALSE;
  if (len < 12 || memcmp (data, "RIFF", 4) != 0 || memcmp (data + 8, "WAVE", 4) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a RIFF/WAVE file", path);
      return FALSE;
    }
  /* Walk the chunks up to "data"; the data chunk then runs to the end of the file. */
  while (pos + 8 <= len)
    {
      guint32 size;

      memcpy (&size, data + pos + 4, 4);
      size = GUINT32_FROM_LE (size);

      if (memcmp (data + pos, "data", 4) == 0)
        {
          guint32 data_size = (guint32) (len - pos - 8);
          guint32 riff_size = GUINT32_TO_LE ((guint32) (len - 8));

          data_size = GUINT32_TO_LE (data_size);
          memcpy (data + 4, &riff_size, 4);
          memcpy (data + pos + 4, &data_size, 4);
          return g_file_set_contents (fixed, data, (gssize) len, error);
        }
      pos += 8 + (gsize) size + (size & 1);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no data chunk", path);
  return FALSE;
}
