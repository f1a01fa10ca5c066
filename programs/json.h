/* json.h: the one JSON emitter of esximg: objects, arrays, keys, strings, integers, bools, null.
 * It places commas, escapes quotes and control characters, turns invalid UTF-8 into U+FFFD,
 * writes no floats and ends the document with a newline. */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
    FILE *out;
    int depth;
    bool need_comma[JSON_MAX_DEPTH];
    bool after_key;
    bool pretty;
};

void json_init(struct json *j, FILE *out);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);          /* NULL writes null */
void json_string_n(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* shorthands: key + value */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);
/* key + an array of strings */
void json_kv_strings(struct json *j, const char *key, char *const *items, size_t count);
/* key + an array of the messages of a warning list (esximg/err.h) */
struct esximg_warnings;
void json_kv_warnings(struct json *j, const char *key, const struct esximg_warnings *w);
/* ends the document: a newline once the outermost value is closed */
void json_end(struct json *j);

#endif
