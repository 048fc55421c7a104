#!/usr/bin/perl
# edit-tport-tls.pl REPLACEMENT FILE: replaces tls_free() in Sofia-SIP's tport_tls.c (FILE, edited
# in place) with our own definition from REPLACEMENT (dist/sofia-sip/tls-free.c.in).
# Used by tools/sofia-sip-fix. It first checks every assumption our tls_free() relies on and
# dies, naming the one that failed, when the source is not the one we studied: a changed
# upstream must be looked at by a person, not patched blindly.
use strict;
use warnings;

die "usage: $0 REPLACEMENT tport_tls.c\n" unless @ARGV == 2;
my ($replacement_path, $path) = @ARGV;

sub slurp {
    my ($p) = @_;
    open(my $fh, '<', $p) or die "edit-tport-tls: cannot read $p: $!\n";
    local $/;
    my $text = <$fh>;
    close($fh);
    return $text;
}

sub need {
    my ($ok, $what) = @_;
    die "edit-tport-tls: $path: $what\n" unless $ok;
}

my $src = slurp($path);
my $replacement = slurp($replacement_path);

# A function definition: its header line at column 0 up to the first "}" at column 0.
sub function_body {
    my ($header) = @_;
    my @found = ($src =~ /^(\Q$header\E\n\{\n.*?\n\}\n)/msg);
    need(@found == 1, "expected exactly one definition of '$header', found " . scalar(@found));
    return $found[0];
}

# 1. struct tls_s has the members we use.
my ($struct) = $src =~ /^(struct tls_s \{\n.*?\n\};\n)/ms;
need(defined $struct, "struct tls_s not found");
for my $member ('SSL_CTX *ctx;', 'SSL *con;', 'BIO *bio_con;', 'void *read_buffer;',
                'unsigned int type:1,') {
    need(index($struct, $member) >= 0, "struct tls_s has no '$member'");
}
need($src =~ /enum\s*\{\s*tls_master = 0, tls_slave = 1\s*\};/, "tls_master/tls_slave enum changed");

# 2. tls_free() is the leaking one we know.
my $old = function_body('void tls_free(tls_t *tls)');
for my $call ('SSL_shutdown(tls->con);', 'SSL_CTX_free(tls->ctx);', 'BIO_free(tls->bio_con);',
              'su_home_unref(tls->home);') {
    need(index($old, $call) >= 0, "tls_free() no longer calls '$call'");
}
need(index($old, 'SSL_free') < 0, "tls_free() already calls SSL_free(): fixed upstream?");

# 3. tls_init_secondary() borrows the master's context, hands bio_con to the SSL, and is the
#    only place that allocates read_buffer (so read_buffer marks a connection object).
my $secondary = function_body('tls_t *tls_init_secondary(tls_t *master, int sock, int accept)');
need(index($secondary, 'tls->ctx = master->ctx;') >= 0,
     "tls_init_secondary() no longer borrows master->ctx");
need(index($src, 'SSL_CTX_up_ref') < 0, "the file now takes SSL_CTX references (SSL_CTX_up_ref)");
need(index($secondary, 'SSL_set_bio(tls->con, tls->bio_con, tls->bio_con);') >= 0,
     "tls_init_secondary() no longer attaches bio_con with SSL_set_bio()");
need(index($secondary, 'tls->read_buffer = su_alloc(') >= 0,
     "tls_init_secondary() no longer allocates read_buffer");
my @assignments = ($src =~ /read_buffer\s*=[^=]/g);
need(@assignments == 1, "read_buffer is assigned in " . scalar(@assignments) . " places, expected 1");

# 4. The master (tls_init_master) makes its own context and never a connection.
my $master = function_body('tls_t *tls_init_master(tls_issues_t *ti)');
need(index($master, 'tls_create(tls_master)') >= 0, "tls_init_master() changed");
need($master !~ /^\s*tls->con\s*=/m, "tls_init_master() now sets up a connection");

# Replace, then check the result once more.
need(index($replacement, "void tls_free(tls_t *tls)\n{\n") >= 0, "replacement lacks tls_free()");
my $count = ($src =~ s/\Q$old\E/$replacement/);
need($count == 1, "tls_free() replacement did not apply");
need(index($src, 'SSL_free(tls->con);') >= 0, "edited file lacks SSL_free(tls->con)");
function_body('void tls_free(tls_t *tls)');

open(my $out, '>', "$path.tmp") or die "edit-tport-tls: cannot write $path.tmp: $!\n";
print $out $src or die "edit-tport-tls: write $path.tmp: $!\n";
close($out) or die "edit-tport-tls: close $path.tmp: $!\n";
rename("$path.tmp", $path) or die "edit-tport-tls: rename $path.tmp: $!\n";
print "edit-tport-tls: replaced tls_free() in $path\n";
