/* card_view.c - the view both card types fill (card_view.h). */
#include "card_view.h"

bool card_view_is_desfire(const struct card_view *v)
{
    return v->kind >= IDENTITY_DESFIRE_EV1 && v->kind <= IDENTITY_DESFIRE_EV3;
}

void card_view_set_identity(struct card_view *v, const struct identity *id)
{
    v->card_id = id->card_id;
    v->issuer_id = id->issuer_id;
    v->program_id = id->program_id;
    v->kind = id->card_kind;
    v->key_set_version = id->key_set_version;
    v->identity_flags = id->flags;
    v->issued_day = id->issued_day;
    v->random_uid = (id->flags & IDENTITY_FLAG_RANDOM_UID) != 0;
    v->stored_value = card_view_is_desfire(v) || (id->flags & IDENTITY_FLAG_STORED_VALUE) != 0;
}
