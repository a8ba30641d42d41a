/*
 * schema.h - the ledger schema as a list of forward migrations (schema.c).
 * schema_migration(v) is the SQL that takes user_version v to v+1; the
 * current version is schema_count(). Hosted; no state.
 */
#ifndef LEAL_LEDGER_SCHEMA_H
#define LEAL_LEDGER_SCHEMA_H

/* 'LEAL' in PRAGMA application_id marks a leal ledger. */
#define SCHEMA_APPLICATION_ID 0x4C45414C

int schema_count(void);
/* SQL for from -> from+1, or NULL if from is out of range. */
const char *schema_migration(int from);

#endif
