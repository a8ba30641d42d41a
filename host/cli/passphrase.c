/* passphrase.c - passphrase from file, environment or a no-echo prompt. */
#include "passphrase.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "host/file.h"
#include "keys/base/ct.h"

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

leal_err passphrase_get(const char *file, const char *env, const char *what, bool confirm,
                        struct passphrase *out)
{
    const char *value;
    leal_err err;

    memset(out, 0, sizeof *out);
    if (file) {
        uint8_t *data = NULL;
        size_t len = 0;
        if ((err = file_read(file, LEAL_MAX_PASSPHRASE + 2, &data, &len)) != LEAL_OK)
            return err;
        /* The first line only, so a trailing newline from an editor does not count. */
        err = take((const char *)data, strcspn((const char *)data, "\n"), out);
        leal_wipe(data, len);
        free(data);
    } else if (env && (value = getenv(env)) != NULL && value[0]) {
        err = take(value, strlen(value), out);
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
