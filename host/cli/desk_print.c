/* desk_print.c - the desk card view in JSON (desk_print.h). */
#include "desk_print.h"

#include <stdio.h>

#include "cli.h"
#include "ledger_cli.h"

static void print_operations_json(const struct desk_card_view *w)
{
    fputs(",\"last_operations\":[", stdout);
    for (int i = 0; i < w->noperations; i++) {
        const struct ledger_movement *m = &w->operations[i].movement;
        printf("%s{\"entry\":%lld,\"at\":%lld,\"kind\":\"%s\",\"asset\":", i ? "," : "",
               (long long)m->entry_id, (long long)m->at, m->kind);
        cli_json_string(stdout, m->asset);
        printf(",\"amount\":%lld,\"reason\":", (long long)m->amount);
        cli_json_string(stdout, m->reason);
        putchar('}');
    }
    putchar(']');
}

/* The card's bonos (LAYOUT.md 4.2): kind id, its name (null when the rule
 * set no longer has it), sessions left, last day (null: none). */
static void print_bonos_json(const struct desk_card_view *w)
{
    fputs(",\"bonos\":[", stdout);
    for (int i = 0; i < w->nbonos; i++) {
        const struct desk_view_bono *b = &w->bonos[i];
        printf("%s{\"id\":%u,\"name\":", i ? "," : "", b->id);
        if (b->name[0])
            cli_json_string(stdout, b->name);
        else
            fputs("null", stdout);
        printf(",\"sessions\":%u,\"last_day\":", b->sessions);
        if (b->last_day[0])
            printf("\"%s\"", b->last_day);
        else
            fputs("null", stdout);
        putchar('}');
    }
    putchar(']');
}

void desk_print_json(const struct desk_card_view *w)
{
    printf("{\"result\":\"%s\",\"card_id\":%lld,\"technology\":\"%s\",\"uid\":\"%s\","
           "\"random_uid\":%s,\"account_id\":%lld,\"gift_card\":%s,\"status\":\"%s\","
           "\"purse_cents\":%d,"
           "\"points\":%u,\"stamps\":[%u,%u,%u,%u],\"tier\":%u,\"state_seq\":%u,"
           "\"taps\":%u,\"ledger_eur_cents\":%lld,\"ledger_points\":%lld,\"agrees\":%s,"
           "\"difference\":",
           w->result, (long long)w->card_id, w->technology, w->uid,
           w->random_uid ? "true" : "false", (long long)w->account_id,
           w->gift_card ? "true" : "false", w->status, w->purse_cents, w->points, w->stamps[0],
           w->stamps[1], w->stamps[2], w->stamps[3], w->tier, w->state_seq, w->taps,
           (long long)w->ledger_eur_cents, (long long)w->ledger_points,
           w->agrees ? "true" : "false");
    cli_json_string(stdout, w->difference);
    printf(",\"stored_value\":%s,\"recovered_topups\":%d,\"dropped_topups\":%d,"
           "\"keys_updated\":%d,\"synced_points\":%lld,\"round_trips\":%u,\"bytes\":%lu",
           w->stored_value ? "true" : "false", w->recovered_topups, w->dropped_topups,
           w->keys_updated, (long long)w->synced_points, w->round_trips, w->bytes);
    printf(",\"layout_version\":%u,\"upgraded\":%s", w->layout_version,
           w->upgraded ? "true" : "false");
    print_bonos_json(w);
    printf(",\"bonos_settled\":%d,\"bonos_dropped\":%d,\"offline_sessions\":%lld", w->bonos_settled,
           w->bonos_dropped, (long long)w->offline_sessions);
    if (w->bono_op)
        printf(",\"bono\":{\"id\":%u,\"cents\":%lld,\"ledger_sessions\":%lld}", w->bono_id,
               (long long)w->bono_cents, (long long)w->bono_held);
    if (w->has_tmc)
        printf(",\"tmc\":%u", w->tmc);
    if (w->tmac_key_version)
        printf(",\"tmac_key_version\":%u", w->tmac_key_version);
    if (w->has_operations)
        print_operations_json(w);
    if (w->has_waiting && w->waiting_err == LEAL_OK && w->waiting)
        lcli_host_change_print(&w->change, true, ",\"waiting\":");
    else if (w->has_waiting)
        fputs(",\"waiting\":null", stdout);
    puts("}");
}
