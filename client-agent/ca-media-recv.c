/* ca-media-recv: pushed RTP -> appsrc -> rtpjitterbuffer -> depayloader -> decoder -> WAV
 * file or sound card. Packets are checked before GStreamer sees them. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-media-priv.h"

#include <gst/app/gstappsrc.h>

/* Enough to absorb loopback and LAN jitter without adding audible delay. */
#define JITTER_LATENCY_MS 60

/* RFC 3550 §5.1: fixed header, CSRCs, optional extension (§5.3.1), optional padding. */
gssize
ca_media_rtp_payload_len (const guint8 *rtp, gsize len)
{
  gsize header, padding = 0;

  if (len < CA_MEDIA_RTP_HEADER || (rtp[0] >> 6) != 2)
    return -1;
  header = CA_MEDIA_RTP_HEADER + 4u * (rtp[0] & 0x0f);
  if (rtp[0] & 0x10)
    {
      if (len < header + 4)
        return -1;
      header += 4 + 4u * ((rtp[header + 2] << 8) | rtp[header + 3]);
    }
  if (len < header)
    return -1;
  if (rtp[0] & 0x20)
    {
      padding = rtp[len - 1];
      if (padding == 0 || padding > len - header)
        return -1;
    }
  return (gssize) (len - header - padding);
}

static GstPadProbeReturn
on_decoded (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  CaMedia *media = user_data;
  gboolean first;

  g_mutex_lock (&media->lock);
  first = !media->first_audio;
  if (first)
    {
      media->first_audio = TRUE;
      media->first_audio_us = g_get_monotonic_time ();
    }
  g_mutex_unlock (&media->lock);
  if (first)
    ca_media_post_event (media, CA_MEDIA_EVENT_FIRST_AUDIO);
  return GST_PAD_PROBE_REMOVE;
}

static const char *
decoder_description (CaMediaCodec codec)
{
  switch (codec)
    {
    case CA_MEDIA_CODEC_OPUS:
      return "rtpopusdepay ! opusdec name=dec";
    case CA_MEDIA_CODEC_PCMU:
      return "rtppcmudepay ! mulawdec name=dec";
    case CA_MEDIA_CODEC_LAST:
      break;
    }
  g_return_val_if_reached (NULL);
}

static GstCaps *
rtp_caps (CaMedia *media)
{
  gboolean opus = media->config.codec == CA_MEDIA_CODEC_OPUS;

  return gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING, "audio", "clock-rate",
                              G_TYPE_INT, opus ? 48000 : 8000, "encoding-name", G_TYPE_STRING,
                              opus ? "OPUS" : "PCMU", "payload", G_TYPE_INT,
                              (int) media->config.payload_type, NULL);
}

GstElement *
ca_media_recv_build (CaMedia *media, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) dec = NULL;
  g_autoptr (GstPad) dec_src = NULL;
  g_autoptr (GstCaps) caps = NULL;
  g_autofree char *description = NULL;

  description = g_strdup_printf (
      "appsrc name=src is-live=true format=time do-timestamp=true ! "
      "rtpjitterbuffer latency=%u ! %s ! audioconvert ! audioresample ! %s",
      JITTER_LATENCY_MS, decoder_description (media->config.codec),
      media->record_path != NULL ? "audio/x-raw,format=S16LE ! wavenc ! filesink name=file"
                                 : "autoaudiosink");
  pipeline = gst_parse_launch_full (description, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (pipeline == NULL)
    {
      g_set_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SETUP, "receive pipeline: %s",
                   parse_error->message);
      return NULL;
    }
  gst_object_ref_sink (pipeline);
  g_object_set (pipeline, "name", "ca-media-recv", NULL);

  if (media->record_path != NULL)
    {
      g_autoptr (GstElement) file = gst_bin_get_by_name (GST_BIN (pipeline), "file");

      g_object_set (file, "location", media->record_path, NULL);
    }
  media->appsrc = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  caps = rtp_caps (media);
  g_object_set (media->appsrc, "caps", caps, NULL);

  dec = gst_bin_get_by_name (GST_BIN (pipeline), "dec");
  dec_src = gst_element_get_static_pad (dec, "src");
  gst_pad_add_probe (dec_src, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, media, NULL);
  return g_steal_pointer (&pipeline);
}

void
ca_media_push_rtp (CaMedia *media, const guint8 *rtp, gsize len)
{
  gssize payload;
  GstBuffer *buffer;

  g_return_if_fail (media != NULL);
  g_return_if_fail (rtp != NULL || len == 0);

  if (!media->started || media->stopped)
    return;
  if (len > CA_MEDIA_MAX_RTP)
    return;
  payload = ca_media_rtp_payload_len (rtp, len);
  if (payload <= 0 || (rtp[1] & 0x7f) != media->config.payload_type)
    return;

  media->stats.packets_received++;
  media->stats.bytes_received += (guint64) payload;
  ca_rtp_stats_update (&media->rtp, (guint16) ((rtp[2] << 8) | rtp[3]),
                       ((guint32) rtp[4] << 24) | ((guint32) rtp[5] << 16)
                           | ((guint32) rtp[6] << 8) | rtp[7],
                       g_get_monotonic_time ());
  buffer = gst_buffer_new_memdup (rtp, len);
  /* takes the buffer; only fails once the pipeline is flushing or at EOS */
  gst_app_src_push_buffer (GST_APP_SRC (media->appsrc), buffer);
}
