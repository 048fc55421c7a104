/* libFuzzer target for sig_config_load_from_data (not built by default).
 *
 *   clang -g -fsanitize=fuzzer,address -I. -Icommon -Isignal -I$BUILD \
 *     $(pkg-config --cflags glib-2.0 gio-2.0) fuzz/fuzz-config.c signal/sig-config.c \
 *     common/sotto-keyfile.c common/sotto-log.c common/sotto-util.c \
 *     $(pkg-config --libs glib-2.0 gio-2.0 libcrypto) -o fuzz-config
 *
 * Every input must either load or fail with a SIG_CONFIG_ERROR whose message starts with the
 * origin; a loaded configuration must satisfy the documented invariants. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "sig-config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigConfig) config =
    sig_config_load_from_data ((const char *) data, (gssize) size, "fuzz", &error);

  if (config == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == SIG_CONFIG_ERROR);
      g_assert_true (g_str_has_prefix (error->message, "fuzz:"));
      return 0;
    }
  g_assert_null (error);
  g_assert_true (config->min_expires <= config->default_expires);
  g_assert_true (config->default_expires <= config->max_expires);
  g_assert_nonnull (config->listen);
  g_assert_nonnull (config->listen[0]);
  for (gsize i = 0; config->listen[i] != NULL; i++)
    g_assert_true (sig_config_parse_listen (config->listen[i], NULL, NULL, NULL));
  g_assert_true (config->domain[0] != '\0' && config->state_dir[0] != '\0');
  return 0;
}
