/* ca-media-send: source -> encoder -> RTP payloader -> appsink, paced in real time, each
 * packet copied into the inbox for the context to hand to the send callback. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-media-priv.h"

#include <gst/app/gstappsink.h>

/* 20 ms per packet for PCMU too (RFC 3551 §4.5 default); otherwise the payloader fills the
 * MTU with as much audio as each decoded chunk holds. */
#define PCMU_PTIME_NS (20 * GST_MSECOND)

static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer user_data)
{
  CaMedia *media = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer;
  GstMapInfo map;
  CaMediaItem *item;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer (sample);
  if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  item = g_new0 (CaMediaItem, 1);
  item->kind = CA_MEDIA_ITEM_PACKET;
  item->packet = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buffer, &map);
  ca_media_post (media, item);
  return GST_FLOW_OK;
}

static const char *
source_description (CaMedia *media)
{
  if (media->play_path != NULL)
    return "filesrc name=file ! wavparse";
  if (media->config.silent_source)
    return "audiotestsrc is-live=true wave=silence";
  return "autoaudiosrc";
}

static const char *
codec_description (CaMediaCodec codec)
{
  switch (codec)
    {
    case CA_MEDIA_CODEC_OPUS:
      return "audio/x-raw,rate=48000 ! opusenc ! rtpopuspay name=pay";
    case CA_MEDIA_CODEC_PCMU:
      return "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay";
    case CA_MEDIA_CODEC_LAST:
      break;
    }
  g_return_val_if_reached (NULL);
}

GstElement *
ca_media_send_build (CaMedia *media, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) pay = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autofree char *description = NULL;
  GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };

  /* appsink sync=true: the clock paces a file to real time instead of decoding speed */
  description = g_strdup_printf ("%s ! audioconvert ! audioresample ! %s ! "
                                 "appsink name=sink sync=true",
                                 source_description (media), codec_description (media->config.codec));
  pipeline = gst_parse_launch_full (description, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (pipeline == NULL)
    {
      g_set_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SETUP, "send pipeline: %s",
                   parse_error->message);
      return NULL;
    }
  gst_object_ref_sink (pipeline);
  g_object_set (pipeline, "name", "ca-media-send", NULL);

  if (media->play_path != NULL)
    {
      g_autoptr (GstElement) file = gst_bin_get_by_name (GST_BIN (pipeline), "file");

      g_object_set (file, "location", media->play_path, NULL);
    }
  pay = gst_bin_get_by_name (GST_BIN (pipeline), "pay");
  g_object_set (pay, "pt", (guint) media->config.payload_type, "ssrc", media->ssrc, NULL);
  if (media->config.codec == CA_MEDIA_CODEC_PCMU)
    g_object_set (pay, "min-ptime", (gint64) PCMU_PTIME_NS, "max-ptime", (gint64) PCMU_PTIME_NS,
                  NULL);

  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, media, NULL);
  return g_steal_pointer (&pipeline);
}
