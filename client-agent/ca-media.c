/* ca-media: the object that owns the two pipelines, and the crossing from GStreamer's
 * streaming threads into the caller's GMainContext. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-media-priv.h"

#include <gst/app/gstappsrc.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_STOP_MS 2000

G_DEFINE_QUARK (ca-media-error-quark, ca_media_error)

const char *
ca_media_codec_to_string (CaMediaCodec codec)
{
  switch (codec)
    {
    case CA_MEDIA_CODEC_OPUS:
      return "opus";
    case CA_MEDIA_CODEC_PCMU:
      return "pcmu";
    case CA_MEDIA_CODEC_LAST:
      break;
    }
  return "unknown";
}

static void
item_free (gpointer data)
{
  CaMediaItem *item = data;

  g_clear_pointer (&item->packet, g_bytes_unref);
  g_clear_error (&item->error);
  g_free (item);
}

void
ca_media_post (CaMedia *media, CaMediaItem *item)
{
  g_async_queue_push (media->inbox, item);
  /* thread-safe: wakes the context */
  g_source_set_ready_time (media->inbox_source, 0);
}

void
ca_media_post_event (CaMedia *media, CaMediaEvent event)
{
  CaMediaItem *item = g_new0 (CaMediaItem, 1);

  item->kind = CA_MEDIA_ITEM_EVENT;
  item->event = event;
  ca_media_post (media, item);
}

static void
emit (CaMedia *media, CaMediaEvent event)
{
  if (media->config.event != NULL)
    media->config.event (media, event, media->config.user_data);
}

static void
handle_item (CaMedia *media, CaMediaItem *item)
{
  gsize len;
  const guint8 *rtp;
  gssize payload;

  switch (item->kind)
    {
    case CA_MEDIA_ITEM_PACKET:
      rtp = g_bytes_get_data (item->packet, &len);
      payload = ca_media_rtp_payload_len (rtp, len);
      media->stats.packets_sent++;
      media->stats.bytes_sent += payload > 0 ? (guint64) payload : 0;
      media->config.send (media, rtp, len, media->config.user_data);
      break;
    case CA_MEDIA_ITEM_EVENT:
      g_debug ("media: %s", item->event == CA_MEDIA_EVENT_FIRST_AUDIO ? "first audio" : "play done");
      emit (media, item->event);
      break;
    case CA_MEDIA_ITEM_ERROR:
      g_debug ("media: pipeline error: %s", item->error->message);
      if (media->error == NULL)
        media->error = g_steal_pointer (&item->error);
      emit (media, CA_MEDIA_EVENT_ERROR);
      break;
    }
}

/* Runs on the context: everything the streaming threads queued, in order. A callback may call
 * ca_media_stop(); what is still queued after that is dropped. */
static gboolean
inbox_dispatch (gpointer user_data)
{
  CaMedia *media = user_data;
  CaMediaItem *item;

  g_source_set_ready_time (media->inbox_source, -1);
  while (!media->stopped && (item = g_async_queue_try_pop (media->inbox)) != NULL)
    {
      handle_item (media, item);
      item_free (item);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
inbox_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

static GSourceFuncs inbox_funcs = {
  .dispatch = inbox_source_dispatch,
};

static void
drop_inbox (CaMedia *media)
{
  CaMediaItem *item;

  while ((item = g_async_queue_try_pop (media->inbox)) != NULL)
    item_free (item);
}

/* On the thread that posts the message: the only place bus messages are read, so there is no
 * watch to race with ca_media_stop()'s wait. */
GstBusSyncReply
ca_media_bus_sync (GstBus *bus, GstMessage *message, gpointer user_data)
{
  CaMedia *media = user_data;
  gboolean from_recv = media->recv_pipeline != NULL
                       && gst_object_has_as_ancestor (GST_MESSAGE_SRC (message),
                                                      GST_OBJECT (media->recv_pipeline));
  g_autoptr (GError) gerror = NULL;
  g_autofree char *debug = NULL;
  CaMediaItem *item;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_EOS:
      if (from_recv)
        {
          g_mutex_lock (&media->lock);
          media->recv_eos = TRUE;
          g_cond_broadcast (&media->cond);
          g_mutex_unlock (&media->lock);
        }
      else
        ca_media_post_event (media, CA_MEDIA_EVENT_PLAY_DONE);
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (message, &gerror, &debug);
      item = g_new0 (CaMediaItem, 1);
      item->kind = CA_MEDIA_ITEM_ERROR;
      item->error = g_error_new (CA_MEDIA_ERROR, CA_MEDIA_ERROR_RUNTIME, "%s pipeline: %s: %s",
                                 from_recv ? "receive" : "send",
                                 GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), gerror->message);
      g_mutex_lock (&media->lock);
      if (media->sync_error == NULL)
        media->sync_error = g_error_copy (item->error);
      if (from_recv)
        {
          /* a failed receive pipeline will never post EOS: do not make stop wait for it */
          media->recv_eos = TRUE;
          g_cond_broadcast (&media->cond);
        }
      g_mutex_unlock (&media->lock);
      ca_media_post (media, item);
      break;
    default:
      break;
    }
  return GST_BUS_DROP;
}

/* A cheap look at the file, so a wrong --play fails here and not later on a streaming thread. */
static gboolean
check_source (const char *path, GError **error)
{
  FILE *fp = fopen (path, "rb");
  guint8 head[12];
  size_t got;

  if (fp == NULL)
    {
      int errsv = errno;

      g_set_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SOURCE, "%s: %s", path,
                   g_strerror (errsv));
      return FALSE;
    }
  got = fread (head, 1, sizeof head, fp);
  fclose (fp);
  if (got != sizeof head || memcmp (head, "RIFF", 4) != 0 || memcmp (head + 8, "WAVE", 4) != 0)
    {
      g_set_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SOURCE, "%s: not a WAV file", path);
      return FALSE;
    }
  return TRUE;
}

static void
install_bus_handler (CaMedia *media, GstElement *pipeline)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);

  gst_bus_set_sync_handler (bus, ca_media_bus_sync, media, NULL);
}

CaMedia *
ca_media_new (const CaMediaConfig *config, GError **error)
{
  g_autoptr (CaMedia) media = NULL;
  g_autoptr (GError) init_error = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->send != NULL, NULL);
  g_return_val_if_fail (config->codec < CA_MEDIA_CODEC_LAST, NULL);
  g_return_val_if_fail (config->payload_type <= 127, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!gst_init_check (NULL, NULL, &init_error))
    {
      g_set_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SETUP, "GStreamer: %s",
                   init_error->message);
      return NULL;
    }
  if (config->play_path != NULL && !check_source (config->play_path, error))
    return NULL;

  media = g_new0 (CaMedia, 1);
  media->config = *config;
  media->play_path = g_strdup (config->play_path);
  media->record_path = g_strdup (config->record_path);
  media->config.play_path = media->play_path;
  media->config.record_path = media->record_path;
  media->context = config->context != NULL ? g_main_context_ref (config->context)
                                           : g_main_context_ref_thread_default ();
  media->ssrc = config->ssrc != 0 ? config->ssrc : (guint32) g_random_int_range (1, G_MAXINT32);
  g_mutex_init (&media->lock);
  g_cond_init (&media->cond);
  ca_rtp_stats_init (&media->rtp, config->codec == CA_MEDIA_CODEC_OPUS ? 48000 : 8000);

  media->inbox = g_async_queue_new ();
  media->inbox_source = g_source_new (&inbox_funcs, sizeof (GSource));
  g_source_set_name (media->inbox_source, "ca-media inbox");
  g_source_set_callback (media->inbox_source, inbox_dispatch, media, NULL);
  g_source_attach (media->inbox_source, media->context);

  media->send_pipeline = ca_media_send_build (media, error);
  if (media->send_pipeline == NULL)
    return NULL;
  media->recv_pipeline = ca_media_recv_build (media, error);
  if (media->recv_pipeline == NULL)
    return NULL;
  install_bus_handler (media, media->send_pipeline);
  install_bus_handler (media, media->recv_pipeline);
  g_debug ("media: %s pt %u ssrc %08x, play %s, record %s",
           ca_media_codec_to_string (config->codec), config->payload_type, media->ssrc,
           media->play_path ? media->play_path : (config->silent_source ? "(silence)" : "(device)"),
           media->record_path ? media->record_path : "(device)");
  return g_steal_pointer (&media);
}

static gboolean
start_pipeline (CaMedia *media, GstElement *pipeline, CaMediaError code, const char *what,
                GError **error)
{
  g_autoptr (GError) cause = NULL;

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE)
    return TRUE;
  g_mutex_lock (&media->lock);
  if (media->sync_error != NULL)
    cause = g_error_copy (media->sync_error);
  g_mutex_unlock (&media->lock);
  g_set_error (error, CA_MEDIA_ERROR, code, "the %s pipeline would not start%s%s", what,
               cause ? ": " : "", cause ? cause->message : "");
  return FALSE;
}

gboolean
ca_media_start (CaMedia *media, GError **error)
{
  g_return_val_if_fail (media != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (media->stopped || media->started)
    {
      g_set_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SETUP, "media already %s",
                   media->stopped ? "stopped" : "started");
      return FALSE;
    }
  /* receive first, so the first packets of a fast peer find a running pipeline */
  if (!start_pipeline (media, media->recv_pipeline, CA_MEDIA_ERROR_SETUP, "receive", error))
    {
      gst_element_set_state (media->recv_pipeline, GST_STATE_NULL);
      return FALSE;
    }
  if (!start_pipeline (media, media->send_pipeline,
                       media->play_path ? CA_MEDIA_ERROR_SOURCE : CA_MEDIA_ERROR_SETUP, "send",
                       error))
    {
      gst_element_set_state (media->send_pipeline, GST_STATE_NULL);
      gst_element_set_state (media->recv_pipeline, GST_STATE_NULL);
      return FALSE;
    }
  media->started = TRUE;
  return TRUE;
}

/* EOS into the receive pipeline and wait (bounded) for it to come out of the sink: only then
 * has wavenc rewritten the RIFF and data sizes. */
static void
drain_receive (CaMedia *media, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean done;

  gst_app_src_end_of_stream (GST_APP_SRC (media->appsrc));
  g_mutex_lock (&media->lock);
  while (!media->recv_eos)
    if (!g_cond_wait_until (&media->cond, &media->lock, deadline))
      break;
  done = media->recv_eos;
  g_mutex_unlock (&media->lock);
  if (!done)
    g_warning ("media: the receive pipeline did not drain within %u ms; the recording may be "
               "truncated",
               timeout_ms);
}

void
ca_media_stop (CaMedia *media, guint timeout_ms)
{
  g_return_if_fail (media != NULL);

  if (media->stopped)
    return;
  media->stopped = TRUE;
  if (media->send_pipeline != NULL)
    gst_element_set_state (media->send_pipeline, GST_STATE_NULL);
  if (media->started && media->recv_pipeline != NULL)
    drain_receive (media, timeout_ms);
  if (media->recv_pipeline != NULL)
    gst_element_set_state (media->recv_pipeline, GST_STATE_NULL);
  /* no streaming thread is left: nothing can be queued any more */
  drop_inbox (media);
  g_debug ("media: stopped after %" G_GUINT64_FORMAT " packets sent, %" G_GUINT64_FORMAT
           " received",
           media->stats.packets_sent, media->stats.packets_received);
}

void
ca_media_free (CaMedia *media)
{
  if (media == NULL)
    return;
  ca_media_stop (media, DEFAULT_STOP_MS);
  g_clear_object (&media->appsrc);
  g_clear_pointer (&media->send_pipeline, gst_object_unref);
  g_clear_pointer (&media->recv_pipeline, gst_object_unref);
  if (media->inbox_source != NULL)
    {
      g_source_destroy (media->inbox_source);
      g_clear_pointer (&media->inbox_source, g_source_unref);
    }
  if (media->inbox != NULL)
    {
      drop_inbox (media);
      g_clear_pointer (&media->inbox, g_async_queue_unref);
    }
  g_clear_pointer (&media->context, g_main_context_unref);
  g_clear_error (&media->error);
  g_clear_error (&media->sync_error);
  g_mutex_clear (&media->lock);
  g_cond_clear (&media->cond);
  g_free (media->play_path);
  g_free (media->record_path);
  g_free (media);
}

void
ca_media_get_stats (CaMedia *media, CaMediaStats *out)
{
  CaMediaStats stats;

  g_return_if_fail (media != NULL);
  g_return_if_fail (out != NULL);

  stats = media->stats;
  stats.packets_lost = ca_rtp_stats_lost (&media->rtp);
  stats.jitter_ms = ca_rtp_stats_jitter_ms (&media->rtp);
  g_mutex_lock (&media->lock);
  stats.first_audio_us = media->first_audio_us;
  g_mutex_unlock (&media->lock);
  *out = stats;
}

const GError *
ca_media_get_error (CaMedia *media)
{
  g_return_val_if_fail (media != NULL, NULL);

  return media->error;
}

#if !defined(__SANITIZE_ADDRESS__) && defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang */
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
/* In sanitizer builds only, for every program that links the audio code (sotto-agentd and
 * the tests): GLib's quark table starts with a block of 2048 entries allocated in a library constructor
 * (g_quark_init); once GStreamer registers more quarks than that, GLib replaces the block and
 * deliberately leaks the old one so readers need no lock (gquark.c). LSan reports those
 * 16 KiB. Match it by the frame that only load-time constructors have (_dl_init), and later
 * blocks (past 4096 quarks) by the quark functions that grow the table. This needs the slow
 * unwinder: GLib has no frame pointers, so the fast one stops at g_malloc. The environment's
 * ASAN_OPTIONS still override these defaults. */
const char *__asan_default_options (void);
const char *__lsan_default_suppressions (void);

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

const char *
__lsan_default_suppressions (void)
{
  /* And Sofia-SIP's client-side certificate check (tls_post_connection_check, inlined in
   * tls_connect) never frees the subjectAltName it decodes: about 200 bytes per verified TLS
   * connection of sotto-agentd, not ours (see tests/test-ca-sip.c). */
  return "leak:tls_connect\n"
         "leak:_dl_init\n"
         "leak:g_quark_from_static_string\n"
         "leak:g_quark_from_string\n"
         "leak:g_intern_static_string\n"
         "leak:g_intern_string\n";
}
#endif
