/* fuzz_edittime.c: the ISO-8601 times esximg edit reads from an image profile and from VIB
 * descriptors (esximg_edit_parse_time): any bytes, no crash; a time it accepts is not before
 * 1970 and formats back to a date of the same second. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/imgedit.h"
#include "esximg/vibauthor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[128];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    int64_t t;
    if (esximg_edit_parse_time(s, &t, NULL) != 0)
        return 0;
    if (t < 0)
        __builtin_trap();
    char back[40];
    int64_t again;
    if (esximg_vibauthor_format_date(t, back, sizeof back, NULL) == 0 &&
        (esximg_edit_parse_time(back, &again, NULL) != 0 || again != t))
        __builtin_trap();
    return 0;
}
