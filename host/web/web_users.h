/*
 * web_users.h - the users page's API: admins manage every user; a manager
 * manages the staff and managers whose stores are all among their own, and
 * gives only their own stores (the role table). Each change is
 * audited in the transaction that makes it; a change of role or stores, a
 * disable and a new password end the user's sessions (host/ledger/
 * ledger_user.h). No one changes their own role or stores or disables
 * themselves (LEAL_E_WEB_SELF, 409). Hosted; uses jansson.
 */
#ifndef LEAL_WEB_USERS_H
#define LEAL_WEB_USERS_H

#include <jansson.h>

#include "host/web/web_api.h"

/* {"id","name","role","lang","email","disabled","stores"} of u ("email": ""
 * without one). */
json_t *web_user_json(const struct ledger_user *u);

/* GET /api/users: every user (an admin), the users a manager manages. */
void web_users_list(struct web_req *r);
/* POST /api/users {"name","password","role","stores":[ids],"lang"?,"email"?}:
 * 201. */
void web_user_create(struct web_req *r);
/* PUT /api/users/:id {"role","stores":[ids]}: ledger_user_set_role. */
void web_user_role(struct web_req *r);
/* POST /api/users/:id {"disabled": bool} and/or {"password": text}. */
void web_user_change(struct web_req *r);
/* PUT /api/users/:id/email {"email": an address, or "" for none}: the address
 * a forgotten password's link goes to (web_reset.h), checked as `leal user
 * set --email` checks it (else 400 LEAL_E_MAIL_ADDRESS), audited as
 * user.email with before and after; the user's sessions stay. */
void web_user_email(struct web_req *r);

#endif
