/* libFuzzer target for the STUN/TURN codec (tg_stun_message_parse and its getters). Not built
 * by configure. From a configured build directory BUILD:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Icommon -Iturn-glue -IBUILD \
 *     fuzz/fuzz-stun.c turn-glue/tg-stun.c \
 *     $(pkg-config --cflags --libs glib-2.0 libcrypto) -o fuzz-stun
 *   ./fuzz-stun -max_len=4200 -max_total_time=60
 *
 * Every input either parses or fails with a TG_STUN_ERROR; a parsed message must survive every
 * getter, and re-encoding its attributes must give a message that parses again. */
#include "config.h"

#include <stdint.h>

#include "tg-stun.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const guint16 types[] = {
  TG_STUN_ATTR_MAPPED_ADDRESS, TG_STUN_ATTR_XOR_MAPPED_ADDRESS, TG_STUN_ATTR_XOR_RELAYED_ADDRESS,
  TG_STUN_ATTR_XOR_PEER_ADDRESS, TG_STUN_ATTR_USERNAME, TG_STUN_ATTR_REALM, TG_STUN_ATTR_NONCE,
  TG_STUN_ATTR_SOFTWARE, TG_STUN_ATTR_LIFETIME, TG_STUN_ATTR_ERROR_CODE,
};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TgStunMessage) m = tg_stun_message_parse (data, size, &error);
  g_autoptr (TgStunBuilder) b = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (TgStunMessage) again = NULL;
  guint8 key[16];
  gboolean fits = TRUE;

  if (m == NULL)
    {
      g_assert_true (error != NULL && error->domain == TG_STUN_ERROR);
      return 0;
    }
  b = tg_stun_builder_new (tg_stun_message_method (m), tg_stun_message_class (m),
                           tg_stun_message_tid (m));
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    {
      TgStunAddress a;
      guint32 u;
      guint code;
      char *s = NULL;
      gsize len;
      const guint8 *v = tg_stun_message_find (m, types[i], &len);

      tg_stun_message_get_address (m, types[i], &a, NULL);
      if (tg_stun_message_get_xor_address (m, types[i], &a, NULL))
        g_free (tg_stun_address_to_string (&a));
      tg_stun_message_get_u32 (m, types[i], &u, NULL);
      if (tg_stun_message_get_error_code (m, &code, &s, NULL))
        g_assert_true (code >= 300 && code <= 699 && g_utf8_validate (s, -1, NULL));
      g_free (s);
      s = tg_stun_message_get_string (m, types[i], NULL);
      g_assert_true (s == NULL || g_utf8_validate (s, -1, NULL));
      g_free (s);
      if (v)
        fits = fits && tg_stun_builder_add (b, types[i], v, len);
    }
  tg_stun_long_term_key ("u", "r", "p", key);
  tg_stun_message_check_integrity (m, key, sizeof key, NULL);
  /* Only a message near TG_STUN_MAX_LEN has no room for the 32 bytes of MI and FINGERPRINT. */
  if (!fits || !tg_stun_builder_add_integrity (b, key, sizeof key)
      || !tg_stun_builder_add_fingerprint (b))
    return 0;
  out = tg_stun_builder_end (b);
  again = tg_stun_message_parse (g_bytes_get_data (out, NULL), g_bytes_get_size (out), &error);
  g_assert_no_error (error);
  g_assert_true (tg_stun_message_check_integrity (again, key, sizeof key, NULL));
  return 0;
}
