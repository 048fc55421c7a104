/* ca-media: the audio of one call with GStreamer, as plain RTP packets in and out.
 *
 * Send: a WAV file (--play) or the default source -> resample -> Opus 48 kHz (or PCMU 8 kHz)
 * -> RTP payloader -> appsink; every packet reaches the send callback on the GMainContext,
 * never on a streaming thread. The caller protects it (SRTP) and puts it on the wire.
 * Receive: decrypted RTP packets pushed with ca_media_push_rtp() -> rtpjitterbuffer ->
 * depayloader -> decoder -> a WAV file (--record) or the default sink.
 * Nothing here touches a socket: plaintext RTP only exists in memory.
 *
 * Callbacks come from the context's dispatch, never from inside ca_media_* calls; they may call
 * ca_media_stop() (nothing queued is delivered after it) but must not free the media. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CA_MEDIA_ERROR (ca_media_error_quark ())
GQuark ca_media_error_quark (void);

typedef enum
{
  CA_MEDIA_ERROR_SETUP,   /* an element is missing or a pipeline would not build */
  CA_MEDIA_ERROR_SOURCE,  /* the WAV to play cannot be read */
  CA_MEDIA_ERROR_RUNTIME, /* a pipeline posted an error while running */
  CA_MEDIA_ERROR_LAST
} CaMediaError;

typedef enum
{
  CA_MEDIA_CODEC_OPUS, /* opus/48000/2 (RFC 7587) */
  CA_MEDIA_CODEC_PCMU, /* PCMU/8000 */
  CA_MEDIA_CODEC_LAST
} CaMediaCodec;

const char *ca_media_codec_to_string (CaMediaCodec codec);

typedef struct _CaMedia CaMedia;

/* One RTP packet (header + payload, plaintext) to protect and send. */
typedef void (*CaMediaSendFunc) (CaMedia *media, const guint8 *rtp, gsize len,
                                 gpointer user_data);

typedef enum
{
  CA_MEDIA_EVENT_FIRST_AUDIO,  /* the first decoded frame of the peer's audio */
  CA_MEDIA_EVENT_PLAY_DONE,    /* the --play file has been sent to its end; sending stops
                                  there (no silence follows: the peer gets no more packets) */
  CA_MEDIA_EVENT_ERROR,        /* a pipeline failed: ca_media_get_error() */
  CA_MEDIA_EVENT_LAST
} CaMediaEvent;

typedef void (*CaMediaEventFunc) (CaMedia *media, CaMediaEvent event, gpointer user_data);

typedef struct
{
  GMainContext *context;    /* NULL: thread-default; callbacks come from it */
  CaMediaCodec codec;
  guint8 payload_type;      /* the dynamic PT negotiated for Opus; 0 for PCMU */
  guint32 ssrc;             /* 0: random */
  const char *play_path;    /* WAV to send; NULL: the default audio source */
  const char *record_path;  /* WAV to write; NULL: the default audio sink */
  gboolean silent_source;   /* no device, no file: send silence (headless tests) */
  CaMediaSendFunc send;     /* required */
  CaMediaEventFunc event;   /* optional */
  gpointer user_data;
} CaMediaConfig;

/* CA_MEDIA_ERROR_SOURCE when play_path cannot be opened or does not start with a RIFF/WAVE
 * header; a file that does but is broken further in fails while streaming (EVENT_ERROR with
 * CA_MEDIA_ERROR_RUNTIME). CA_MEDIA_ERROR_SETUP when a GStreamer element is missing. */
CaMedia *ca_media_new (const CaMediaConfig *config, GError **error);
void ca_media_free (CaMedia *media); /* stops both pipelines first (ca_media_stop) */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaMedia, ca_media_free)

/* Starts both pipelines: packets begin to flow to the send callback. */
gboolean ca_media_start (CaMedia *media, GError **error);
/* One decrypted RTP packet from the peer, copied. Dropped (and not counted) before start and
 * after stop, and when it is not RTP version 2, is malformed (CSRC count, extension or padding
 * beyond its end), carries no payload, is larger than 1500 bytes, or has another payload type. */
void ca_media_push_rtp (CaMedia *media, const guint8 *rtp, gsize len);
/* Stops sending, drains the receive side and finalizes the recording (a valid WAV header),
 * waiting at most @timeout_ms. Idempotent. */
void ca_media_stop (CaMedia *media, guint timeout_ms);

typedef struct
{
  guint64 packets_sent, bytes_sent;         /* RTP payload bytes */
  guint64 packets_received, bytes_received;
  guint64 packets_lost;                     /* from sequence-number gaps (RFC 3550 A.3) */
  double jitter_ms;                         /* interarrival jitter (RFC 3550 A.8) */
  gint64 first_audio_us;                    /* g_get_monotonic_time() of FIRST_AUDIO, or 0 */
} CaMediaStats;

void ca_media_get_stats (CaMedia *media, CaMediaStats *out);
const GError *ca_media_get_error (CaMedia *media);

G_END_DECLS
