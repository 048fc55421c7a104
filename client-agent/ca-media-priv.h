/* ca-media-priv.h: what ca-media.c, ca-media-send.c and ca-media-recv.c share. */
#pragma once

#include <gst/gst.h>

#include "ca-media.h"
#include "ca-rtp-stats.h"

/* Larger than any audio packet we produce or accept (Opus at 20 ms is well under 1 KB); a
 * bigger "RTP packet" is garbage. */
#define CA_MEDIA_MAX_RTP 1500
#define CA_MEDIA_RTP_HEADER 12

/* What a streaming thread hands to the GMainContext through the inbox. */
typedef enum
{
  CA_MEDIA_ITEM_PACKET, /* one RTP packet to send */
  CA_MEDIA_ITEM_EVENT,  /* FIRST_AUDIO, PLAY_DONE */
  CA_MEDIA_ITEM_ERROR,  /* a pipeline error: becomes ca_media_get_error() and EVENT_ERROR */
} CaMediaItemKind;

typedef struct
{
  CaMediaItemKind kind;
  GBytes *packet;
  CaMediaEvent event;
  GError *error;
} CaMediaItem;

struct _CaMedia
{
  CaMediaConfig config;
  GMainContext *context;
  char *play_path;
  char *record_path;
  guint32 ssrc;

  GstElement *send_pipeline;
  GstElement *recv_pipeline;
  GstElement *appsrc; /* inside recv_pipeline */

  /* Streaming threads -> context: items queued here wake this source. */
  GAsyncQueue *inbox;
  GSource *inbox_source;

  gboolean started;
  gboolean stopped;
  GError *error;

  /* Context thread only */
  CaMediaStats stats;
  CaRtpStats rtp;

  /* Shared with streaming threads */
  GMutex lock;
  GCond cond;
  gboolean recv_eos;        /* the receive pipeline posted EOS or ERROR */
  gboolean first_audio;
  gint64 first_audio_us;
  GError *sync_error;       /* the first error posted on either bus */
};

/* ca-media.c: from any thread */
void ca_media_post (CaMedia *media, CaMediaItem *item);
void ca_media_post_event (CaMedia *media, CaMediaEvent event);
GstBusSyncReply ca_media_bus_sync (GstBus *bus, GstMessage *message, gpointer user_data);

/* Pipelines built stopped (NULL state); FALSE with CA_MEDIA_ERROR_SETUP. */
GstElement *ca_media_send_build (CaMedia *media, GError **error);
GstElement *ca_media_recv_build (CaMedia *media, GError **error);
/* Bytes of RTP payload after the header, CSRCs, extension and padding; -1 if malformed. */
gssize ca_media_rtp_payload_len (const guint8 *rtp, gsize len);
