/*
 * bench_search.c - customer search on a ledger of 1 M customers (issue 10
 * section 8): `leal customer search --name` for a whole first name, a whole
 * surname and a 3-letter prefix, each against a bare indexed SELECT on the
 * same file measured in the same run, runs interleaved (A B A B) so a
 * disturbance hits both sides. Two views:
 *   process:    the whole `leal customer search --limit 20` process against
 *               the sqlite3 shell running the bare range query on the same
 *               index (what a desk script pays);
 *   in process: ledger_customer_search against sqlite3_prepare + step of
 *               the bare query, on open connections.
 * Prints p50 and p99 of each and the ratio of the p99s (goal: p99 < 50 ms,
 * ratio <= 2). The 1 M-customer file is generated once (one transaction,
 * prepared statements) and kept in $LEAL_BUILD/bench-cache; reruns reuse it.
 * Environment: LEAL_BUILD (build/release), LEAL_BENCH_CUSTOMERS (1000000),
 * LEAL_BENCH_SEARCH_RUNS (100 per side and query). Reports only.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/ledger/ledger.h"
#include "host/text.h"

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of v[0..n-1]; sorts v. */
static double pct(double *v, size_t n, double p)
{
    size_t k;
    qsort(v, n, sizeof *v, cmp_double);
    k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    return v[k > n ? n - 1 : k - 1];
}

static const char *const first_names[] = {
    "María",    "José",    "Antonio",   "Carmen",   "Manuel",  "Ana",     "Francisco", "Laura",
    "David",    "Isabel",  "Juan",      "Lucía",    "Javier",  "Pilar",   "Daniel",    "Marta",
    "Carlos",   "Elena",   "Miguel",    "Rosa",     "Rafael",  "Paula",   "Pedro",     "Cristina",
    "Ángel",    "Sara",    "Alejandro", "Raquel",   "Pablo",   "Beatriz", "Sergio",    "Nuria",
    "Fernando", "Silvia",  "Jorge",     "Patricia", "Luis",    "Andrea",  "Alberto",   "Mónica",
    "Álvaro",   "Irene",   "Adrián",    "Sonia",    "Diego",   "Alicia",  "Iván",      "Noelia",
    "Rubén",    "Inés",    "Óscar",     "Verónica", "Ramón",   "Julia",   "Enrique",   "Eva",
    "Vicente",  "Teresa",  "Andrés",    "Natalia",  "Joaquín", "Rocío",   "Santiago",  "Claudia",
    "Víctor",   "Lorena",  "Eduardo",   "Marina",   "Mario",   "Susana",  "Roberto",   "Alba",
    "Jaime",    "Yolanda", "Ignacio",   "Miriam",   "Alfonso", "Gloria",  "Ricardo",   "Esther"};
static const char *const surnames[] = {
    "García",   "Rodríguez", "González", "Fernández", "López",   "Martínez",  "Sánchez",
    "Pérez",    "Gómez",     "Martín",   "Jiménez",   "Ruiz",    "Hernández", "Díaz",
    "Moreno",   "Muñoz",     "Álvarez",  "Romero",    "Alonso",  "Gutiérrez", "Navarro",
    "Torres",   "Domínguez", "Vázquez",  "Ramos",     "Gil",     "Ramírez",   "Serrano",
    "Blanco",   "Molina",    "Morales",  "Suárez",    "Ortega",  "Delgado",   "Castro",
    "Ortiz",    "Rubio",     "Marín",    "Sanz",      "Núñez",   "Iglesias",  "Medina",
    "Garrido",  "Cortés",    "Castillo", "Santos",    "Lozano",  "Guerrero",  "Cano",
    "Prieto",   "Méndez",    "Cruz",     "Calvo",     "Gallego", "Vidal",     "León",
    "Márquez",  "Herrera",   "Peña",     "Flores",    "Cabrera", "Campos",    "Vega",
    "Fuentes",  "Carrasco",  "Diez",     "Caballero", "Reyes",   "Nieto",     "Aguilar",
    "Pascual",  "Santana",   "Herrero",  "Lorenzo",   "Montero", "Hidalgo",   "Giménez",
    "Ibáñez",   "Ferrer",    "Durán",    "Santiago",  "Benítez", "Mora",      "Vicente",
    "Vargas",   "Arias",     "Carmona",  "Crespo",    "Román",   "Pastor",    "Soto",
    "Sáez",     "Velasco",   "Moya",     "Soler",     "Parra",   "Esteban",   "Bravo",
    "Gallardo", "Rojas"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ != SQLITE_OK && rc_ != SQLITE_DONE) {                                              \
            fprintf(stderr, "bench_search: %s: %s\n", #x, sqlite3_errmsg(db));                     \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Writes a ledger of n customers (program 1, one account each) to path: the
 * schema through the library, the rows in one transaction. */
static int generate(const char *path, long n)
{
    struct ledger *l = NULL;
    struct ledger_program p = {.code = "bench",
                               .name = "Bench",
                               .kind = LEDGER_PROGRAM_SINGLE,
                               .points_per_euro_milli = 1000,
                               .purse_cap_cents = LEDGER_PURSE_CAP_DEFAULT};
    sqlite3 *db = NULL;
    sqlite3_stmt *c = NULL, *a = NULL, *pii = NULL;
    int64_t prog;
    double t0 = now_ms();
    (void)unlink(path);
    if (ledger_open(path, &l) != LEAL_OK || ledger_program_create(l, &p, &prog) != LEAL_OK) {
        fprintf(stderr, "bench_search: cannot create %s\n", path);
        ledger_close(l);
        return -1;
    }
    ledger_close(l);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        goto fail;
    CHECK(sqlite3_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN", NULL,
                       NULL, NULL));
    CHECK(sqlite3_prepare_v2(db,
                             "INSERT INTO customer(id, program_id, created_at, account_id) VALUES "
                             "(?1, 1, 1767225600, ?2)",
                             -1, &c, NULL));
    CHECK(sqlite3_prepare_v2(db,
                             "INSERT INTO account(id, program_id, customer_id, kind, created_at) "
                             "VALUES (?1, 1, ?2, 'customer', 1767225600)",
                             -1, &a, NULL));
    CHECK(sqlite3_prepare_v2(db,
                             "INSERT INTO customer_pii(customer_id, name, surname, email, phone, "
                             "birth_date, gender, address, preferences, updated_at, name_key, "
                             "surname_key, phone_key) VALUES (?1, ?2, ?3, ?4, ?5, '', '', '', '', "
                             "1767225600, ?6, ?7, ?8)",
                             -1, &pii, NULL));
    for (long i = 1; i <= n; i++) {
        char name[64], surname[128], email[96], phone[32], nk[64], sk[128], pk[32];
        int64_t acct = 10 + i; /* after the program's 10 accounts */
        snprintf(name, sizeof name, "%s", first_names[next_rand() % N(first_names)]);
        snprintf(surname, sizeof surname, "%s %s", surnames[next_rand() % N(surnames)],
                 surnames[next_rand() % N(surnames)]);
        snprintf(email, sizeof email, "c%ld@example.es", i);
        snprintf(phone, sizeof phone, "6%08ld", i);
        if (text_fold(name, nk, sizeof nk) != LEAL_OK ||
            text_fold(surname, sk, sizeof sk) != LEAL_OK ||
            text_phone_key(phone, pk, sizeof pk) != LEAL_OK)
            goto fail;
        sqlite3_bind_int64(c, 1, i);
        sqlite3_bind_int64(c, 2, acct);
        CHECK(sqlite3_step(c));
        sqlite3_reset(c);
        sqlite3_bind_int64(a, 1, acct);
        sqlite3_bind_int64(a, 2, i);
        CHECK(sqlite3_step(a));
        sqlite3_reset(a);
        sqlite3_bind_int64(pii, 1, i);
        sqlite3_bind_text(pii, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pii, 3, surname, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pii, 4, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pii, 5, phone, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pii, 6, nk, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pii, 7, sk, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pii, 8, pk, -1, SQLITE_TRANSIENT);
        CHECK(sqlite3_step(pii));
        sqlite3_reset(pii);
    }
    CHECK(sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL));
    sqlite3_finalize(c);
    sqlite3_finalize(a);
    sqlite3_finalize(pii);
    sqlite3_close(db);
    printf("generated %ld customers in %.1f s (cached: %s)\n", n, (now_ms() - t0) / 1e3, path);
    return 0;
fail:
    sqlite3_finalize(c);
    sqlite3_finalize(a);
    sqlite3_finalize(pii);
    sqlite3_close(db);
    (void)unlink(path);
    return -1;
}

/* Runs argv with stdout and stderr on /dev/null; returns its wall time in ms
 * (negative if it failed). */
static double run(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = 0;
    double t0;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    t0 = now_ms();
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    t0 = now_ms() - t0;
    posix_spawn_file_actions_destroy(&fa);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t0 : -1;
}

static int count_cb(void *ctx, const struct ledger_customer *c)
{
    (void)c;
    (*(int *)ctx)++;
    return 0;
}

/* The bare query: the same index range, nothing else. */
static const char bare_sql[] = "SELECT customer_id FROM customer_pii WHERE %s >= '%s' AND %s < "
                               "'%s' || char(1114111) ORDER BY %s LIMIT 20";

struct query {
    const char *what, *q, *column;
};

int main(void)
{
    static const struct query queries[] = {{"first name", "maria", "name_key"},
                                           {"surname", "garcia", "surname_key"},
                                           {"3-letter prefix", "gar", "surname_key"}};
    const char *build = getenv("LEAL_BUILD") ? getenv("LEAL_BUILD") : "build/release";
    long n = getenv("LEAL_BENCH_CUSTOMERS") ? atol(getenv("LEAL_BENCH_CUSTOMERS")) : 1000000;
    int runs = getenv("LEAL_BENCH_SEARCH_RUNS") ? atoi(getenv("LEAL_BENCH_SEARCH_RUNS")) : 100;
    char dir[512], path[600], leal[600];
    struct stat sb;
    struct ledger *l = NULL;
    sqlite3 *db = NULL;
    double *a, *b;
    int status = 0;

    if (n < 1000 || runs < 5) {
        fprintf(stderr,
                "bench_search: LEAL_BENCH_CUSTOMERS >= 1000, LEAL_BENCH_SEARCH_RUNS >= 5\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/bench-cache", build);
    snprintf(path, sizeof path, "%s/customers-%ld-schema%d.db", dir, n, LEDGER_SCHEMA_VERSION);
    snprintf(leal, sizeof leal, "%s/bin/leal", build);
    (void)mkdir(dir, 0700);
    if (stat(path, &sb) != 0 && generate(path, n) != 0)
        return 1;
    a = calloc((size_t)runs, sizeof *a);
    b = calloc((size_t)runs, sizeof *b);
    if (!a || !b || ledger_open(path, &l) != LEAL_OK ||
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_search: cannot open %s\n", path);
        return 1;
    }
    for (size_t k = 0; k < N(queries); k++) {
        const struct query *qu = &queries[k];
        char sql[512];
        char *largv[] = {leal,      "customer", "search", "--name", (char *)qu->q,
                         "--limit", "20",       "--db",   path,     NULL};
        char *sargv[] = {"sqlite3", "-readonly", "-init", "/dev/null", path, sql, NULL};
        double pa50, pa99, pb50, pb99;
        int found = 0;
        snprintf(sql, sizeof sql, bare_sql, qu->column, qu->q, qu->column, qu->q, qu->column);
        /* Whole processes, interleaved. */
        for (int i = 0; i < runs; i++) {
            a[i] = run(largv);
            b[i] = run(sargv);
            if (a[i] < 0 || b[i] < 0) {
                fprintf(stderr, "bench_search: a search process failed\n");
                return 1;
            }
        }
        pa50 = pct(a, (size_t)runs, 50), pa99 = pct(a, (size_t)runs, 99);
        pb50 = pct(b, (size_t)runs, 50), pb99 = pct(b, (size_t)runs, 99);
        printf("customer search --name %s (%s) on %ld customers, whole process: p50 %.1f ms, "
               "p99 %.1f ms; bare indexed SELECT (sqlite3 shell): p50 %.1f ms, p99 %.1f ms; "
               "ratio p99 %.2f (goal p99 < 50 ms, ratio <= 2)\n",
               qu->q, qu->what, n, pa50, pa99, pb50, pb99, pa99 / pb99);
        /* In process, interleaved. */
        for (int i = 0; i < runs; i++) {
            sqlite3_stmt *st;
            double t0 = now_ms();
            found = 0;
            if (ledger_customer_search(l, &(struct ledger_search){0, LEDGER_SEARCH_NAME, qu->q, 20},
                                       count_cb, &found) != LEAL_OK ||
                found != 20) {
                fprintf(stderr, "bench_search: '%s' found %d, not 20\n", qu->q, found);
                return 1;
            }
            a[i] = now_ms() - t0;
            t0 = now_ms();
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return 1;
            while (sqlite3_step(st) == SQLITE_ROW)
                ;
            sqlite3_finalize(st);
            b[i] = now_ms() - t0;
        }
        pa50 = pct(a, (size_t)runs, 50), pa99 = pct(a, (size_t)runs, 99);
        pb50 = pct(b, (size_t)runs, 50), pb99 = pct(b, (size_t)runs, 99);
        printf("  in process: ledger_customer_search p50 %.3f ms, p99 %.3f ms; bare SELECT p50 "
               "%.3f ms, p99 %.3f ms; ratio p99 %.2f\n",
               pa50, pa99, pb50, pb99, pa99 / pb99);
    }
    ledger_close(l);
    sqlite3_close(db);
    free(a);
    free(b);
    return status;
}
