/* isotime.c: ISO-8601 dates ("2023-11-14T22:13:20Z") as seconds since the epoch, for the
 * release dates an edit reads and the times its options give (esximg_edit_parse_time,
 * declared in esximg/imgedit.h). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/imgedit.h"

static bool isotime_digits(const char *s, size_t n, int *value)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t isotime_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool isotime_parse_zone(const char *z, int64_t *offset)
{
    *offset = 0;
    if (!*z || ((z[0] == 'Z' || z[0] == 'z') && !z[1]))
        return true;
    int hh, mm;
    if ((z[0] != '+' && z[0] != '-') || strlen(z) != 6 || z[3] != ':' ||
        !isotime_digits(z + 1, 2, &hh) || !isotime_digits(z + 4, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *offset = (z[0] == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
    return true;
}

int esximg_edit_parse_time(const char *s, int64_t *out, struct esximg_err *err)
{
    int y, mo, d, h, mi, sec;
    size_t n = s ? strnlen(s, 64) : 0;
    bool ok = n >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') &&
              s[13] == ':' && s[16] == ':' && isotime_digits(s, 4, &y) &&
              isotime_digits(s + 5, 2, &mo) && isotime_digits(s + 8, 2, &d) &&
              isotime_digits(s + 11, 2, &h) && isotime_digits(s + 14, 2, &mi) &&
              isotime_digits(s + 17, 2, &sec) && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 &&
              h <= 23 && mi <= 59 && sec <= 60;
    const char *z = ok ? s + 19 : NULL;
    if (ok && *z == '.') {
        z++;
        if (*z < '0' || *z > '9')
            ok = false;
        while (*z >= '0' && *z <= '9')
            z++;
    }
    int64_t offset = 0;
    if (ok)
        ok = isotime_parse_zone(z, &offset);
    int64_t t = ok ? isotime_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset : -1;
    if (!ok || t < 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "time '%.40s' is not an ISO-8601 date after "
                              "1970", s ? s : "");
    *out = t;
    return 0;
}
