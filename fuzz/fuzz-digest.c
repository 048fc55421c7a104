/* libFuzzer target for the Digest credentials parser (sig_digest_parse_credentials) and the
 * verifier it feeds. Not built by configure, so clang stays optional. From a configured build
 * directory BUILD:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Icommon -IBUILD \
 *     fuzz/fuzz-digest.c signal/sig-digest.c common/sotto-util.c \
 *     $(pkg-config --cflags --libs gio-2.0 libcrypto) -o fuzz-digest
 *   ./fuzz-digest -max_len=9000 -max_total_time=60
 *
 * Built with -DSOTTO_FUZZ_MAIN (any compiler, no libFuzzer) it replays the files given on the
 * command line instead. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "signal/sig-digest.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* The parser takes a C string: stop at the first NUL, as a header value would. */
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (SigDigestCredentials) creds = NULL;
  g_autoptr (GError) error = NULL;

  if (sig_digest_parse_credentials (text, &creds, &error))
    {
      g_autofree char *ha1 = sig_digest_ha1 (creds->alg, creds->username, creds->realm, "pw");

      g_assert (error == NULL);
      g_assert (strlen (creds->response) == sig_digest_alg_hex_len (creds->alg));
      (void) sig_digest_verify (creds, "REGISTER", ha1);
    }
  else
    g_assert (error != NULL && error->domain == SIG_DIGEST_ERROR);
  return 0;
}

#ifdef SOTTO_FUZZ_MAIN
int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (!g_file_get_contents (argv[i], &contents, &len, NULL))
        return 1;
      LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
    }
  return 0;
}
#endif
