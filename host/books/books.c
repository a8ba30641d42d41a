/* books.c - opening the ledger for a front end (books.h). */
#include "books.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/file.h"

leal_err books_open(const char *path, bool create, struct ledger **l, struct books_where *where)
{
    leal_err err;
    *l = NULL;
    memset(where, 0, sizeof *where);
    /* LEAL_DB names the ledger when --db does not (a PostgreSQL URI, a file). */
    if (path == NULL && getenv("LEAL_DB") && getenv("LEAL_DB")[0])
        path = getenv("LEAL_DB");
    if (path == NULL) {
        where->default_path = true;
        if ((err = file_default_path("ledger.db", where->path, sizeof where->path)) != LEAL_OK) {
            where->path[0] = '\0';
            return err;
        }
        if (create && (err = file_mkdir_parents(where->path)) != LEAL_OK)
            return err;
    } else if ((size_t)snprintf(where->path, sizeof where->path, "%s", path) >=
               sizeof where->path) {
        return LEAL_E_TOO_LARGE;
    }
    if (create)
        return ledger_open_why(where->path, l, where->why, sizeof where->why);
    return ledger_open_existing_why(where->path, l, where->why, sizeof where->why);
}
