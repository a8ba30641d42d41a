/* parse.c - ids and dates as people type them (parse.h). */
#include "parse.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

leal_err books_parse_id(const char *s, int64_t *v)
{
    char *end;
    long long x;
    *v = 0;
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return LEAL_E_NUMBER;
    x = strtoll(s, &end, 10);
    if (*end != '\0' || x <= 0 || x == LLONG_MAX)
        return LEAL_E_NUMBER;
    *v = x;
    return LEAL_OK;
}

leal_err books_parse_date(const char *s, int64_t *t)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm tm;
    int y, m, d;
    *t = 0;
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return LEAL_E_DATE;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return LEAL_E_DATE;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
        (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return LEAL_E_DATE;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    *t = (int64_t)timegm(&tm);
    return LEAL_OK;
}
