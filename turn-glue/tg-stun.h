/* tg-stun: a pure STUN/TURN message codec (RFC 8489, RFC 8656) for the client side of
 * `sotto-turn run` and `sotto-turn check`: no sockets, no clock, no globals.
 *
 * Encoding: a TgStunBuilder appends attributes (padded to 4 bytes), then optionally
 * MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) and FINGERPRINT (§14.7), in that order.
 * Decoding: tg_stun_message_parse() validates the header and every attribute's bounds; it
 * never reads outside the buffer, whatever the input, so a fuzzer can drive it. Attributes
 * after MESSAGE-INTEGRITY other than FINGERPRINT are ignored, as §14.5 requires. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TG_STUN_MAGIC_COOKIE 0x2112A442u
#define TG_STUN_HEADER_LEN 20
#define TG_STUN_TID_LEN 12
/* Largest message we build or accept (well above anything a TURN control message needs). */
#define TG_STUN_MAX_LEN 4096

#define TG_STUN_ERROR (tg_stun_error_quark ())
GQuark tg_stun_error_quark (void);

typedef enum
{
  TG_STUN_ERROR_TRUNCATED,   /* shorter than its header says */
  TG_STUN_ERROR_NOT_STUN,    /* first bits, cookie or length alignment are wrong */
  TG_STUN_ERROR_MALFORMED,   /* an attribute is out of bounds or has a bad value */
  TG_STUN_ERROR_MISSING,     /* an attribute the caller asked for is absent */
  TG_STUN_ERROR_FINGERPRINT, /* FINGERPRINT present and wrong */
  TG_STUN_ERROR_INTEGRITY,   /* MESSAGE-INTEGRITY absent or wrong */
  TG_STUN_ERROR_LAST
} TgStunErrorCode;

typedef enum
{
  TG_STUN_METHOD_BINDING = 0x001,
  TG_STUN_METHOD_ALLOCATE = 0x003,
  TG_STUN_METHOD_REFRESH = 0x004,
  TG_STUN_METHOD_SEND = 0x006,
  TG_STUN_METHOD_DATA = 0x007,
  TG_STUN_METHOD_CREATE_PERMISSION = 0x008,
  TG_STUN_METHOD_CHANNEL_BIND = 0x009,
} TgStunMethod;

typedef enum
{
  TG_STUN_CLASS_REQUEST,
  TG_STUN_CLASS_INDICATION,
  TG_STUN_CLASS_SUCCESS,
  TG_STUN_CLASS_ERROR,
  TG_STUN_CLASS_LAST
} TgStunClass;

const char *tg_stun_class_to_string (TgStunClass klass);
const char *tg_stun_method_to_string (guint16 method);

/* Attribute types (RFC 8489 §18.3, RFC 8656 §18). */
enum
{
  TG_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
  TG_STUN_ATTR_USERNAME = 0x0006,
  TG_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
  TG_STUN_ATTR_ERROR_CODE = 0x0009,
  TG_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
  TG_STUN_ATTR_CHANNEL_NUMBER = 0x000C,
  TG_STUN_ATTR_LIFETIME = 0x000D,
  TG_STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
  TG_STUN_ATTR_DATA = 0x0013,
  TG_STUN_ATTR_REALM = 0x0014,
  TG_STUN_ATTR_NONCE = 0x0015,
  TG_STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
  TG_STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
  TG_STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
  TG_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
  TG_STUN_ATTR_SOFTWARE = 0x8022,
  TG_STUN_ATTR_FINGERPRINT = 0x8028,
};

#define TG_STUN_TRANSPORT_UDP 17 /* REQUESTED-TRANSPORT value (RFC 8656 §18.7) */

typedef enum
{
  TG_STUN_FAMILY_IPV4 = 0x01,
  TG_STUN_FAMILY_IPV6 = 0x02,
} TgStunFamily;

typedef struct
{
  TgStunFamily family;
  guint16 port;
  guint8 addr[16]; /* 4 bytes used for IPv4 */
} TgStunAddress;

/* Parses "1.2.3.4" or "::1" (no port); FALSE when @text is not an IP literal. */
gboolean tg_stun_address_from_string (const char *text, guint16 port, TgStunAddress *out);
/* "1.2.3.4:5" or "[::1]:5". */
char *tg_stun_address_to_string (const TgStunAddress *a);

/* RFC 8489 §9.2.2: key = MD5(username ":" realm ":" password). The strings must already be
 * OpaqueString-prepared; ours are ASCII. */
void tg_stun_long_term_key (const char *username, const char *realm, const char *password,
                            guint8 key[16]);

/* CRC-32 (ISO HDLC, as in zlib) of @len bytes; FINGERPRINT is this xor 0x5354554e. */
guint32 tg_stun_crc32 (const guint8 *data, gsize len);

/* Building. */
typedef struct _TgStunBuilder TgStunBuilder;

TgStunBuilder *tg_stun_builder_new (guint16 method, TgStunClass klass,
                                    const guint8 tid[TG_STUN_TID_LEN]);
void tg_stun_builder_free (TgStunBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TgStunBuilder, tg_stun_builder_free)
/* Each add returns FALSE (and adds nothing) when the message would exceed TG_STUN_MAX_LEN,
 * or after integrity/fingerprint were added. */
gboolean tg_stun_builder_add (TgStunBuilder *b, guint16 type, const void *value, gsize len);
gboolean tg_stun_builder_add_u32 (TgStunBuilder *b, guint16 type, guint32 value);
gboolean tg_stun_builder_add_string (TgStunBuilder *b, guint16 type, const char *value);
gboolean tg_stun_builder_add_xor_address (TgStunBuilder *b, guint16 type, const TgStunAddress *a);
gboolean tg_stun_builder_add_error_code (TgStunBuilder *b, guint code, const char *reason);
gboolean tg_stun_builder_add_integrity (TgStunBuilder *b, const guint8 *key, gsize key_len);
gboolean tg_stun_builder_add_fingerprint (TgStunBuilder *b);
/* The encoded message so far (header length up to date). */
GBytes *tg_stun_builder_end (TgStunBuilder *b);

/* Decoding. */
typedef struct _TgStunMessage TgStunMessage;

/* Validates and copies @data. NULL with a TG_STUN_ERROR on any malformed input; a FINGERPRINT
 * that is present must be right. */
TgStunMessage *tg_stun_message_parse (const guint8 *data, gsize len, GError **error);
void tg_stun_message_free (TgStunMessage *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TgStunMessage, tg_stun_message_free)

/* Length a STUN message starting with the 20 header bytes in @header will have (header
 * included), for framing over TCP/TLS (RFC 8489 §6.2.2); 0 when it is not a STUN header. */
gsize tg_stun_frame_length (const guint8 header[TG_STUN_HEADER_LEN]);

guint16 tg_stun_message_method (const TgStunMessage *m);
TgStunClass tg_stun_message_class (const TgStunMessage *m);
const guint8 *tg_stun_message_tid (const TgStunMessage *m);
gboolean tg_stun_message_has_fingerprint (const TgStunMessage *m);

/* The first attribute of @type (before MESSAGE-INTEGRITY), or NULL; @len (optional) gets its
 * value length. */
const guint8 *tg_stun_message_find (const TgStunMessage *m, guint16 type, gsize *len);
gboolean tg_stun_message_get_u32 (const TgStunMessage *m, guint16 type, guint32 *out,
                                  GError **error);
/* A valid UTF-8 string attribute (REALM, NONCE, USERNAME, SOFTWARE) of at most 763 bytes. */
char *tg_stun_message_get_string (const TgStunMessage *m, guint16 type, GError **error);
/* XOR-MAPPED-ADDRESS, XOR-RELAYED-ADDRESS, XOR-PEER-ADDRESS (RFC 8489 §14.2). */
gboolean tg_stun_message_get_xor_address (const TgStunMessage *m, guint16 type,
                                          TgStunAddress *out, GError **error);
/* MAPPED-ADDRESS (§14.1), for old servers. */
gboolean tg_stun_message_get_address (const TgStunMessage *m, guint16 type, TgStunAddress *out,
                                      GError **error);
/* ERROR-CODE (§14.8): @code 300..699, @reason (optional) a new UTF-8 string. */
gboolean tg_stun_message_get_error_code (const TgStunMessage *m, guint *code, char **reason,
                                         GError **error);
/* Checks MESSAGE-INTEGRITY with @key (the long-term key, or a short-term password). */
gboolean tg_stun_message_check_integrity (const TgStunMessage *m, const guint8 *key,
                                          gsize key_len, GError **error);

G_END_DECLS
