/* desk_print.c - the desk card view in JSON (desk_print.h). */
#include "desk_print.h"

#include <stdio.h>

#include "cli.h"

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
    if (w->has_operations)
        print_operations_json(w);
    puts("}");
}
