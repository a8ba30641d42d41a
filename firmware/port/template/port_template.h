/*
 * port_template.h - the template terminal port: firmware/core/port.h with
 * every function a stub that answers LEAL_E_UNSUPPORTED, compiled by make
 * test so the contract and its template never drift apart. A board port
 * starts as a copy of this folder: rename the prefix, fill each function as
 * its comment in port_template.c says, and keep the errors port.h lists.
 * Not a test double: nothing runs a terminal on it. Freestanding.
 */
#ifndef LEAL_PORT_TEMPLATE_H
#define LEAL_PORT_TEMPLATE_H

#include "firmware/core/port.h"

/* The template's port: every member set, every function unsupported. */
const struct terminal_port *port_template(void);

#endif
