/* json.c: a small streaming JSON writer (see json.h). */
#include <inttypes.h>
#include <string.h>

#include "esximg/err.h"
#include "json.h"

void json_init(struct json *j, FILE *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
    j->pretty = true;
}

static void json_indent(struct json *j)
{
    if (!j->pretty)
        return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* before any value: a comma when a sibling came before, and a fresh line in arrays */
static void json_before_value(struct json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (j->need_comma[j->depth])
            fputc(',', j->out);
        json_indent(j);
        j->need_comma[j->depth] = true;
    }
}

static void json_open(struct json *j, char c)
{
    json_before_value(j);
    fputc(c, j->out);
    if (j->depth < JSON_MAX_DEPTH - 1)
        j->depth++;
    j->need_comma[j->depth] = false;
}

static void json_close(struct json *j, char c)
{
    bool had_items = j->need_comma[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (had_items)
        json_indent(j);
    fputc(c, j->out);
}

void json_object_begin(struct json *j) { json_open(j, '{'); }
void json_object_end(struct json *j) { json_close(j, '}'); }
void json_array_begin(struct json *j) { json_open(j, '['); }
void json_array_end(struct json *j) { json_close(j, ']'); }

/* length of a valid UTF-8 sequence at s (at most n bytes), 0 when invalid */
static size_t json_utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) { len = 2; cp = s[0] & 0x1f; }
    else if ((s[0] & 0xf0) == 0xe0) { len = 3; cp = s[0] & 0x0f; }
    else if ((s[0] & 0xf8) == 0xf0) { len = 4; cp = s[0] & 0x07; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void json_write_string(struct json *j, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', j->out);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', j->out);
            fputc(c, j->out);
            i++;
        } else if (c == '\n') {
            fputs("\\n", j->out);
            i++;
        } else if (c == '\t') {
            fputs("\\t", j->out);
            i++;
        } else if (c == '\r') {
            fputs("\\r", j->out);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(j->out, "\\u%04x", c);
            i++;
        } else {
            size_t len = json_utf8_len(s + i, n - i);
            if (len == 0) {
                fputs("\xef\xbf\xbd", j->out);   /* U+FFFD */
                i++;
            } else {
                fwrite(s + i, 1, len, j->out);
                i += len;
            }
        }
    }
    fputc('"', j->out);
}

void json_key(struct json *j, const char *key)
{
    json_before_value(j);
    json_write_string(j, key, strlen(key));
    fputs(j->pretty ? ": " : ":", j->out);
    j->after_key = true;
}

void json_string_n(struct json *j, const char *s, size_t n)
{
    json_before_value(j);
    json_write_string(j, s, n);
}

void json_string(struct json *j, const char *s)
{
    if (!s) {
        json_null(j);
        return;
    }
    json_string_n(j, s, strlen(s));
}

void json_int(struct json *j, int64_t v)
{
    json_before_value(j);
    fprintf(j->out, "%" PRId64, v);
}

void json_uint(struct json *j, uint64_t v)
{
    json_before_value(j);
    fprintf(j->out, "%" PRIu64, v);
}

void json_bool(struct json *j, bool v)
{
    json_before_value(j);
    fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
    json_before_value(j);
    fputs("null", j->out);
}

void json_kv_string(struct json *j, const char *key, const char *s) { json_key(j, key); json_string(j, s); }
void json_kv_uint(struct json *j, const char *key, uint64_t v) { json_key(j, key); json_uint(j, v); }
void json_kv_bool(struct json *j, const char *key, bool v) { json_key(j, key); json_bool(j, v); }

void json_kv_strings(struct json *j, const char *key, char *const *items, size_t count)
{
    json_key(j, key);
    json_array_begin(j);
    for (size_t i = 0; i < count; i++)
        json_string(j, items[i]);
    json_array_end(j);
}

void json_kv_warnings(struct json *j, const char *key, const struct esximg_warnings *w)
{
    json_key(j, key);
    json_array_begin(j);
    for (size_t i = 0; i < w->count; i++)
        json_string(j, w->items[i].msg);
    json_array_end(j);
}

void json_end(struct json *j)
{
    fputc('\n', j->out);
    fflush(j->out);
}
