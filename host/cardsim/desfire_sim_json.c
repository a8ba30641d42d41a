/*
 * desfire_sim_json.c - the virtual DESFire's part of the card file (its
 * EEPROM). Members of the card-file object, besides "format" and "type":
 *
 *   "uid": 7 bytes hex          "random_uid": bool (irreversible once set)
 *   "format_disabled": bool     "capacity", "used": bytes (32-byte blocks)
 *   "batch": 5 bytes hex        "week", "year": production date (BCD bytes)
 *   "default_key": 24 bytes hex, "default_key_version": int
 *   "picc": APP                 "apps": [APP, ...]
 *   "originality_signature": 56 bytes hex (EV2/EV3, optional: Read_Sig's answer)
 * APP: {"aid": "00ae16" (24-bit number, big-endian hex), "settings": int
 *   (key settings byte), "key_type": "des"|"3k3des"|"aes", "keys": [{"key":
 *   hex (16, or 24 for 3k3des), "version": int (AES)}, ...], optional
 *   "iso_fid": int, "df_name": hex, and "files": [FILE, ...]}
 * FILE: {"no": 0..31, "type": "std"|"backup"|"value"|"linear"|"cyclic"|"tmac",
 *   "comm": 0|1|3, "access": int (R<<12|W<<8|RW<<4|Change), optional
 *   "iso_fid"; std/backup: "size", "data" (hex); value: "lower", "upper",
 *   "value", "limited_credit" (option byte), "limited_credit_value",
 *   "limited_credit_available"; records: "record_size", "max_records",
 *   "records": [hex, ...] oldest first; tmac (EV2/EV3): "key" (16 bytes hex,
 *   the AppTransactionMACKey), "key_version", "data" (TMC (LE32) || TMV,
 *   12 bytes hex)}.
 * Only committed state is stored: an interrupted commit is finished before
 * saving (what the card does at its next power-up), and what was not
 * committed is gone, as when power is lost.
 */
#include <stdlib.h>
#include <string.h>

#include "cardsim_engine.h"
#include "desfire_sim.h"
#include "keys/base/ct.h"

void df_file_clear(struct df_file *f)
{
    if (f->data)
        leal_wipe(f->data, f->size);
    free(f->data);
    free(f->work);
    free(f->recs);
    free(f->work_rec);
    memset(f, 0, sizeof *f);
}

void df_app_clear(struct df_app *a)
{
    for (int i = 0; i < DF_MAX_FILES; i++)
        df_file_clear(&a->files[i]);
    leal_wipe(a, sizeof *a);
}

static const char *const keytype_names[] = {"des", "3k3des", "aes"};
static const char *const ftype_names[] = {"std", "backup", "value", "linear", "cyclic", "tmac"};

static int name_index(const char *const *names, size_t n, json_t *j)
{
    if (!json_is_string(j))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], json_string_value(j)) == 0)
            return (int)i;
    return -1;
}

#define SET(obj, k, v)                                                                             \
    do {                                                                                           \
        json_t *v_ = (v);                                                                          \
        if (v_ == NULL || json_object_set_new((obj), (k), v_) != 0)                                \
            goto nomem;                                                                            \
    } while (0)

static json_t *file_to_json(const struct df_file *f, int no)
{
    json_t *o = json_object(), *arr;
    if (o == NULL)
        return NULL;
    SET(o, "no", json_integer(no));
    SET(o, "type", json_string(ftype_names[f->type]));
    SET(o, "comm", json_integer(f->comm));
    SET(o, "access", json_integer(f->ar));
    if (f->has_fid)
        SET(o, "iso_fid", json_integer(f->fid));
    switch (f->type) {
    case DF_FILE_STD:
    case DF_FILE_BACKUP:
        SET(o, "size", json_integer(f->size));
        SET(o, "data", cardsim_json_hex(f->data, f->size));
        break;
    case DF_FILE_VALUE:
        SET(o, "lower", json_integer(f->lower));
        SET(o, "upper", json_integer(f->upper));
        SET(o, "value", json_integer(f->value));
        SET(o, "limited_credit", json_integer(f->lc_options));
        SET(o, "limited_credit_value", json_integer(f->lc_value));
        SET(o, "limited_credit_available", json_boolean(f->lc_available));
        break;
    case DF_FILE_TMAC:
        SET(o, "key", cardsim_json_hex(f->tm_key, 16));
        SET(o, "key_version", json_integer(f->tm_key_version));
        SET(o, "data", cardsim_json_hex(f->data, f->size));
        break;
    default:
        SET(o, "record_size", json_integer(f->rec_size));
        SET(o, "max_records", json_integer(f->max_recs));
        if ((arr = json_array()) == NULL || json_object_set_new(o, "records", arr) != 0)
            goto nomem;
        for (uint32_t i = 0; i < f->count; i++) {
            json_t *h = cardsim_json_hex(f->recs + (size_t)i * f->rec_size, f->rec_size);
            if (h == NULL || json_array_append_new(arr, h) != 0)
                goto nomem;
        }
        break;
    }
    return o;
nomem:
    json_decref(o);
    return NULL;
}

static json_t *app_to_json(const struct df_app *a)
{
    json_t *o = json_object(), *keys, *files;
    uint8_t aid[3] = {(uint8_t)(a->aid >> 16), (uint8_t)(a->aid >> 8), (uint8_t)a->aid};
    if (o == NULL)
        return NULL;
    SET(o, "aid", cardsim_json_hex(aid, 3));
    SET(o, "settings", json_integer(a->ks1));
    SET(o, "key_type", json_string(keytype_names[a->keytype]));
    if (a->has_fid)
        SET(o, "iso_fid", json_integer(a->fid));
    if (a->df_name_len)
        SET(o, "df_name", cardsim_json_hex(a->df_name, a->df_name_len));
    if ((keys = json_array()) == NULL || json_object_set_new(o, "keys", keys) != 0)
        goto nomem;
    for (int i = 0; i < a->nkeys; i++) {
        json_t *k = json_object();
        if (k == NULL || json_array_append_new(keys, k) != 0)
            goto nomem;
        SET(k, "key", cardsim_json_hex(a->keys[i].k, df_key_len(a->keytype)));
        if (a->keytype == DF_KEY_AES)
            SET(k, "version", json_integer(a->keys[i].version));
    }
    if ((files = json_array()) == NULL || json_object_set_new(o, "files", files) != 0)
        goto nomem;
    for (int i = 0; i < DF_MAX_FILES; i++) {
        json_t *f;
        if (!a->files[i].exists)
            continue;
        if ((f = file_to_json(&a->files[i], i)) == NULL || json_array_append_new(files, f) != 0)
            goto nomem;
    }
    return o;
nomem:
    json_decref(o);
    return NULL;
}

leal_err df_to_json(const void *state, json_t *root)
{
    const struct df_state *st = state;
    json_t *apps, *a;

    SET(root, "uid", cardsim_json_hex(st->uid, 7));
    SET(root, "random_uid", json_boolean(st->random_uid));
    SET(root, "format_disabled", json_boolean(st->format_disabled));
    SET(root, "capacity", json_integer(st->capacity));
    SET(root, "used", json_integer(st->used));
    SET(root, "batch", cardsim_json_hex(st->batch, 5));
    SET(root, "week", json_integer(st->week));
    SET(root, "year", json_integer(st->year));
    SET(root, "default_key", cardsim_json_hex(st->default_key.k, 24));
    SET(root, "default_key_version", json_integer(st->default_key_version));
    SET(root, "picc", app_to_json(&st->picc));
    if (st->has_sig)
        SET(root, "originality_signature", cardsim_json_hex(st->sig, DF_SIG_LEN));
    if ((apps = json_array()) == NULL || json_object_set_new(root, "apps", apps) != 0)
        goto nomem;
    for (int i = 0; i < DF_MAX_APPS; i++) {
        if (!st->apps[i].exists)
            continue;
        if ((a = app_to_json(&st->apps[i])) == NULL || json_array_append_new(apps, a) != 0)
            goto nomem;
    }
    return LEAL_OK;
nomem:
    return LEAL_E_NO_MEMORY;
}

static leal_err get_u(json_t *o, const char *name, long long lo, long long hi, uint32_t *v)
{
    long long x;
    leal_err err = cardsim_json_get_int(o, name, lo, hi, &x);
    if (err == LEAL_OK)
        *v = (uint32_t)x;
    return err;
}

/* A standard or backup file's size and data. */
static leal_err data_file_from_json(json_t *o, struct df_file *f)
{
    leal_err err;
    if ((err = get_u(o, "size", 1, LEAL_MAX_DESFIRE_MESSAGE, &f->size)) != LEAL_OK)
        return err;
    if ((f->data = calloc(1, f->size)) == NULL ||
        (f->type == DF_FILE_BACKUP && (f->work = calloc(1, f->size)) == NULL))
        return LEAL_E_NO_MEMORY;
    if ((err = cardsim_json_get_hex(o, "data", f->data, f->size, NULL)) != LEAL_OK)
        return err;
    if (f->work)
        memcpy(f->work, f->data, f->size);
    return LEAL_OK;
}

/* A value file's limits, value and limited-credit state. */
static leal_err value_file_from_json(json_t *o, struct df_file *f)
{
    long long x;
    uint32_t v;
    leal_err err;
    if ((err = cardsim_json_get_int(o, "lower", INT32_MIN, INT32_MAX, &x)) != LEAL_OK)
        return err;
    f->lower = (int32_t)x;
    if ((err = cardsim_json_get_int(o, "upper", INT32_MIN, INT32_MAX, &x)) != LEAL_OK)
        return err;
    f->upper = (int32_t)x;
    if ((err = cardsim_json_get_int(o, "value", f->lower, f->upper, &x)) != LEAL_OK)
        return err;
    f->value = f->work_value = (int32_t)x;
    if ((err = get_u(o, "limited_credit", 0, 3, &v)) != LEAL_OK)
        return err;
    f->lc_options = (uint8_t)v;
    if ((err = cardsim_json_get_int(o, "limited_credit_value", 0, INT32_MAX, &x)) != LEAL_OK)
        return err;
    f->lc_value = (int32_t)x;
    if ((err = cardsim_json_get_bool(o, "limited_credit_available", &f->lc_available)) != LEAL_OK)
        return err;
    return f->lower > f->upper ? LEAL_E_FORMAT : LEAL_OK;
}

/* A linear or cyclic record file's shape and records, oldest first. */
static leal_err record_file_from_json(json_t *o, struct df_file *f)
{
    bool cyclic = f->type == DF_FILE_CYCLIC;
    leal_err err;
    json_t *j;
    if ((err = get_u(o, "record_size", 1, LEAL_MAX_DESFIRE_MESSAGE, &f->rec_size)) != LEAL_OK ||
        (err = get_u(o, "max_records", cyclic ? 2 : 1, LEAL_MAX_DESFIRE_MESSAGE, &f->max_recs)) !=
            LEAL_OK)
        return err;
    if ((uint64_t)f->rec_size * f->max_recs > LEAL_MAX_DESFIRE_MESSAGE)
        return LEAL_E_FORMAT;
    if ((f->recs = calloc(f->max_recs, f->rec_size)) == NULL ||
        (f->work_rec = calloc(1, f->rec_size)) == NULL)
        return LEAL_E_NO_MEMORY;
    j = json_object_get(o, "records");
    if (!json_is_array(j) || json_array_size(j) > (cyclic ? f->max_recs - 1 : f->max_recs))
        return LEAL_E_FORMAT;
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *wrap = json_pack("{sO}", "r", json_array_get(j, i));
        if (wrap == NULL)
            return LEAL_E_NO_MEMORY;
        err = cardsim_json_get_hex(wrap, "r", f->recs + i * f->rec_size, f->rec_size, NULL);
        json_decref(wrap);
        if (err != LEAL_OK)
            return err;
    }
    f->count = (uint32_t)json_array_size(j);
    return LEAL_OK;
}

/* A TransactionMAC file: its key, the key's version and TMC || TMV. */
static leal_err tmac_file_from_json(json_t *o, struct df_app *a, struct df_file *f)
{
    uint32_t v;
    leal_err err;
    for (int i = 0; i < DF_MAX_FILES; i++)
        if (&a->files[i] != f && a->files[i].exists && a->files[i].type == DF_FILE_TMAC)
            return LEAL_E_FORMAT; /* one per application */
    f->size = 12;
    if ((f->data = calloc(1, f->size)) == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = cardsim_json_get_hex(o, "key", f->tm_key, 16, NULL)) != LEAL_OK ||
        (err = get_u(o, "key_version", 0, 0xFF, &v)) != LEAL_OK ||
        (err = cardsim_json_get_hex(o, "data", f->data, f->size, NULL)) != LEAL_OK)
        return err;
    f->tm_key_version = (uint8_t)v;
    return LEAL_OK;
}

static leal_err file_from_json(json_t *o, struct df_app *a)
{
    uint32_t no, comm, ar, v;
    struct df_file *f;
    int type;
    leal_err err;

    if (!json_is_object(o))
        return LEAL_E_FORMAT;
    if ((err = get_u(o, "no", 0, DF_MAX_FILES - 1, &no)) != LEAL_OK ||
        (err = get_u(o, "comm", 0, 3, &comm)) != LEAL_OK ||
        (err = get_u(o, "access", 0, 0xFFFF, &ar)) != LEAL_OK)
        return err;
    if ((type = name_index(ftype_names, 6, json_object_get(o, "type"))) < 0 || comm == 2)
        return LEAL_E_FORMAT;
    f = &a->files[no];
    if (f->exists)
        return LEAL_E_FORMAT;
    f->exists = true;
    f->type = (uint8_t)type;
    f->comm = (uint8_t)comm;
    f->ar = (uint16_t)ar;
    if (json_object_get(o, "iso_fid")) {
        if ((err = get_u(o, "iso_fid", 0, 0xFFFF, &v)) != LEAL_OK)
            return err;
        f->has_fid = true;
        f->fid = (uint16_t)v;
    }
    if (type == DF_FILE_STD || type == DF_FILE_BACKUP)
        return data_file_from_json(o, f);
    if (type == DF_FILE_VALUE)
        return value_file_from_json(o, f);
    if (type == DF_FILE_TMAC)
        return tmac_file_from_json(o, a, f);
    return record_file_from_json(o, f);
}

static leal_err app_from_json(json_t *o, struct df_app *a, bool picc)
{
    uint8_t aid[3];
    uint32_t v;
    int kt;
    leal_err err;
    json_t *keys, *files;

    if (!json_is_object(o))
        return LEAL_E_FORMAT;
    if ((err = cardsim_json_get_hex(o, "aid", aid, 3, NULL)) != LEAL_OK ||
        (err = get_u(o, "settings", 0, 255, &v)) != LEAL_OK)
        return err;
    a->exists = true;
    a->aid = (uint32_t)aid[0] << 16 | (uint32_t)aid[1] << 8 | aid[2];
    if ((a->aid == 0) != picc)
        return LEAL_E_FORMAT;
    a->ks1 = (uint8_t)v;
    if ((kt = name_index(keytype_names, 3, json_object_get(o, "key_type"))) < 0)
        return LEAL_E_FORMAT;
    a->keytype = (uint8_t)kt;
    if (json_object_get(o, "iso_fid")) {
        if ((err = get_u(o, "iso_fid", 0, 0xFFFF, &v)) != LEAL_OK)
            return err;
        a->has_fid = true;
        a->fid = (uint16_t)v;
    }
    if (json_object_get(o, "df_name") &&
        ((err = cardsim_json_get_hex(o, "df_name", a->df_name, 16, &a->df_name_len)) != LEAL_OK ||
         a->df_name_len == 0))
        return LEAL_E_FORMAT;
    keys = json_object_get(o, "keys");
    if (!json_is_array(keys) || json_array_size(keys) < 1 ||
        json_array_size(keys) > (picc ? 1 : DF_MAX_KEYS))
        return LEAL_E_FORMAT;
    a->nkeys = (uint8_t)json_array_size(keys);
    for (int i = 0; i < a->nkeys; i++) {
        json_t *k = json_array_get(keys, (size_t)i);
        if ((err = cardsim_json_get_hex(k, "key", a->keys[i].k, df_key_len(kt), NULL)) != LEAL_OK)
            return err;
        if (kt == DF_KEY_AES) {
            if ((err = get_u(k, "version", 0, 255, &v)) != LEAL_OK)
                return err;
            a->keys[i].version = (uint8_t)v;
        }
    }
    files = json_object_get(o, "files");
    if (files == NULL && picc)
        return LEAL_OK;
    if (!json_is_array(files) || (picc && json_array_size(files) > 0))
        return LEAL_E_FORMAT;
    for (size_t i = 0; i < json_array_size(files); i++)
        if ((err = file_from_json(json_array_get(files, i), a)) != LEAL_OK)
            return err;
    return LEAL_OK;
}

leal_err df_state_from_json(struct df_state *st, json_t *root)
{
    uint32_t v;
    json_t *apps;
    leal_err err;

    if ((err = cardsim_json_get_hex(root, "uid", st->uid, 7, NULL)) != LEAL_OK ||
        (err = cardsim_json_get_bool(root, "random_uid", &st->random_uid)) != LEAL_OK ||
        (err = cardsim_json_get_bool(root, "format_disabled", &st->format_disabled)) != LEAL_OK ||
        (err = get_u(root, "capacity", 0, 1 << 20, &st->capacity)) != LEAL_OK ||
        (err = get_u(root, "used", 0, st->capacity, &st->used)) != LEAL_OK ||
        (err = cardsim_json_get_hex(root, "batch", st->batch, 5, NULL)) != LEAL_OK ||
        (err = cardsim_json_get_hex(root, "default_key", st->default_key.k, 24, NULL)) != LEAL_OK)
        return err;
    if ((err = get_u(root, "week", 0, 255, &v)) != LEAL_OK)
        return err;
    st->week = (uint8_t)v;
    if ((err = get_u(root, "year", 0, 255, &v)) != LEAL_OK)
        return err;
    st->year = (uint8_t)v;
    if ((err = get_u(root, "default_key_version", 0, 255, &v)) != LEAL_OK)
        return err;
    st->default_key_version = (uint8_t)v;
    if (json_object_get(root, "originality_signature") != NULL) {
        if ((err = cardsim_json_get_hex(root, "originality_signature", st->sig, DF_SIG_LEN,
                                        NULL)) != LEAL_OK)
            return err;
        st->has_sig = true;
    }
    if ((err = app_from_json(json_object_get(root, "picc"), &st->picc, true)) != LEAL_OK)
        return err;
    if (st->picc.nkeys != 1)
        return LEAL_E_FORMAT;
    apps = json_object_get(root, "apps");
    if (!json_is_array(apps) || json_array_size(apps) > DF_MAX_APPS)
        return LEAL_E_FORMAT;
    for (size_t i = 0; i < json_array_size(apps); i++) {
        if ((err = app_from_json(json_array_get(apps, i), &st->apps[i], false)) != LEAL_OK)
            return err;
        for (size_t k = 0; k < i; k++)
            if (st->apps[k].aid == st->apps[i].aid)
                return LEAL_E_FORMAT;
    }
    return LEAL_OK;
}
