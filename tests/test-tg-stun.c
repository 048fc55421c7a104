/* tg-stun: RFC 5769 test vectors, integrity and fingerprint, round trips, hostile input. */
#include "config.h"

#include <string.h>

#include "tg-stun.h"

/* RFC 5769 §2.1: Binding request, short-term credentials (password VOkJxbRl1RmTxUk/WvJxBt).
 * The USERNAME padding is three spaces, which a parser must accept. */
static const guint8 sample_request[] = {
  0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
  0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74,
  0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e,
  0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
  0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20,
  0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
  0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5,
  0x7a, 0x3b, 0xcf,
};

/* §2.2: IPv4 Binding success, mapped 192.0.2.1:32853. */
static const guint8 sample_ipv4[] = {
  0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
  0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
  0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1,
  0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
  0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00,
  0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* §2.3: IPv6 Binding success, mapped [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const guint8 sample_ipv6[] = {
  0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
  0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
  0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01,
  0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
  0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9,
  0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
  0x0b, 0x4c,
};

/* §2.4: request with long-term credentials: user "マトリックス", realm example.org,
 * password "TheMatrIX" after SASLprep, nonce f//499k954d6OL34oL9FSTvy64sA. No FINGERPRINT. */
static const guint8 sample_long_term[] = {
  0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
  0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
  0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
  0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
  0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
  0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
  0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
  0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};

#define SHORT_TERM_PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"
#define KEY(s) ((const guint8 *) (s)), (sizeof (s) - 1)

static void
test_rfc5769_request (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TgStunMessage) m = tg_stun_message_parse (sample_request, sizeof sample_request,
                                                       &error);
  g_autofree char *user = NULL;
  g_autofree char *software = NULL;
  guint32 priority = 0;

  g_assert_no_error (error);
  g_assert_nonnull (m);
  g_assert_cmpuint (tg_stun_message_method (m), ==, TG_STUN_METHOD_BINDING);
  g_assert_cmpint (tg_stun_message_class (m), ==, TG_STUN_CLASS_REQUEST);
  g_assert_true (tg_stun_message_has_fingerprint (m));
  user = tg_stun_message_get_string (m, TG_STUN_ATTR_USERNAME, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (user, ==, "evtj:h6vY");
  software = tg_stun_message_get_string (m, TG_STUN_ATTR_SOFTWARE, &error);
  g_assert_cmpstr (software, ==, "STUN test client");
  g_assert_true (tg_stun_message_get_u32 (m, 0x0024, &priority, &error));
  g_assert_cmpuint (priority, ==, 0x6e0001ff);
  g_assert_true (tg_stun_message_check_integrity (m, KEY (SHORT_TERM_PASSWORD), &error));
  g_assert_no_error (error);
  g_assert_false (tg_stun_message_check_integrity (m, KEY ("VOkJxbRl1RmTxUk/WvJxBu"), &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_INTEGRITY);
}

static void
check_response (const guint8 *data, gsize len, const char *want)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TgStunMessage) m = tg_stun_message_parse (data, len, &error);
  g_autofree char *text = NULL;
  TgStunAddress a;

  g_assert_no_error (error);
  g_assert_cmpint (tg_stun_message_class (m), ==, TG_STUN_CLASS_SUCCESS);
  g_assert_true (tg_stun_message_get_xor_address (m, TG_STUN_ATTR_XOR_MAPPED_ADDRESS, &a,
                                                  &error));
  text = tg_stun_address_to_string (&a);
  g_assert_cmpstr (text, ==, want);
  g_assert_true (tg_stun_message_check_integrity (m, KEY (SHORT_TERM_PASSWORD), &error));
  g_assert_no_error (error);
}

static void
test_rfc5769_ipv4 (void)
{
  check_response (sample_ipv4, sizeof sample_ipv4, "192.0.2.1:32853");
}

static void
test_rfc5769_ipv6 (void)
{
  check_response (sample_ipv6, sizeof sample_ipv6,
                  "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

static const char matrix_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
                                  "\xe3\x82\xb9";

static void
test_rfc5769_long_term (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TgStunMessage) m = tg_stun_message_parse (sample_long_term,
                                                       sizeof sample_long_term, &error);
  g_autofree char *user = NULL, *realm = NULL, *nonce = NULL;
  guint8 key[16], wrong[16];

  g_assert_no_error (error);
  g_assert_false (tg_stun_message_has_fingerprint (m));
  user = tg_stun_message_get_string (m, TG_STUN_ATTR_USERNAME, &error);
  realm = tg_stun_message_get_string (m, TG_STUN_ATTR_REALM, &error);
  nonce = tg_stun_message_get_string (m, TG_STUN_ATTR_NONCE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (user, ==, matrix_user);
  g_assert_cmpstr (realm, ==, "example.org");
  g_assert_cmpstr (nonce, ==, "f//499k954d6OL34oL9FSTvy64sA");
  tg_stun_long_term_key (user, realm, "TheMatrIX", key);
  g_assert_true (tg_stun_message_check_integrity (m, key, sizeof key, &error));
  g_assert_no_error (error);
  tg_stun_long_term_key (user, realm, "TheMatrix", wrong);
  g_assert_false (tg_stun_message_check_integrity (m, wrong, sizeof wrong, &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_INTEGRITY);
}

/* Our encoder rebuilds the §2.4 message byte for byte from its parameters. */
static void
test_encode_long_term (void)
{
  g_autoptr (TgStunBuilder) b = tg_stun_builder_new (TG_STUN_METHOD_BINDING,
                                                     TG_STUN_CLASS_REQUEST, sample_long_term + 8);
  g_autoptr (GBytes) out = NULL;
  guint8 key[16];

  tg_stun_long_term_key (matrix_user, "example.org", "TheMatrIX", key);
  g_assert_true (tg_stun_builder_add_string (b, TG_STUN_ATTR_USERNAME, matrix_user));
  g_assert_true (tg_stun_builder_add_string (b, TG_STUN_ATTR_NONCE,
                                             "f//499k954d6OL34oL9FSTvy64sA"));
  g_assert_true (tg_stun_builder_add_string (b, TG_STUN_ATTR_REALM, "example.org"));
  g_assert_true (tg_stun_builder_add_integrity (b, key, sizeof key));
  out = tg_stun_builder_end (b);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), sample_long_term,
                   sizeof sample_long_term);
  /* Nothing but FINGERPRINT may follow MESSAGE-INTEGRITY. */
  g_assert_false (tg_stun_builder_add_u32 (b, TG_STUN_ATTR_LIFETIME, 1));
}

/* And the §2.2 response, with MESSAGE-INTEGRITY and FINGERPRINT. RFC 5769 pads SOFTWARE
 * "test vector" with a space where our builder pads with zero, so that byte (and hence the
 * HMAC and CRC) differ; everything before MESSAGE-INTEGRITY's value is compared, and ours must
 * verify with the same password. */
static void
test_encode_ipv4 (void)
{
  g_autoptr (TgStunBuilder) b = tg_stun_builder_new (TG_STUN_METHOD_BINDING,
                                                     TG_STUN_CLASS_SUCCESS, sample_ipv4 + 8);
  g_autoptr (GBytes) out = NULL;
  g_autoptr (TgStunMessage) m = NULL;
  g_autoptr (GError) error = NULL;
  const guint8 *d;
  TgStunAddress a;

  g_assert_true (tg_stun_address_from_string ("192.0.2.1", 32853, &a));
  g_assert_true (tg_stun_builder_add_string (b, TG_STUN_ATTR_SOFTWARE, "test vector"));
  g_assert_true (tg_stun_builder_add_xor_address (b, TG_STUN_ATTR_XOR_MAPPED_ADDRESS, &a));
  g_assert_true (tg_stun_builder_add_integrity (b, KEY (SHORT_TERM_PASSWORD)));
  g_assert_true (tg_stun_builder_add_fingerprint (b));
  out = tg_stun_builder_end (b);
  d = g_bytes_get_data (out, NULL);
  g_assert_cmpuint (g_bytes_get_size (out), ==, sizeof sample_ipv4);
  g_assert_cmpmem (d, 35, sample_ipv4, 35);
  g_assert_cmphex (d[35], ==, 0);
  g_assert_cmpmem (d + 36, 16, sample_ipv4 + 36, 16);
  g_assert_cmpmem (d + 72, 4, sample_ipv4 + 72, 4);
  m = tg_stun_message_parse (d, g_bytes_get_size (out), &error);
  g_assert_no_error (error);
  g_assert_true (tg_stun_message_has_fingerprint (m));
  g_assert_true (tg_stun_message_check_integrity (m, KEY (SHORT_TERM_PASSWORD), &error));
  g_assert_no_error (error);
}

static void
test_fingerprint (void)
{
  guint8 buf[sizeof sample_ipv4];
  g_autoptr (GError) error = NULL;
  TgStunMessage *m;

  /* CRC-32 check value of "123456789". */
  g_assert_cmphex (tg_stun_crc32 ((const guint8 *) "123456789", 9), ==, 0xCBF43926);
  memcpy (buf, sample_ipv4, sizeof buf);
  buf[sizeof buf - 1] ^= 1;
  m = tg_stun_message_parse (buf, sizeof buf, &error);
  g_assert_null (m);
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_FINGERPRINT);
  g_clear_error (&error);
  /* A flipped bit in the body breaks the fingerprint before the integrity is even asked. */
  memcpy (buf, sample_ipv4, sizeof buf);
  buf[30] ^= 0x40;
  g_assert_null (tg_stun_message_parse (buf, sizeof buf, &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_FINGERPRINT);
}

static void
test_round_trip (void)
{
  guint8 tid[TG_STUN_TID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
  g_autoptr (TgStunBuilder) b = tg_stun_builder_new (TG_STUN_METHOD_CREATE_PERMISSION,
                                                     TG_STUN_CLASS_ERROR, tid);
  g_autoptr (GBytes) out = NULL;
  g_autoptr (TgStunMessage) m = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL, *peer_text = NULL;
  TgStunAddress peer, got;
  guint code = 0;
  guint8 key[16];

  tg_stun_long_term_key ("1700000000:abc", "example.org", "secret", key);
  g_assert_true (tg_stun_address_from_string ("2001:db8::1", 4000, &peer));
  g_assert_true (tg_stun_builder_add_xor_address (b, TG_STUN_ATTR_XOR_PEER_ADDRESS, &peer));
  g_assert_true (tg_stun_builder_add_error_code (b, 403, "Forbidden IP"));
  g_assert_true (tg_stun_builder_add_integrity (b, key, sizeof key));
  g_assert_true (tg_stun_builder_add_fingerprint (b));
  g_assert_false (tg_stun_builder_add_fingerprint (b));
  out = tg_stun_builder_end (b);
  g_assert_cmpuint (tg_stun_frame_length (g_bytes_get_data (out, NULL)), ==,
                    g_bytes_get_size (out));
  m = tg_stun_message_parse (g_bytes_get_data (out, NULL), g_bytes_get_size (out), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tg_stun_message_method (m), ==, TG_STUN_METHOD_CREATE_PERMISSION);
  g_assert_cmpint (tg_stun_message_class (m), ==, TG_STUN_CLASS_ERROR);
  g_assert_cmpmem (tg_stun_message_tid (m), TG_STUN_TID_LEN, tid, sizeof tid);
  g_assert_true (tg_stun_message_get_error_code (m, &code, &reason, &error));
  g_assert_cmpuint (code, ==, 403);
  g_assert_cmpstr (reason, ==, "Forbidden IP");
  g_assert_true (tg_stun_message_get_xor_address (m, TG_STUN_ATTR_XOR_PEER_ADDRESS, &got,
                                                  &error));
  peer_text = tg_stun_address_to_string (&got);
  g_assert_cmpstr (peer_text, ==, "[2001:db8::1]:4000");
  g_assert_true (tg_stun_message_check_integrity (m, key, sizeof key, &error));
  g_assert_false (tg_stun_message_get_u32 (m, TG_STUN_ATTR_LIFETIME, &code, &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MISSING);
}

/* Every class and method survives the type-field bit interleaving. */
static void
test_type_bits (void)
{
  static const guint16 methods[] = { 0x001, 0x003, 0x004, 0x008, 0x009, 0xFFF, 0x080 };
  guint8 tid[TG_STUN_TID_LEN] = { 0 };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    for (int k = 0; k < TG_STUN_CLASS_LAST; k++)
      {
        g_autoptr (TgStunBuilder) b = tg_stun_builder_new (methods[i], k, tid);
        g_autoptr (GBytes) out = tg_stun_builder_end (b);
        g_autoptr (TgStunMessage) m = tg_stun_message_parse (g_bytes_get_data (out, NULL),
                                                             g_bytes_get_size (out), NULL);
        g_assert_nonnull (m);
        g_assert_cmpuint (tg_stun_message_method (m), ==, methods[i]);
        g_assert_cmpint (tg_stun_message_class (m), ==, k);
      }
  /* The well-known wire values: Binding request 0x0001, success 0x0101, Allocate error
   * 0x0113. */
  {
    g_autoptr (TgStunBuilder) b = tg_stun_builder_new (TG_STUN_METHOD_ALLOCATE,
                                                       TG_STUN_CLASS_ERROR, tid);
    g_autoptr (GBytes) out = tg_stun_builder_end (b);
    const guint8 *d = g_bytes_get_data (out, NULL);
    g_assert_cmphex ((d[0] << 8) | d[1], ==, 0x0113);
  }
}

typedef struct
{
  const char *name;
  TgStunErrorCode code;
  gsize len;
  guint8 bytes[64];
} Bad;

static void
test_hostile (void)
{
  static const Bad cases[] = {
    { "empty", TG_STUN_ERROR_TRUNCATED, 0, { 0 } },
    { "short header", TG_STUN_ERROR_TRUNCATED, 19, { 0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42 } },
    { "top bits set (RTP)", TG_STUN_ERROR_NOT_STUN, 20, { 0x80, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42 } },
    { "bad cookie", TG_STUN_ERROR_NOT_STUN, 20, { 0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x43 } },
    { "length not aligned", TG_STUN_ERROR_NOT_STUN, 22, { 0x00, 0x01, 0, 2, 0x21, 0x12, 0xa4, 0x42 } },
    { "length past the end", TG_STUN_ERROR_TRUNCATED, 24, { 0x00, 0x01, 0, 8, 0x21, 0x12, 0xa4, 0x42 } },
    { "trailing bytes", TG_STUN_ERROR_MALFORMED, 24, { 0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42 } },
    { "attribute overruns", TG_STUN_ERROR_MALFORMED, 28,
      { 0x00, 0x01, 0, 8, 0x21, 0x12, 0xa4, 0x42, [20] = 0x00, 0x06, 0xff, 0xff } },
    { "attribute padding overruns", TG_STUN_ERROR_MALFORMED, 28,
      { 0x00, 0x01, 0, 8, 0x21, 0x12, 0xa4, 0x42, [20] = 0x00, 0x06, 0x00, 0x05 } },
    { "short integrity", TG_STUN_ERROR_MALFORMED, 28,
      { 0x00, 0x01, 0, 8, 0x21, 0x12, 0xa4, 0x42, [20] = 0x00, 0x08, 0x00, 0x04 } },
    { "fingerprint not last", TG_STUN_ERROR_MALFORMED, 36,
      { 0x00, 0x01, 0, 16, 0x21, 0x12, 0xa4, 0x42, [20] = 0x80, 0x28, 0x00, 0x04, [28] = 0x00,
        0x06, 0x00, 0x00 } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      /* A heap copy of exactly len bytes, so ASan sees any read past the end. */
      g_autofree guint8 *copy = g_memdup2 (cases[i].bytes, cases[i].len);
      TgStunMessage *m = tg_stun_message_parse (copy, cases[i].len, &error);

      g_test_message ("case: %s", cases[i].name);
      g_assert_null (m);
      g_assert_error (error, TG_STUN_ERROR, (gint) cases[i].code);
      g_assert_nonnull (error->message);
    }
}

/* Attribute values that parse as a message but are wrong inside. */
static void
test_hostile_values (void)
{
  guint8 tid[TG_STUN_TID_LEN] = { 0 };
  g_autoptr (TgStunBuilder) b = tg_stun_builder_new (TG_STUN_METHOD_ALLOCATE,
                                                     TG_STUN_CLASS_ERROR, tid);
  static const guint8 bad_family[8] = { 0, 7, 0, 1, 1, 2, 3, 4 };
  static const guint8 short_v6[8] = { 0, 2, 0, 1, 1, 2, 3, 4 };
  static const guint8 bad_code[4] = { 0, 0, 9, 1 };
  static const guint8 nul_string[4] = { 'a', 0, 'b', 'c' };
  static const guint8 bad_utf8[2] = { 0xc3, 0x28 };
  g_autoptr (GBytes) out = NULL;
  g_autoptr (TgStunMessage) m = NULL;
  g_autoptr (GError) error = NULL;
  TgStunAddress a;
  guint code;
  char *s;

  tg_stun_builder_add (b, TG_STUN_ATTR_XOR_MAPPED_ADDRESS, bad_family, 8);
  tg_stun_builder_add (b, TG_STUN_ATTR_XOR_RELAYED_ADDRESS, short_v6, 8);
  tg_stun_builder_add (b, TG_STUN_ATTR_ERROR_CODE, bad_code, 4);
  tg_stun_builder_add (b, TG_STUN_ATTR_REALM, nul_string, 4);
  tg_stun_builder_add (b, TG_STUN_ATTR_NONCE, bad_utf8, 2);
  tg_stun_builder_add (b, TG_STUN_ATTR_LIFETIME, bad_utf8, 2);
  out = tg_stun_builder_end (b);
  m = tg_stun_message_parse (g_bytes_get_data (out, NULL), g_bytes_get_size (out), &error);
  g_assert_no_error (error);

  g_assert_false (tg_stun_message_get_xor_address (m, TG_STUN_ATTR_XOR_MAPPED_ADDRESS, &a,
                                                   &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (tg_stun_message_get_xor_address (m, TG_STUN_ATTR_XOR_RELAYED_ADDRESS, &a,
                                                   &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (tg_stun_message_get_error_code (m, &code, NULL, &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED);
  g_clear_error (&error);
  s = tg_stun_message_get_string (m, TG_STUN_ATTR_REALM, &error);
  g_assert_null (s);
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED);
  g_clear_error (&error);
  s = tg_stun_message_get_string (m, TG_STUN_ATTR_NONCE, &error);
  g_assert_null (s);
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (tg_stun_message_get_u32 (m, TG_STUN_ATTR_LIFETIME, &code, &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (tg_stun_message_check_integrity (m, (const guint8 *) "k", 1, &error));
  g_assert_error (error, TG_STUN_ERROR, TG_STUN_ERROR_INTEGRITY);
}

/* Every prefix and every single-byte corruption of the vectors: parse must either fail with a
 * TG_STUN_ERROR or succeed, never crash (ASan build checks the reads). */
static void
test_mutations (void)
{
  const guint8 *vectors[] = { sample_request, sample_ipv4, sample_ipv6, sample_long_term };
  const gsize sizes[] = { sizeof sample_request, sizeof sample_ipv4, sizeof sample_ipv6,
                          sizeof sample_long_term };
  guint parsed = 0, refused = 0;

  for (gsize v = 0; v < G_N_ELEMENTS (vectors); v++)
    for (gsize i = 0; i <= sizes[v]; i++)
      for (int flip = -1; flip < 8; flip++)
        {
          g_autofree guint8 *copy = g_memdup2 (vectors[v], sizes[v]);
          gsize len = flip < 0 ? i : sizes[v];
          g_autoptr (GError) error = NULL;
          g_autoptr (TgStunMessage) m = NULL;
          TgStunAddress a;
          guint code;

          if (flip >= 0)
            {
              if (i == sizes[v])
                continue;
              copy[i] ^= (guint8) (1 << flip);
            }
          m = tg_stun_message_parse (copy, len, &error);
          if (m == NULL)
            {
              g_assert_true (error != NULL && error->domain == TG_STUN_ERROR);
              refused++;
              continue;
            }
          parsed++;
          tg_stun_message_get_xor_address (m, TG_STUN_ATTR_XOR_MAPPED_ADDRESS, &a, NULL);
          tg_stun_message_get_error_code (m, &code, NULL, NULL);
          g_free (tg_stun_message_get_string (m, TG_STUN_ATTR_USERNAME, NULL));
          tg_stun_message_check_integrity (m, (const guint8 *) "x", 1, NULL);
        }
  /* The fingerprint catches most flips; a few (in the long-term vector, which has none) parse. */
  g_assert_cmpuint (refused, >, 0);
  g_assert_cmpuint (parsed, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/turn/stun/rfc5769/request", test_rfc5769_request);
  g_test_add_func ("/turn/stun/rfc5769/ipv4-response", test_rfc5769_ipv4);
  g_test_add_func ("/turn/stun/rfc5769/ipv6-response", test_rfc5769_ipv6);
  g_test_add_func ("/turn/stun/rfc5769/long-term", test_rfc5769_long_term);
  g_test_add_func ("/turn/stun/encode/long-term", test_encode_long_term);
  g_test_add_func ("/turn/stun/encode/ipv4-response", test_encode_ipv4);
  g_test_add_func ("/turn/stun/fingerprint", test_fingerprint);
  g_test_add_func ("/turn/stun/round-trip", test_round_trip);
  g_test_add_func ("/turn/stun/type-bits", test_type_bits);
  g_test_add_func ("/turn/stun/hostile/framing", test_hostile);
  g_test_add_func ("/turn/stun/hostile/values", test_hostile_values);
  g_test_add_func ("/turn/stun/hostile/mutations", test_mutations);
  return g_test_run ();
}
