/*
 * replay.c - a main for the fuzz targets so that make test builds them with
 * gcc and runs their corpus (cf. OpenSSH's fuzz harness): targets cannot rot.
 * Usage: fuzz_x DIR_OR_FILE...  Prints "N inputs".
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 1;
}

int main(int argc, char **argv)
{
    long count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d)) != NULL) {
                char p[4096];
                if (e->d_name[0] == '.')
                    continue;
                snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
                if (run_file(p) > 0)
                    count++;
            }
            if (d)
                closedir(d);
        } else if (run_file(argv[i]) > 0) {
            count++;
        }
    }
    /* A few fixed degenerate inputs, so a target with an empty corpus still runs. */
    {
        static uint8_t zeros[300], ones[300];
        memset(ones, 0xff, sizeof ones);
        for (size_t n = 0; n <= sizeof zeros; n += 7) {
            LLVMFuzzerTestOneInput(zeros, n);
            LLVMFuzzerTestOneInput(ones, n);
            count += 2;
        }
    }
    printf("%ld inputs\n", count);
    return 0;
}
