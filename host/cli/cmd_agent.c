/* cmd_agent.c - `leal agent start|status|stop`: the desk agent, which unlocks
 * the keystore once for the card commands of a working day
 * (host/agent/agent_server.h: what it holds, for how long, and for whom). */
#define _GNU_SOURCE /* close_range */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "host/agent/agent_client.h"
#include "host/agent/agent_server.h"
#include "host/agent/agent_sock.h"
#include "host/books/books.h"
#include "host/file.h"
#include "ledger_cli.h"
#include "host/keys/passphrase.h"

enum { A_KEYSTORE, A_PASSFILE, A_PROGRAM, A_IDLE, A_JSON, A_COUNT };

static const char agent_usage[] =
    "usage: leal agent start [--keystore PATH] [--passphrase-file FILE] [--program ID]\n"
    "                        [--idle SECONDS] [--json]\n"
    "       leal agent status [--json]\n"
    "       leal agent stop [--json]\n"
    "\n"
    "The desk agent unlocks the keystore once and gives the card commands of the same\n"
    "user (leal card issue, read, top-up, replace, sync, erase) the keys of one program,\n"
    "so they ask for no passphrase and skip the unlock. It holds only that program's card\n"
    "keys, in locked memory, and forgets them (it ends) after --idle seconds without a\n"
    "card command (default 900), on 'leal agent stop', or when the keystore changes.\n"
    "Its socket is $XDG_RUNTIME_DIR/leal/agent.sock (else in the data folder), mode 0600\n"
    "in a folder of mode 0700; it answers no other user. Card commands unlock the\n"
    "keystore themselves when no agent runs.\n";

struct agent_start {
    char keystore[PATH_MAX];
    char sock[AGENT_SOCK_PATH_MAX];
    uint32_t program;
    unsigned idle;
    bool json;
};

static int sock_fail(leal_err err)
{
    if (err == LEAL_E_PERMISSION)
        return cli_error(err, CLI_EXIT_FAIL,
                         "the agent's folder ($XDG_RUNTIME_DIR/leal or the data folder's "
                         "leal/agent) is not private: it must be a folder of yours with mode "
                         "0700 (chmod 700 it, or remove it)");
    return cli_fail(err, "the agent's socket");
}

static int start_options(const struct lcli_opt *o, struct agent_start *a)
{
    char path[PATH_MAX];
    int64_t v;
    if (o[A_PROGRAM].val) {
        if (lcli_id(o[A_PROGRAM].val, &v) != LEAL_OK || v > 4294967295LL)
            return cli_usage("bad --program '%s'", o[A_PROGRAM].val);
        a->program = (uint32_t)v;
    }
    a->idle = AGENT_SERVER_IDLE_DEFAULT;
    if (o[A_IDLE].val) {
        if (lcli_id(o[A_IDLE].val, &v) != LEAL_OK || v > AGENT_SERVER_IDLE_MAX)
            return cli_usage("bad --idle '%s' (seconds, 1..%u)", o[A_IDLE].val,
                             AGENT_SERVER_IDLE_MAX);
        a->idle = (unsigned)v;
    }
    if (o[A_KEYSTORE].val)
        snprintf(path, sizeof path, "%s", o[A_KEYSTORE].val);
    else if (file_default_path("keystore", path, sizeof path) != LEAL_OK)
        return cli_usage("no --keystore given and neither XDG_DATA_HOME nor HOME is set");
    if (realpath(path, a->keystore) == NULL)
        return cli_error(LEAL_E_NOT_FOUND, CLI_EXIT_USAGE,
                         "keystore %s: not found; name it with --keystore or create one with "
                         "'leal keys init'",
                         path);
    return 0;
}

/* The default ledger held open while the agent serves, or NULL (none yet, or
 * one this leal cannot open: the agent's work is the keys, this is a saving).
 * In WAL mode the last connection to close checkpoints the WAL into the file
 * and deletes it and the -shm, and the next one makes them again; with every
 * desk command a process of its own, each paid that: a new WAL, its header
 * and folder synced, at its close two more syncs for the checkpoint (5 syncs
 * for one small commit, 1 of them the commit's). While the agent's connection
 * stays open a command's commit is its own one WAL sync (synchronous=FULL
 * unchanged: committed means on disk), and SQLite checkpoints every 1000
 * pages as usual. The agent closes last when it ends: the ledger file is
 * whole again, no -wal beside it. A PostgreSQL ledger (LEAL_DB) has no such
 * cost, and a connection held idle for the agent's life would only take one
 * of the server's: none is held there. */
static struct ledger *hold_books(void)
{
    struct ledger *l = NULL;
    struct books_where where;
    const char *db = getenv("LEAL_DB");
    if (db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0))
        return NULL;
    if (books_open(NULL, false, &l, &where) != LEAL_OK)
        return NULL;
    return l;
}

/* The agent's process: unlocks, tells the parent through fd, serves. Never returns. */
static void agent_child(const struct agent_start *a, struct passphrase *pass, int fd)
{
    struct agent_server_config cfg = {.keystore_path = a->keystore,
                                      .program_id = a->program,
                                      .idle_seconds = a->idle,
                                      .socket_path = a->sock};
    struct agent_server *s = NULL;
    struct ledger *books;
    enum agent_server_end end;
    uint32_t msg[2] = {0, 0};
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    /* Nothing of the caller's kept open: a pipe reading our output must end. */
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
    }
    if (fd > 3)
        close_range(3, (unsigned)fd - 1, 0);
    close_range((unsigned)fd + 1, ~0u, 0);
    setsid();
    msg[0] = (uint32_t)agent_server_open(&cfg, pass->text, pass->len, &s);
    passphrase_clear(pass);
    if (s)
        msg[1] = agent_server_program(s);
    if (write(fd, msg, sizeof msg) != (ssize_t)sizeof msg || s == NULL) {
        agent_server_close(s);
        _exit(CLI_EXIT_FAIL);
    }
    close(fd);
    books = hold_books();
    msg[0] = (uint32_t)agent_server_run(s, &end);
    ledger_close(books); /* before the socket goes: agent_client_stop waits for that */
    agent_server_close(s);
    _exit(msg[0] == LEAL_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL);
}

static int start_report(const struct agent_start *a, pid_t pid, const uint32_t msg[2])
{
    leal_err err = (leal_err)msg[0];
    if (err == LEAL_E_USAGE)
        return cli_usage("the keystore holds several programs; name one with --program");
    if (err == LEAL_E_UNKNOWN_PROGRAM)
        return cli_fail(err, "program %u", a->program);
    if (err == LEAL_E_EXISTS)
        return cli_error(err, CLI_EXIT_FAIL, "an agent already runs; 'leal agent stop' ends it");
    if (err != LEAL_OK)
        return cli_fail(err, "keystore %s", a->keystore);
    if (a->json) {
        printf("{\"pid\":%ld,\"program\":%u,\"idle_seconds\":%u,\"socket\":", (long)pid, msg[1],
               a->idle);
        cli_json_string(stdout, a->sock);
        printf(",\"keystore\":");
        cli_json_string(stdout, a->keystore);
        printf("}\n");
    } else {
        printf("agent started (pid %ld): program %u of %s; it forgets the keys after %u s "
               "without a card command ('leal agent stop' ends it now)\n",
               (long)pid, msg[1], a->keystore, a->idle);
    }
    return CLI_EXIT_OK;
}

static int agent_start_cmd(const struct lcli_opt *o)
{
    struct agent_start a = {.json = o[A_JSON].val != NULL};
    struct agent_status st;
    struct passphrase pass;
    uint32_t msg[2] = {(uint32_t)LEAL_E_INTERNAL, 0};
    int fds[2], rc;
    pid_t pid;
    leal_err err;

    if ((rc = start_options(o, &a)) != 0)
        return rc;
    if ((err = agent_sock_path(true, a.sock)) != LEAL_OK)
        return sock_fail(err);
    if (agent_client_status(&st) == LEAL_OK)
        return cli_error(LEAL_E_EXISTS, CLI_EXIT_FAIL,
                         "an agent already runs (pid %u, program %u); 'leal agent stop' ends it",
                         st.pid, st.program_id);
    if ((err = passphrase_get(o[A_PASSFILE].val, "LEAL_PASSPHRASE", "keystore", false, &pass)) !=
        LEAL_OK)
        return cli_passphrase_fail(err, o[A_PASSFILE].val, "--passphrase-file", "LEAL_PASSPHRASE",
                                   "keystore");
    fflush(NULL);
    if (pipe2(fds, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
        passphrase_clear(&pass);
        return cli_fail(LEAL_E_IO, "starting the agent");
    }
    if (pid == 0) {
        close(fds[0]);
        agent_child(&a, &pass, fds[1]);
    }
    passphrase_clear(&pass);
    close(fds[1]);
    while (read(fds[0], msg, sizeof msg) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    return start_report(&a, pid, msg);
}

static int agent_status_cmd(bool json)
{
    struct agent_status st;
    leal_err err = agent_client_status(&st);
    if (err == LEAL_E_NOT_FOUND) {
        printf(json ? "{\"running\":false}\n" : "no agent runs\n");
        return CLI_EXIT_FAIL;
    }
    if (err == LEAL_E_PERMISSION)
        return sock_fail(err);
    if (err != LEAL_OK)
        return cli_fail(err, "asking the agent");
    if (json) {
        printf("{\"running\":true,\"pid\":%u,\"program\":%u,\"roles\":%u,\"idle_seconds\":%u,"
               "\"forgets_in\":%u,\"keystore\":",
               st.pid, st.program_id, st.roles, st.idle_limit, st.idle_left);
        cli_json_string(stdout, st.path);
        printf("}\n");
    } else {
        printf("agent running (pid %u): program %u of %s, %u card roles held; it forgets them "
               "in %u s without a card command (idle limit %u s)\n",
               st.pid, st.program_id, st.path, st.roles, st.idle_left, st.idle_limit);
    }
    return CLI_EXIT_OK;
}

static int agent_stop_cmd(bool json)
{
    char sock[AGENT_SOCK_PATH_MAX];
    leal_err err = agent_client_stop();
    if (err == LEAL_E_NOT_FOUND) {
        printf(json ? "{\"stopped\":false}\n" : "no agent runs\n");
        return CLI_EXIT_FAIL;
    }
    if (err == LEAL_E_PERMISSION)
        return sock_fail(err);
    if (err != LEAL_OK)
        return cli_fail(err, "stopping the agent");
    /* The keys are wiped once it answers; wait (3 s at most) for its socket to go too. */
    for (int i = 0; i < 300 && agent_sock_path(false, sock) == LEAL_OK && access(sock, F_OK) == 0;
         i++)
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    printf(json ? "{\"stopped\":true}\n" : "agent stopped; its keys are wiped\n");
    return CLI_EXIT_OK;
}

int cmd_agent(int argc, char **argv)
{
    struct lcli_opt o[A_COUNT] = {
        [A_KEYSTORE] = {.name = "keystore"},
        [A_PASSFILE] = {.name = "passphrase-file"},
        [A_PROGRAM] = {.name = "program"},
        [A_IDLE] = {.name = "idle"},
        [A_JSON] = {.name = "json", .is_flag = true},
    };
    const char *pos[1];
    size_t npos;
    int rc;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(agent_usage, stdout);
            return CLI_EXIT_OK;
        }
    npos = 1;
    if ((rc = lcli_parse(argc, argv, o, A_COUNT, pos, &npos)) != 0)
        return rc;
    if (npos == 0)
        return cli_usage("agent needs start, status or stop");
    if (strcmp(pos[0], "start") == 0)
        return agent_start_cmd(o);
    if (o[A_KEYSTORE].val || o[A_PASSFILE].val || o[A_PROGRAM].val || o[A_IDLE].val)
        return cli_usage("agent %s takes only --json", pos[0]);
    if (strcmp(pos[0], "status") == 0)
        return agent_status_cmd(o[A_JSON].val != NULL);
    if (strcmp(pos[0], "stop") == 0)
        return agent_stop_cmd(o[A_JSON].val != NULL);
    return cli_usage("unknown agent command '%s' (start, status or stop)", pos[0]);
}
