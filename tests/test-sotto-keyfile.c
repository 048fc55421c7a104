/* Unit tests for sotto-keyfile: the line scan the configuration loaders share (where each
 * group and key is, what is refused) and the "ORIGIN:LINE: [group] key: why" errors. */
#include "config.h"

#include <string.h>

#include "sotto-keyfile.h"

/* A domain of the test's own, so the tests show the caller's domain and codes are used. */
#define TEST_ERROR (test_error_quark ())
static G_DEFINE_QUARK (test-keyfile-error-quark, test_error)
enum
{
  TEST_SYNTAX = 7,
  TEST_OTHER = 9,
};

static SottoKeyfile *
parse (const char *text, gssize len, GError **error)
{
  return sotto_keyfile_parse (text, len, "t.conf", TEST_ERROR, TEST_SYNTAX, NULL, error);
}

static void
assert_entry (const SottoKeyfile *kf, guint index, const char *group, const char *key,
              guint line)
{
  const SottoKeyfileEntry *e = sotto_keyfile_get_entry (kf, index);

  g_assert_nonnull (e);
  g_assert_cmpstr (e->group, ==, group);
  g_assert_cmpstr (e->key, ==, key);
  g_assert_cmpuint (e->line, ==, line);
}

/* Comments, blank lines, CRLF and whitespace around names; entries in file order. */
static void
test_entries (void)
{
  static const char text[] = "# a comment\r\n"
                             "\r\n"
                             "  [signald]  \r\n"
                             "domain=example.org\r\n"
                             "\t listen  =  sips:h:1 ; sips:h:2\r\n"
                             "   # indented comment\r\n"
                             "[turn]\r\n"
                             "realm[fr] = x\r\n"
                             "empty =";
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoKeyfile) kf = parse (text, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (kf);
  g_assert_cmpstr (sotto_keyfile_get_origin (kf), ==, "t.conf");
  g_assert_cmpuint (sotto_keyfile_get_n_entries (kf), ==, 6);
  assert_entry (kf, 0, "signald", NULL, 3);
  assert_entry (kf, 1, "signald", "domain", 4);
  assert_entry (kf, 2, "signald", "listen", 5);
  assert_entry (kf, 3, "turn", NULL, 7);
  /* The locale suffix stays: GKeyFile's lookups would hide such a key. */
  assert_entry (kf, 4, "turn", "realm[fr]", 8);
  assert_entry (kf, 5, "turn", "empty", 9);
}

/* A key set twice is at its last line, as GKeyFile keeps the last value; a group opened twice
 * is at its first header. Absent names give 0. */
static void
test_lines (void)
{
  static const char text[] = "[a]\n"       /* 1 */
                             "k = 1\n"     /* 2 */
                             "[b]\n"       /* 3 */
                             "k = 2\n"     /* 4 */
                             "[a]\n"       /* 5 */
                             "k = 3\n"     /* 6 */
                             "j = 4\n"     /* 7 */
                             "[a]\n"       /* 8 */
                             "j = 5\n";    /* 9 */
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoKeyfile) kf = parse (text, -1, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "a", NULL), ==, 1);
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "b", NULL), ==, 3);
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "a", "k"), ==, 6);
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "b", "k"), ==, 4);
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "a", "j"), ==, 9);
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "c", NULL), ==, 0);
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "b", "j"), ==, 0);
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "a", "K"), ==, 0);
  /* Every header and every key line is an entry, repeats included. */
  g_assert_cmpuint (sotto_keyfile_get_n_entries (kf), ==, 9);
  assert_entry (kf, 4, "a", NULL, 5);
}

typedef struct
{
  const char *text;
  const char *message; /* exact */
} BadCase;

static const BadCase bad_cases[] = {
  { "[signald]\ndomain = x\nthis is not a key\n",
    "t.conf:3: expected \"key = value\", a [group] header or a # comment" },
  /* ';' starts no comment in our files (GKeyFile would refuse the line without a line). */
  { "[agent]\n; a semicolon\n",
    "t.conf:2: expected \"key = value\", a [group] header or a # comment" },
  { "domain = x\n[signald]\n", "t.conf:1: a key comes before the first [group] header" },
  { "# hi\n[signald\ndomain = x\n", "t.conf:2: a group header must look like [name]" },
  { "[]\n", "t.conf:1: a group header must look like [name]" },
  { "[a]b\n", "t.conf:1: a group header must look like [name]" },
  { "[a]\n[b] # no trailing comments\n", "t.conf:2: a group header must look like [name]" },
  { "[signald]\r\n = value\r\n", "t.conf:2: [signald]: a key name is missing before '='" },
  { "[x]\n\n\n=\n", "t.conf:4: [x]: a key name is missing before '='" },
  /* The first refusal wins, even with a later one in the text. */
  { "[a]\nk = v\nnope\n[\n",
    "t.conf:3: expected \"key = value\", a [group] header or a # comment" },
};

static void
test_bad (gconstpointer data)
{
  const BadCase *bc = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoKeyfile) kf = parse (bc->text, -1, &error);

  g_assert_null (kf);
  g_assert_error (error, TEST_ERROR, TEST_SYNTAX);
  g_assert_cmpstr (error->message, ==, bc->message);
}

/* The given length is honoured: a NUL inside it is refused, one after it is not seen. */
static void
test_nul (void)
{
  static const char text[] = "[a]\nk = v\0junk\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoKeyfile) bad = parse (text, sizeof text - 1, &error);
  g_autoptr (SottoKeyfile) good = NULL;

  g_assert_null (bad);
  g_assert_error (error, TEST_ERROR, TEST_SYNTAX);
  g_assert_cmpstr (error->message, ==, "t.conf: contains a NUL byte");
  g_clear_error (&error);

  good = parse (text, (gssize) strlen (text), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_keyfile_get_line (good, "a", "k"), ==, 2);
}

/* No text at all is a valid, empty file; a NULL origin is "<data>". */
static void
test_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoKeyfile) kf =
    sotto_keyfile_parse (NULL, 0, NULL, TEST_ERROR, TEST_SYNTAX, NULL, &error);
  g_autoptr (SottoKeyfile) blank = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (kf);
  g_assert_cmpuint (sotto_keyfile_get_n_entries (kf), ==, 0);
  g_assert_cmpstr (sotto_keyfile_get_origin (kf), ==, "<data>");

  blank = parse ("\n\n  \n# only comments\n", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_keyfile_get_n_entries (blank), ==, 0);
}

/* With a GKeyFile, it is loaded from the same text; its refusal is a syntax error without a
 * line (GKeyFile gives none). Without one, the scan alone passes the same text. */
static void
test_key_file (void)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoKeyfile) kf = NULL;
  g_autofree char *value = NULL;

  kf = sotto_keyfile_parse ("[a]\nk = 1\nk = 2\n", -1, "t.conf", TEST_ERROR, TEST_SYNTAX,
                            key_file, &error);
  g_assert_no_error (error);
  g_assert_nonnull (kf);
  value = g_key_file_get_value (key_file, "a", "k", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "2");
  g_assert_cmpuint (sotto_keyfile_get_line (kf, "a", "k"), ==, 3);
  g_clear_pointer (&kf, sotto_keyfile_free);

  /* "k[" passes the scan but is no valid GKeyFile key name. */
  kf = parse ("[a]\nk[ = v\n", -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (kf);
  g_clear_pointer (&kf, sotto_keyfile_free);

  g_clear_pointer (&key_file, g_key_file_unref);
  key_file = g_key_file_new ();
  kf = sotto_keyfile_parse ("[a]\nk[ = v\n", -1, "t.conf", TEST_ERROR, TEST_SYNTAX, key_file,
                            &error);
  g_assert_null (kf);
  g_assert_error (error, TEST_ERROR, TEST_SYNTAX);
  g_assert_true (g_str_has_prefix (error->message, "t.conf: not a valid configuration file: "));
  g_assert_nonnull (strstr (error->message, "k["));
}

/* Each shape of "ORIGIN[:LINE]:[ [group][ key]:] why", with the caller's code. */
static void
test_set_error (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoKeyfile) kf = parse ("[g]\nk = v\n", -1, &error);
  struct
  {
    guint line;
    const char *group;
    const char *key;
    const char *message;
  } cases[] = {
    { 2, "g", "k", "t.conf:2: [g] k: \"v\" is bad (42)" },
    { 1, "g", NULL, "t.conf:1: [g]: \"v\" is bad (42)" },
    { 3, NULL, NULL, "t.conf:3: \"v\" is bad (42)" },
    { 0, "g", "k", "t.conf: [g] k: \"v\" is bad (42)" },
    { 0, NULL, NULL, "t.conf: \"v\" is bad (42)" },
    /* A key without a group names neither (there is no "[] k"). */
    { 5, NULL, "k", "t.conf:5: \"v\" is bad (42)" },
  };

  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_false (sotto_keyfile_set_error (kf, &error, TEST_OTHER, cases[i].line,
                                               cases[i].group, cases[i].key, "\"%s\" is bad (%d)",
                                               "v", 42));
      g_assert_error (error, TEST_ERROR, TEST_OTHER);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_clear_error (&error);
    }
  /* A NULL GError ** is allowed, as with g_set_error. */
  g_assert_false (sotto_keyfile_set_error (kf, NULL, TEST_OTHER, 1, "g", NULL, "ignored"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/keyfile/entries", test_entries);
  g_test_add_func ("/common/keyfile/lines", test_lines);
  g_test_add_func ("/common/keyfile/nul", test_nul);
  g_test_add_func ("/common/keyfile/empty", test_empty);
  g_test_add_func ("/common/keyfile/key-file", test_key_file);
  g_test_add_func ("/common/keyfile/set-error", test_set_error);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/common/keyfile/bad/%02zu", i);
      g_test_add_data_func (path, &bad_cases[i], test_bad);
    }
  return g_test_run ();
}
