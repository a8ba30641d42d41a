/*
 * testutil.h - helpers for unit tests: hex, vector files, temp dirs.
 *
 * Vector files (tests/vectors/NAME.txt): lines starting with '#' are comments
 * (the first ones name the source document and section); a record is a run
 * of "NAME = VALUE" lines; records are separated by blank lines. VALUE is hex
 * (spaces allowed) unless read with vectors_str().
 */
#ifndef LEAL_TESTUTIL_H
#define LEAL_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#define VECTORS_MAX_FIELDS 16
#define VECTORS_MAX_VALUE 4096

struct vector_record {
    int nfields;
    char names[VECTORS_MAX_FIELDS][32];
    char values[VECTORS_MAX_FIELDS][VECTORS_MAX_VALUE];
};

/* Parses hex (spaces ignored) into out; returns the byte count, or -1. */
long hex_decode(const char *hex, uint8_t *out, size_t cap);
/* Writes 2*n lowercase hex digits and a NUL to out (cap >= 2n+1). */
void hex_encode(const uint8_t *p, size_t n, char *out);

/* Reads all records of tests/vectors/NAME; returns the count (>0) or aborts the test. */
int vectors_load(const char *name, struct vector_record **out);
/* Value of field NAME as a string; fails the test if missing. */
const char *vectors_str(const struct vector_record *r, const char *name);
/* Field NAME decoded from hex into out; returns the length; fails the test if missing. */
size_t vectors_hex(const struct vector_record *r, const char *name, uint8_t *out, size_t cap);

/* One value from the SQLite file db (opened read-only): the first column of
 * the first row of the query fmt makes, or none when there is no row; fails
 * the test if the query does not prepare. */
int64_t test_sql_i64(const char *db, int64_t none, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For a test that reckons today (or this month) once from the wall clock,
 * with no clock the code under test takes, and checks it seconds later: when
 * UTC midnight falls within the next secs seconds, waits until it has passed
 * (tests/lib/testlib.sh's clear_of_midnight, for C). */
void test_clear_of_midnight(unsigned secs);

/* Creates a fresh temporary directory and returns its path (static storage per call site ok). */
char *test_tmpdir(void);
/* The same on tmpfs (/dev/shm) where there is one: for tests that fsync often. */
char *test_tmpdir_fast(void);
/* Removes a directory tree made by test_tmpdir() or test_tmpdir_fast(). */
void test_rmtree(const char *path);
/* Reads a whole file (cap bytes at most) into a malloc'd buffer; returns length or -1. */
long test_read_file(const char *path, uint8_t **out);

#endif
