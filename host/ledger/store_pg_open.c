/*
 * store_pg_open.c - opening a PostgreSQL ledger: connecting, and creating or
 * migrating its schema (schema_pg.c) under the write lock. Apart from
 * store_pg.c so that the statement layer store.c calls into never calls
 * back up (store_pg_open uses store.c's queries); ledger_open_with closes a
 * ledger that failed to open, so nothing here calls ledger_close.
 */
#include "store_pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/log/log.h"

/* ---- Opening ---- */

/* Creates or migrates the schema inside one transaction holding the write
 * lock, re-reading the version under it (another process may have done it
 * meanwhile). */
static leal_err pg_migrate(struct ledger *l, int64_t v)
{
    leal_err err = store_pg_exec(l, "BEGIN IMMEDIATE");
    int64_t now = v;
    if (err == LEAL_OK)
        err =
            store_pg_exec(l, "CREATE TABLE IF NOT EXISTS schema_version(version BIGINT NOT NULL)");
    if (err == LEAL_OK)
        err = store_query_int(l, "SELECT coalesce(max(version), 0) FROM schema_version", NULL, 0,
                              &now);
    for (; err == LEAL_OK && now < STORE_PG_SCHEMA_VERSION; now++)
        err = store_pg_exec(l, store_pg_migration((int)now));
    if (err == LEAL_OK)
        err = store_exec_i64(l, "DELETE FROM schema_version", NULL, 0);
    if (err == LEAL_OK)
        err = store_write(l, "INSERT INTO schema_version(version) VALUES (?1)",
                          SVALS(SV_I64(STORE_PG_SCHEMA_VERSION)), NULL);
    if (err == LEAL_OK)
        err = store_pg_exec(l, "COMMIT");
    if (err != LEAL_OK && store_pg_in_tx(l))
        (void)store_pg_exec(l, "ROLLBACK");
    return err;
}

/* The schema version (0: none); a database with tables of its own but no
 * schema_version table is not a leal ledger. */
static leal_err pg_version(struct ledger *l, int64_t *v)
{
    int64_t has, tables;
    leal_err err = store_query_int(l,
                                   "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                   "current_schema() AND tablename = 'schema_version'",
                                   NULL, 0, &has);
    *v = 0;
    if (err == LEAL_OK && has)
        return store_query_int(l, "SELECT coalesce(max(version), 0) FROM schema_version", NULL, 0,
                               v);
    if (err == LEAL_OK)
        err =
            store_query_int(l, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                            NULL, 0, &tables);
    if (err == LEAL_OK && tables > 0) {
        store_set_msg(l, "the database holds tables but no leal schema_version");
        return LEAL_E_DB_NOT_LEAL;
    }
    return err;
}

leal_err store_pg_open(const char *uri, const struct ledger_open_options *o, struct ledger **out)
{
    struct ledger *l = calloc(1, sizeof *l);
    leal_err err = LEAL_OK;
    int64_t version = 0;
    *out = NULL;
    if (l == NULL)
        return LEAL_E_NO_MEMORY;
    l->crypto = o->crypto;
    l->pg = PQconnectdb(uri);
    if (l->pg == NULL) {
        free(l);
        return LEAL_E_NO_MEMORY;
    }
    if (PQstatus(l->pg) != CONNECTION_OK) {
        char *nl;
        store_set_msg(l, "%s", PQerrorMessage(l->pg));
        if ((nl = strchr(l->msg, '\n')) != NULL)
            *nl = '\0';
        err = log_foreign(LEAL_E_PG_CONNECT, "postgresql", "PQconnectdb", l->msg);
        goto out;
    }
    /* Notices (CREATE TABLE IF NOT EXISTS ...) are not for the user. */
    (void)PQsetNoticeProcessor(l->pg, NULL, NULL);
    if ((err = store_pg_exec(l, "SET client_min_messages = warning")) != LEAL_OK)
        goto out;
    if ((err = pg_version(l, &version)) != LEAL_OK)
        goto out;
    if (version == 0 && o->must_exist) {
        store_set_msg(l, "the database holds no leal ledger");
        err = LEAL_E_NO_LEDGER;
        goto out;
    }
    if (version > STORE_PG_SCHEMA_VERSION) {
        store_set_msg(l, "the database has schema version %lld; this leal knows up to %d",
                      (long long)version, STORE_PG_SCHEMA_VERSION);
        err = LEAL_E_DB_SCHEMA_NEWER;
        goto out;
    }
    if (version < STORE_PG_SCHEMA_VERSION && (err = pg_migrate(l, version)) != LEAL_OK)
        goto out;
    l->version = STORE_PG_SCHEMA_VERSION;
    *out = l;
    l = NULL;
out:
    if (l)
        *out = l;
    return err;
}
