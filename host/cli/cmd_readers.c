/* cmd_readers.c - `leal readers`: the card readers leal can use. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/reader/reader.h"

static const char readers_usage[] =
    "usage: leal readers [--json]\n"
    "\n"
    "Lists the card readers leal can use, as specs for --reader:\n"
    "  pcsc:NAME      PC/SC readers known to pcscd\n"
    "  sim:CARD-FILE  a virtual card file (leal-cardsim new), never listed\n"
    "Readers named \"Virtual PCD\" are vsmartcard's vpcd test readers, which listen on\n"
    "the network; leal uses them only with --allow-virtual.\n";

int cmd_readers(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct reader_entry *list;
    size_t n = 0;
    int json = 0, c;
    leal_err err;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j') {
            json = 1;
        } else if (c == 'h') {
            fputs(readers_usage, stdout);
            return CLI_EXIT_OK;
        } else {
            return cli_usage("readers: unknown option");
        }
    }
    if (optind < argc)
        return cli_usage("readers: unexpected argument '%s'", argv[optind]);
    if ((list = calloc(READER_MAX_LIST, sizeof *list)) == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "listing readers");
    if ((err = reader_list(list, READER_MAX_LIST, &n)) != LEAL_OK) {
        free(list);
        return cli_fail(err, "listing readers");
    }
    if (json) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"spec\":", i ? "," : "");
            cli_json_string(stdout, list[i].spec);
            printf(",\"name\":");
            cli_json_string(stdout, list[i].name);
            printf(",\"virtual\":%s,\"card_present\":%s}", list[i].is_virtual ? "true" : "false",
                   list[i].card_present ? "true" : "false");
        }
        printf("]\n");
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%s%s%s\n", list[i].spec,
                   list[i].is_virtual ? "  (virtual: --allow-virtual)" : "",
                   list[i].card_present ? "  [card present]" : "");
        if (n == 0)
            fputs("leal: no card readers found (is pcscd running and a reader plugged in?)\n",
                  stderr);
    }
    free(list);
    return CLI_EXIT_OK;
}
