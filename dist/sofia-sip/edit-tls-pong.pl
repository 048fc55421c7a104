#!/usr/bin/perl
# edit-tls-pong.pl FIXDIR SRC TREE: makes Sofia-SIP's TLS transport answer RFC 5626 section 4.4.1
# CRLF keepalive pings ("\r\n\r\n" -> "\r\n"). Used by tools/sofia-sip-fix after the tls_free()
# fix (edit-tport-tls.pl).
#   FIXDIR  dist/sofia-sip (tls-pong.c.in, tls-recv-pong.c.in)
#   SRC     the unpacked source, read only (assumptions about the parser and tport are checked)
#   TREE    holds libsofia-sip-ua/tport/{tport_tls.c,tport_tls.h,tport_type_tls.c}, edited in place
# Edits: struct tls_s gets pong_len; tls_send_pongs() is added before tls_write(), which repeats
# a blocked pong first; tport_tls.h declares it; tport_tls_recv() in tport_type_tls.c is
# replaced by ours. Every assumption is checked first, and the script dies naming the one that
# failed when the source is not the one we studied: a changed upstream needs a person.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);

die "usage: $0 FIXDIR SRC TREE\n" unless @ARGV == 3;
my ($fixdir, $srcdir, $tree) = @ARGV;
my $tport = 'libsofia-sip-ua/tport';

sub slurp {
    my ($p) = @_;
    open(my $fh, '<', $p) or die "edit-tls-pong: cannot read $p: $!\n";
    local $/;
    my $text = <$fh>;
    close($fh);
    return $text;
}

sub spew {
    my ($p, $text) = @_;
    open(my $out, '>', "$p.tmp") or die "edit-tls-pong: cannot write $p.tmp: $!\n";
    print $out $text or die "edit-tls-pong: write $p.tmp: $!\n";
    close($out) or die "edit-tls-pong: close $p.tmp: $!\n";
    rename("$p.tmp", $p) or die "edit-tls-pong: rename $p.tmp: $!\n";
}

my $file = '';
sub need {
    my ($ok, $what) = @_;
    die "edit-tls-pong: $file: $what\n" unless $ok;
}

# A function definition: its header line at column 0 up to the first "}" at column 0.
sub function_body {
    my ($text, $header) = @_;
    my @found = ($text =~ /^(\Q$header\E\n\{\n.*?\n\}\n)/msg);
    need(@found == 1, "expected exactly one definition of '$header', found " . scalar(@found));
    return $found[0];
}

# Replaces the one occurrence of $old in $$text_ref by $new.
sub replace_once {
    my ($text_ref, $old, $new, $what) = @_;
    my $count = () = $$text_ref =~ /\Q$old\E/g;
    need($count == 1, "$what: expected text found $count times, expected once");
    $$text_ref =~ s/\Q$old\E/$new/;
}

my $pong_code = slurp("$fixdir/tls-pong.c.in");
my $recv_code = slurp("$fixdir/tls-recv-pong.c.in");

# ---- 1. What the "between messages" test relies on (read only) ----
$file = "$srcdir/libsofia-sip-ua/msg/msg_parser.c";
my $parser = slurp($file);
my $first = function_body($parser,
    'issize_t extract_first(msg_t *msg, msg_pub_t *mo, char b[], isize_t bsiz, int eos)');
need(index($first, 'for (k = 0; IS_LWS(b[k]); k++) /* Skip whitespace */') >= 0,
     "extract_first() no longer skips leading whitespace");
need(index($first, 'mo->msg_flags |= MSG_FLG_HEADERS;') >= 0,
     "extract_first() no longer sets MSG_FLG_HEADERS after the start line");
need(index(function_body($parser, 'usize_t msg_buf_committed(msg_t const *msg)'),
           'return msg->m_buffer->mb_commit;') >= 0, "msg_buf_committed() changed");

$file = "$srcdir/$tport/tport_internal.h";
my $internal = slurp($file);
for my $field ('msg_t   	     *tp_msg;', 'msg_iovec_t        *tp_unsent;',
               'unsigned            tp_send_close:2;') {
    need(index($internal, $field) >= 0, "tport_t has no '$field'");
}

# ---- 2. tport_tls.c: pong state, tls_send_pongs(), tls_write() repeats a blocked pong ----
$file = "$tree/$tport/tport_tls.c";
my $tls = slurp($file);
need(index($tls, 'tls_send_pongs') < 0, "already has tls_send_pongs()");
my ($struct) = $tls =~ /^(struct tls_s \{\n.*?\n\};\n)/ms;
need(defined $struct, "struct tls_s not found");
need(index($struct, "  void *write_buffer;\n  size_t write_buffer_len;\n") >= 0,
     "struct tls_s has no write_buffer/write_buffer_len pair");
# SSL_write() must write all or nothing (tport_tls_send() and our pong rely on it).
need(index($tls, 'SSL_MODE_ENABLE_PARTIAL_WRITE') < 0, "partial writes are now enabled");
need(index($tls, 'SSL_set_mode(tls->con, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);') >= 0,
     "SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER is no longer set");
need(index(function_body($tls, 'void tls_log_errors(unsigned level, char const *s, unsigned long e)'),
           'e = ERR_get_error();') >= 0, "tls_log_errors() changed");
# A blocked write keeps its buffer, and tls_want_write() calls tls_write() with it again: that
# is where a blocked pong gets repeated.
my $error = function_body($tls, "int tls_error(tls_t *tls, int ret, char const *who,\n\t      void *buf, int size)");
need(index($error, 'tls->write_buffer = buf, tls->write_buffer_len = size;') >= 0,
     "tls_error() no longer keeps the blocked buffer");
my $want = function_body($tls, 'int tls_want_write(tls_t *tls, int events)');
need(index($want, 'ret = tls_write(tls, buf, size);') >= 0,
     "tls_want_write() no longer repeats tls_write()");
my $write = function_body($tls, 'ssize_t tls_write(tls_t *tls, void *buf, size_t size)');
my $write_call = "  tls->write_events = 0;\n\n  ret = SSL_write(tls->con, buf, size);\n";
need(index($write, $write_call) >= 0, "tls_write() no longer calls SSL_write() as expected");
need(index($write, "  if (tls->write_buffer) {\n") >= 0, "tls_write() lost its write_buffer path");

my $new_write = $write;
replace_once(\$new_write, $write_call,
    "  tls->write_events = 0;\n\n"
  . "  /* Sotto: a pong whose write would have blocked first, with the same bytes */\n"
  . "  if (tls->pong_len) {\n"
  . "    ret = SSL_write(tls->con, tls_pong_crlfs, (int)tls->pong_len);\n"
  . "    if (ret <= 0)\n"
  . "      return tls_error(tls, ret, \"tls_write: SSL_write (pong)\", buf, size);\n"
  . "    tls->pong_len = 0;\n"
  . "  }\n\n"
  . "  ret = SSL_write(tls->con, buf, size);\n", "tls_write() SSL_write");
replace_once(\$tls, $write, $pong_code . $new_write, "tls_write()");
replace_once(\$tls, "  void *write_buffer;\n  size_t write_buffer_len;\n",
    "  void *write_buffer;\n  size_t write_buffer_len;\n"
  . "  size_t pong_len;	/* Sotto: bytes of a blocked CRLF pong write */\n",
    "struct tls_s");
function_body($tls, 'int tls_send_pongs(tls_t *tls, size_t count)');
function_body($tls, 'ssize_t tls_write(tls_t *tls, void *buf, size_t size)');
spew($file, $tls);

# ---- 3. tport_tls.h declares it ----
$file = "$tree/$tport/tport_tls.h";
my $h = slurp($file);
replace_once(\$h, "ssize_t tls_write(tls_t *tls, void *buf, size_t size);\n",
    "ssize_t tls_write(tls_t *tls, void *buf, size_t size);\n"
  . "int tls_send_pongs(tls_t *tls, size_t count);\n", "tls_write() declaration");
spew($file, $h);

# ---- 4. tport_type_tls.c: our tport_tls_recv() ----
$file = "$tree/$tport/tport_type_tls.c";
my $type = slurp($file);
need(index($type, "static int tport_tls_recv(tport_t *self);\n") >= 0,
     "tport_tls_recv() is not declared static as expected");
my $recv = function_body($type, 'int tport_tls_recv(tport_t *self)');
# The exact function we studied (Debian 1.12.11+20110422.1+1e14eea~dfsg-6); ours replaces it.
my $studied = '2ad9f86413c1980b44fab8cf9fa101406c879f42a5773924cc55b4c8e9dafd71';
need(sha256_hex($recv) eq $studied,
     "tport_tls_recv() is not the one we studied (sha256 " . sha256_hex($recv) . ")");
# tls-recv-pong.c.in: helper code, then our tport_tls_recv(). The helper goes before the
# function's doc comment (its definition starts "static\nint tport_tls_recv").
my $doc = "/** Receive data from TLS.\n";
my ($helper, $new_recv) = $recv_code =~ /^(.*?\n)(int tport_tls_recv\(tport_t \*self\)\n\{\n.*)\z/s;
need(defined $new_recv, "tls-recv-pong.c.in lacks tport_tls_recv()");
need(index($type, $doc . " *\n * \@retval -1 error\n") >= 0 &&
     index($type, " *\n */\nstatic\n$recv") >= 0,
     "tport_tls_recv() is not preceded by its doc comment and 'static'");
replace_once(\$type, $recv, $new_recv, "tport_tls_recv()");
replace_once(\$type, $doc, $helper . $doc, "tport_tls_recv() doc comment");
replace_once(\$type, "#include <sofia-sip/su_string.h>\n",
    "#include <sofia-sip/su_string.h>\n#include <sofia-sip/msg_buffer.h>\n", "includes");
function_body($type, 'int tport_tls_recv(tport_t *self)');
need(index($type, 'tls_send_pongs(tlstp->tlstp_context, pings)') >= 0,
     "edited tport_tls_recv() does not send pongs");
spew($file, $type);

print "edit-tls-pong: tport_tls.c, tport_tls.h, tport_type_tls.c answer CRLF pings over TLS\n";
