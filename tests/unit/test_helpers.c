/* test_helpers.c: the shared helpers of lib/ (checked arithmetic, buffers, paths, gzip, I/O). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libisofs/libisofs.h>

#include "esx_private.h"
#include "esximg/io.h"
#include "esximg/iso.h"
#include "testutil.h"

static void helpers_add_detects_overflow(void **state)
{
    (void)state;
    uint64_t s;
    assert_false(esx_add_u64(1, 2, &s));
    assert_int_equal(s, 3);
    assert_true(esx_add_u64(UINT64_MAX, 1, &s));
    size_t z;
    assert_true(esx_mul_size(SIZE_MAX / 2 + 1, 2, &z));
    assert_null(esx_malloc_array(SIZE_MAX / 4, 8));
}

static void helpers_parse_numbers_strictly(void **state)
{
    (void)state;
    uint64_t v;
    assert_true(esx_parse_octal("0000755\0", 8, &v));
    assert_int_equal(v, 0755);
    assert_true(esx_parse_octal("  17 \0\0", 7, &v));
    assert_int_equal(v, 017);
    assert_false(esx_parse_octal("0008", 4, &v));        /* 8 is not octal */
    assert_false(esx_parse_octal("12 3", 4, &v));        /* digits after a space */
    assert_false(esx_parse_octal("\0\0\0", 3, &v));      /* no digit at all */
    assert_false(esx_parse_decimal("99999999999999999999999", 23, &v)); /* overflow */
    assert_true(esx_parse_decimal("1471      ", 10, &v));
    assert_int_equal(v, 1471);
    assert_false(esx_parse_decimal("-1", 2, &v));
}

static void helpers_buf_respects_its_cap(void **state)
{
    (void)state;
    struct esx_buf b;
    struct esximg_err err = {0};
    esx_buf_init(&b, 8);
    assert_int_equal(esx_buf_puts(&b, "abcd", &err), 0);
    assert_int_equal(esx_buf_printf(&b, &err, "%d", 123), 0);
    assert_string_equal(b.data, "abcd123");
    assert_int_equal(esx_buf_puts(&b, "xy", &err), ESXIMG_ELIMIT);
    assert_int_equal(b.len, 7);
    esx_buf_free(&b);
}

static void helpers_path_check_refuses_escapes(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    assert_int_equal(esx_path_check("etc/vmware/x.map", "entry", &err), 0);
    assert_int_equal(esx_path_check("etc/", "entry", &err), 0);
    assert_int_equal(esx_path_check("./etc/a", "entry", &err), 0);
    assert_int_equal(esx_path_check("../x", "entry", &err), ESXIMG_EUNSAFE);
    assert_non_null(strstr(err.msg, "'..'"));
    assert_int_equal(esx_path_check("a/../../x", "entry", &err), ESXIMG_EUNSAFE);
    assert_int_equal(esx_path_check("a/..", "entry", &err), ESXIMG_EUNSAFE);
    assert_int_equal(esx_path_check("/etc/passwd", "entry", &err), ESXIMG_EUNSAFE);
    assert_int_equal(esx_path_check("a\\b", "entry", &err), ESXIMG_EUNSAFE);
    assert_int_equal(esx_path_check("", "entry", &err), ESXIMG_EUNSAFE);
    assert_int_equal(esx_path_check("a..b/..c", "entry", &err), 0);
}

static void helpers_gzip_round_trips_deterministically(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    const char text[] = "visor visor visor visor visor";
    uint8_t *gz1, *gz2, *plain;
    size_t gz1_len, gz2_len, plain_len;
    assert_int_equal(esx_gzip((const uint8_t *)text, sizeof text, 9, &gz1, &gz1_len, &err), 0);
    assert_int_equal(esx_gzip((const uint8_t *)text, sizeof text, 9, &gz2, &gz2_len, &err), 0);
    assert_memory_equal(gz1, gz2, gz1_len);
    assert_int_equal(gz1[9], 255);                    /* OS byte: unknown */
    assert_int_equal(esx_le32(gz1 + 4), 0);           /* mtime 0 */
    assert_true(esx_is_gzip(gz1, gz1_len));
    assert_int_equal(esx_gunzip(gz1, gz1_len, 0, false, &plain, &plain_len, &err), 0);
    assert_int_equal(plain_len, sizeof text);
    assert_memory_equal(plain, text, sizeof text);
    free(plain);
    /* truncated member */
    assert_int_equal(esx_gunzip(gz1, gz1_len - 9, 0, false, &plain, &plain_len, &err),
                     ESXIMG_EFORMAT);
    /* bytes after the member are refused unless allowed */
    uint8_t *padded = malloc(gz1_len + 4);
    memcpy(padded, gz1, gz1_len);
    memset(padded + gz1_len, 0, 4);
    assert_int_equal(esx_gunzip(padded, gz1_len + 4, 0, false, &plain, &plain_len, &err),
                     ESXIMG_EFORMAT);
    assert_int_equal(esx_gunzip(padded, gz1_len + 4, 0, true, &plain, &plain_len, &err), 0);
    free(plain);
    /* output cap */
    assert_int_equal(esx_gunzip(gz1, gz1_len, 4, false, &plain, &plain_len, &err),
                     ESXIMG_ELIMIT);
    free(padded);
    free(gz1);
    free(gz2);
}

static void helpers_gunzip_refuses_a_bomb(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    size_t n = 64u << 20;
    uint8_t *zeros = calloc(1, n), *gz, *plain;
    size_t gz_len, plain_len;
    assert_int_equal(esx_gzip(zeros, n, 9, &gz, &gz_len, &err), 0);
    free(zeros);
    assert_int_equal(esx_gunzip(gz, gz_len, 0, false, &plain, &plain_len, &err), ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "bomb"));
    free(gz);
}

static void helpers_digest_known_values(void **state)
{
    (void)state;
    char hex[65];
    assert_int_equal(esx_digest_hex(ESX_SHA256, "abc", 3, hex, NULL), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(esx_digest_hex(ESX_SHA1, "abc", 3, hex, NULL), 0);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

static void helpers_outfile_leaves_nothing_on_abort(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *target = esx_path_join(dir, "out.bin");
    struct esximg_outfile *of;
    struct esximg_err err = {0};
    assert_int_equal(esximg_outfile_open(target, 0644, &of, &err), 0);
    assert_int_equal(esximg_outfile_write(of, "x", 1, &err), 0);
    esximg_outfile_abort(of);
    char **left;
    assert_int_equal(tu_find_files(dir, "", &left), 0);
    assert_int_equal(esximg_file_write(target, "hello", 5, 0644, &err), 0);
    uint8_t *back;
    size_t back_len;
    tu_read_file(target, &back, &back_len);
    assert_int_equal(back_len, 5);
    assert_memory_equal(back, "hello", 5);
    free(back);
    assert_int_equal(tu_find_files(dir, "", &left), 1);
    tu_free_list(left, 1);
    /* a directory that does not exist: an error naming the output, nothing written */
    char *bad = esx_path_join(dir, "no/such/dir/out.bin");
    assert_int_equal(esximg_file_write(bad, "x", 1, 0644, &err), ESXIMG_EIO);
    assert_string_equal(err.file, bad);
    free(bad);
    tu_rmtree(dir);
    free(target);
    free(dir);
}

/* esximg_file_size: a regular file's size, refused as esximg_file_read refuses it. */
static void helpers_file_size_refuses_as_read_does(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *file = esx_path_join(dir, "f.bin"), *missing = esx_path_join(dir, "none");
    struct esximg_err err = {0};
    uint64_t size = 7;
    assert_int_equal(esximg_file_write(file, "hello", 5, 0644, &err), 0);
    assert_int_equal(esximg_file_size(file, 0, &size, &err), 0);
    assert_int_equal(size, 5);
    assert_int_equal(esximg_file_size(file, 4, &size, &err), ESXIMG_ELIMIT);
    assert_string_equal(err.file, file);
    assert_non_null(strstr(err.msg, "larger than 4 bytes"));
    assert_int_equal(esximg_file_size(dir, 0, &size, &err), ESXIMG_EINVAL);
    assert_string_equal(err.msg, "is a directory");
    assert_int_not_equal(esximg_file_size(missing, 0, &size, &err), 0);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_int_equal(size, 5);      /* untouched on failure */
    tu_rmtree(dir);
    free(file);
    free(missing);
    free(dir);
}

/* A pipe fed in pieces by a child: each read() returns a piece, the loop gathers them all. */
static void helpers_read_full_gathers_short_reads(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        const struct timespec pause = {0, 20 * 1000 * 1000};
        static const char pieces[] = "abc";
        close(fds[0]);
        for (int i = 0; i < 3; i++) {
            if (write(fds[1], pieces + i, 1) != 1)
                _exit(1);
            nanosleep(&pause, NULL);
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[16] = {0};
    size_t got = 99;
    assert_int_equal(esx_read_full(fds[0], buf, sizeof buf, &got), 0);
    assert_int_equal(got, 3);                /* all three pieces, then the end of the pipe */
    assert_memory_equal(buf, "abc", 3);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void helpers_pread_pwrite_full_at_offsets(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = esx_path_join(dir, "io.bin");
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(esx_write_full(fd, "0123456789", 10), 0);
    assert_int_equal(esx_pwrite_full(fd, "xy", 2, 4), 0);
    char buf[8];
    size_t got = 0;
    assert_int_equal(esx_pread_full(fd, buf, 4, 3, &got), 0);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "3xy6", 4);
    /* past the end: a short count, not an error */
    assert_int_equal(esx_pread_full(fd, buf, sizeof buf, 7, &got), 0);
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "789", 3);
    assert_int_equal(esx_pread_full(fd, buf, sizeof buf, 100, &got), 0);
    assert_int_equal(got, 0);
    /* the errno of the failing call comes back */
    int ro = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(ro >= 0);
    assert_int_equal(esx_pwrite_full(ro, "z", 1, 0), EBADF);
    assert_int_equal(esx_write_full(ro, "z", 1), EBADF);
    close(ro);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(esx_pread_full(fds[0], buf, 1, 0, &got), ESPIPE);
    close(fds[0]);
    close(fds[1]);
    close(fd);
    tu_rmtree(dir);
    free(path);
    free(dir);
}

/* The block source records why a read failed: past the end (errno 0) or the read's errno. */
static void helpers_isosrc_records_failed_reads(void **state)
{
    (void)state;
    static uint8_t image[2 * ESXIMG_ISO_BLOCK];
    uint8_t block[ESXIMG_ISO_BLOCK];
    image[ESXIMG_ISO_BLOCK] = 0x5a;
    struct esx_isosrc mem = {.fd = -1, .mem = image, .len = sizeof image};
    assert_true(esx_isosrc_read(&mem, 1, block));
    assert_int_equal(block[0], 0x5a);
    assert_false(mem.failed);
    assert_false(esx_isosrc_read(&mem, 2, block));
    assert_true(mem.failed);
    assert_int_equal(mem.failed_lba, 2);
    assert_int_equal(mem.failed_errno, 0);

    char *dir = tu_mkdtemp();
    char *path = esx_path_join(dir, "half.iso");
    assert_int_equal(esximg_file_write(path, image, ESXIMG_ISO_BLOCK + 100, 0644, NULL), 0);
    /* a length claiming two whole blocks over a file holding one and a bit: the end comes
     * early, which is a failure without an errno */
    struct esx_isosrc short_file = {.fd = open(path, O_RDONLY | O_CLOEXEC),
                                    .len = sizeof image};
    assert_true(short_file.fd >= 0);
    assert_true(esx_isosrc_read(&short_file, 0, block));
    assert_false(esx_isosrc_read(&short_file, 1, block));
    assert_int_equal(short_file.failed_lba, 1);
    assert_int_equal(short_file.failed_errno, 0);
    close(short_file.fd);
    /* a descriptor that cannot be read: the errno is kept; once wrapped, libisofs frees the
     * source with the data source (a leak here shows under the sanitizers) */
    struct esx_isosrc *owned = calloc(1, sizeof *owned);
    assert_non_null(owned);
    owned->fd = open(path, O_WRONLY | O_CLOEXEC);
    owned->owns_fd = true;
    owned->len = ESXIMG_ISO_BLOCK;
    assert_true(owned->fd >= 0);
    assert_false(esx_isosrc_read(owned, 0, block));
    assert_int_equal(owned->failed_errno, EBADF);
    struct iso_data_source *ds = NULL;
    assert_int_equal(esx_isosrc_wrap(owned, &ds, NULL), 0);
    assert_non_null(ds);
    esx_isosrc_free(NULL);
    iso_data_source_unref(ds);
    tu_rmtree(dir);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(helpers_add_detects_overflow),
        cmocka_unit_test(helpers_file_size_refuses_as_read_does),
        cmocka_unit_test(helpers_parse_numbers_strictly),
        cmocka_unit_test(helpers_buf_respects_its_cap),
        cmocka_unit_test(helpers_path_check_refuses_escapes),
        cmocka_unit_test(helpers_gzip_round_trips_deterministically),
        cmocka_unit_test(helpers_gunzip_refuses_a_bomb),
        cmocka_unit_test(helpers_digest_known_values),
        cmocka_unit_test(helpers_outfile_leaves_nothing_on_abort),
        cmocka_unit_test(helpers_read_full_gathers_short_reads),
        cmocka_unit_test(helpers_pread_pwrite_full_at_offsets),
        cmocka_unit_test(helpers_isosrc_records_failed_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
