/* passphrase.c - passphrase from file, environment or a no-echo prompt. */
#include "passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "keys/base/ct.h"
#include "keys/hosted/secmem.h"

extern char **environ;

/* LEAL_*PASSPHRASE variables, moved here from the environment at start. */
#define ENV_SLOTS 8
struct env_slot {
    char name[64];
    struct passphrase p;
    bool too_long;
};
static struct env_slot *env_slots;

static leal_err take(const char *s, size_t n, struct passphrase *out)
{
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n > LEAL_MAX_PASSPHRASE)
        return LEAL_E_TOO_LARGE;
    memcpy(out->text, s, n);
    out->text[n] = '\0';
    out->len = n;
    return LEAL_OK;
}

void passphrase_forget_env(void)
{
    secmem_free(env_slots);
    env_slots = NULL;
}

static bool is_passphrase_var(const char *e, size_t name_len)
{
    static const char suffix[] = "PASSPHRASE";
    const size_t sl = sizeof suffix - 1;
    return name_len >= 5 + sl && strncmp(e, "LEAL_", 5) == 0 &&
           strncmp(e + name_len - sl, suffix, sl) == 0;
}

void passphrase_take_env(void)
{
    char name[64];
    int n = 0;
    for (size_t i = 0; environ && environ[i];) {
        char *e = environ[i], *eq = strchr(e, '=');
        size_t name_len = eq ? (size_t)(eq - e) : 0;
        if (eq == NULL || !is_passphrase_var(e, name_len)) {
            i++;
            continue;
        }
        if (env_slots == NULL && (env_slots = secmem_alloc(ENV_SLOTS * sizeof *env_slots)))
            atexit(passphrase_forget_env);
        if (env_slots && n < ENV_SLOTS && name_len < sizeof env_slots[n].name) {
            struct env_slot *s = &env_slots[n++];
            memcpy(s->name, e, name_len);
            s->too_long = take(eq + 1, strlen(eq + 1), &s->p) != LEAL_OK;
        }
        /* Overwrite the bytes themselves: /proc/PID/environ shows the
         * original block, which unsetenv() leaves as it was. */
        leal_wipe(eq + 1, strlen(eq + 1));
        snprintf(name, sizeof name, "%.*s", (int)name_len, e);
        if (name_len >= sizeof name || unsetenv(name) != 0)
            i++; /* cannot unset (absurd name): its value is wiped anyway */
        /* unsetenv moved the later entries down: look at index i again. */
    }
}

static const struct env_slot *env_find(const char *env)
{
    for (int i = 0; env && env_slots && i < ENV_SLOTS; i++)
        if (env_slots[i].name[0] && strcmp(env_slots[i].name, env) == 0)
            return &env_slots[i];
    return NULL;
}

static leal_err prompt(const char *text, struct passphrase *out)
{
    struct termios old, noecho;
    char line[LEAL_MAX_PASSPHRASE + 2];
    FILE *tty = fopen("/dev/tty", "r+");
    leal_err err = LEAL_OK;
    if (tty == NULL)
        return LEAL_E_NO_PASSPHRASE;
    fputs(text, tty);
    fflush(tty);
    if (tcgetattr(fileno(tty), &old) != 0) {
        fclose(tty);
        return LEAL_E_NO_PASSPHRASE;
    }
    noecho = old;
    noecho.c_lflag &= (tcflag_t)~ECHO;
    tcsetattr(fileno(tty), TCSAFLUSH, &noecho);
    if (fgets(line, sizeof line, tty) == NULL)
        err = LEAL_E_NO_PASSPHRASE;
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    if (err == LEAL_OK)
        err = take(line, strlen(line), out);
    leal_wipe(line, sizeof line);
    return err;
}

/* The first line of a file or pipe, read no further than it needs. */
static leal_err from_file(const char *file, struct passphrase *out)
{
    char buf[LEAL_MAX_PASSPHRASE + 2]; /* the longest line, a CR and one byte more */
    size_t got = 0, line;
    struct stat st;
    leal_err err = LEAL_OK;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? LEAL_E_NOT_FOUND
               : errno == EACCES                   ? LEAL_E_PERMISSION
                                                   : LEAL_E_IO;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        return LEAL_E_IO;
    }
    while (got < sizeof buf && memchr(buf, '\n', got) == NULL) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = LEAL_E_IO;
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (err == LEAL_OK) {
        const char *nl = memchr(buf, '\n', got);
        line = nl ? (size_t)(nl - buf) : got;
        if (nl == NULL && got == sizeof buf)
            err = LEAL_E_TOO_LARGE;
        else if (memchr(buf, '\0', line) != NULL)
            err = LEAL_E_FORMAT; /* would silently cut the passphrase short */
        else
            err = take(buf, line, out);
    }
    leal_wipe(buf, sizeof buf);
    return err;
}

leal_err passphrase_get(const char *file, const char *env, const char *what, bool confirm,
                        struct passphrase *out)
{
    const struct env_slot *slot;
    leal_err err;

    memset(out, 0, sizeof *out);
    if (file) {
        err = from_file(file, out);
    } else if ((slot = env_find(env)) != NULL && (slot->p.len > 0 || slot->too_long)) {
        err = slot->too_long ? LEAL_E_TOO_LARGE : LEAL_OK;
        if (err == LEAL_OK)
            *out = slot->p;
    } else {
        char text[128];
        struct passphrase again;
        snprintf(text, sizeof text, "%s passphrase: ", what);
        if ((err = prompt(text, out)) != LEAL_OK)
            return err;
        if (confirm) {
            snprintf(text, sizeof text, "%s passphrase again: ", what);
            if ((err = prompt(text, &again)) != LEAL_OK)
                return err;
            if (again.len != out->len || !leal_ct_equal(again.text, out->text, out->len))
                err = LEAL_E_PASSPHRASE;
            passphrase_clear(&again);
        }
    }
    if (err == LEAL_OK && confirm && out->len < PASSPHRASE_MIN)
        err = LEAL_E_ARG;
    if (err == LEAL_OK && out->len == 0)
        err = LEAL_E_NO_PASSPHRASE;
    if (err != LEAL_OK)
        passphrase_clear(out);
    return err;
}

void passphrase_clear(struct passphrase *p)
{
    leal_wipe(p, sizeof *p);
}
