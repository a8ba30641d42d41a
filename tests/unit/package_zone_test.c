/* package_zone_test.c - a store's zone as package rules (host/package/
 * package_zone.h, PACKAGE.md "Site"): POSIX TZ strings parsed exactly or
 * refused, and for real tz database zones the offset a terminal computes
 * offline (package_local_offset) equals glibc's localtime_r in that zone at
 * every hour of 2000 (2009 where today's rules began later) to 2037 and at
 * both sides of every transition, to the second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "host/package/package_zone.h"

static void parse_ok(const char *s, int16_t std, int16_t dst, const char *rules)
{
    struct package_zone z;
    char got[64] = "";
    if (package_zone_parse(s, strlen(s), &z) != LEAL_OK)
        fail_msg("%s refused", s);
    assert_int_equal(z.std_minutes, std);
    assert_int_equal(z.dst_minutes, dst);
    if (z.has_dst)
        snprintf(got, sizeof got, "%u.%u.%u/%d,%u.%u.%u/%d", z.start.month, z.start.week,
                 z.start.weekday, z.start.time_seconds, z.end.month, z.end.week, z.end.weekday,
                 z.end.time_seconds);
    assert_string_equal(got, rules);
}

static void test_parse(void **state)
{
    static const char *const bad[] = {"",
                                      "CET",
                                      "CE-1",
                                      "CET-1CEST",
                                      "CET-1CEST,M3.5.0",
                                      "CET-1CEST,J60,J300",
                                      "CET-1CEST,60,300",
                                      "CET-1CEST,M13.5.0,M10.5.0",
                                      "CET-1CEST,M3.6.0,M10.5.0",
                                      "CET-1CEST,M3.5.7,M10.5.0",
                                      "CET-1CEST,M3.5.0,M10.5.0/168",
                                      "CET-19",
                                      "CET-1:00:30",
                                      "CET-1CEST-1,M3.5.0,M10.5.0",
                                      "<+0>-1",
                                      "CET-1 ",
                                      "CET-1CEST,M3.5.0,M10.5.0x"};
    struct package_zone z;
    (void)state;
    parse_ok("CET-1CEST,M3.5.0,M10.5.0/3", 60, 120, "3.5.0/7200,10.5.0/10800");
    parse_ok("EST5EDT,M3.2.0,M11.1.0", -300, -240, "3.2.0/7200,11.1.0/7200");
    parse_ok("AEST-10AEDT,M10.1.0,M4.1.0/3", 600, 660, "10.1.0/7200,4.1.0/10800");
    parse_ok("IST-1GMT0,M10.5.0,M3.5.0/1", 60, 0, "10.5.0/7200,3.5.0/3600");
    parse_ok("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", -180, -120, "3.5.0/-7200,10.5.0/-3600");
    parse_ok("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 630, 660, "10.1.0/7200,4.1.0/7200");
    parse_ok("UTC0", 0, 0, "");
    parse_ok("<+0545>-5:45", 345, 345, "");
    parse_ok("PST8PDT,M3.2.0/2:00:00,M11.1.0/2:00:00", -480, -420, "3.2.0/7200,11.1.0/7200");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (package_zone_parse(bad[i], strlen(bad[i]), &z) != LEAL_E_ZONE_RULES)
            fail_msg("'%s' accepted", bad[i]);
}

/* glibc's offset in minutes at t in the zone TZ is set to. */
static int libc_offset(time_t t)
{
    struct tm tm;
    assert_non_null(localtime_r(&t, &tm));
    return (int)(tm.tm_gmtoff / 60);
}

static void compare_zone(const char *name, time_t from, time_t to)
{
    struct package_zone z;
    int16_t m;
    long checked = 0, transitions = 0;
    assert_int_equal(package_zone_lookup(name, &z), LEAL_OK);
    setenv("TZ", name, 1);
    tzset();
    /* Hourly from `from` to `to`, and each change found to the second. */
    int prev = -100000;
    for (time_t t = from; t < to; t += 3600) {
        int want = libc_offset(t);
        assert_int_equal(package_local_offset(&z, (uint64_t)t, &m), LEAL_OK);
        if (m != want)
            fail_msg("%s at %lld: %d, glibc %d", name, (long long)t, m, want);
        if (prev != -100000 && want != prev) {
            time_t lo = t - 3600, hi = t; /* the change is in (lo, hi] */
            while (hi - lo > 1) {
                time_t mid = lo + (hi - lo) / 2;
                if (libc_offset(mid) == prev)
                    lo = mid;
                else
                    hi = mid;
            }
            assert_int_equal(package_local_offset(&z, (uint64_t)lo, &m), LEAL_OK);
            assert_int_equal(m, prev);
            assert_int_equal(package_local_offset(&z, (uint64_t)hi, &m), LEAL_OK);
            assert_int_equal(m, want);
            transitions++;
        }
        prev = want;
        checked++;
    }
    print_message("%s: %ld hours, %ld transitions agree with glibc\n", name, checked, transitions);
    unsetenv("TZ");
    tzset();
}

/* Zones whose present rules held over the whole range (glibc uses the
 * historical data where rules changed, the package only today's). */
static void test_against_glibc(void **state)
{
    (void)state;
    const time_t y2000 = 946684800, y2009 = 1230768000, y2038 = 2145916800;
    compare_zone("Europe/Madrid", y2000, y2038);
    compare_zone("Europe/Lisbon", y2000, y2038);
    compare_zone("Asia/Tokyo", y2000, y2038);
    compare_zone("America/New_York", y2009, y2038);
    compare_zone("Australia/Sydney", y2009, y2038); /* south: the year wraps */
}

/* A zone's TZif footer, and what is refused: not TZif, version 1 (no
 * footer), no footer line, a name outside the database. */
static void test_tzif(void **state)
{
    static const char head[] = "TZif2";
    unsigned char buf[128];
    struct package_zone z;
    (void)state;
    memset(buf, 0, sizeof buf);
    memcpy(buf, head, 5);
    memcpy(buf + 60, "\nCET-1CEST,M3.5.0,M10.5.0/3\n", 28);
    assert_int_equal(package_zone_from_tzif(buf, 88, &z), LEAL_OK);
    assert_int_equal(z.std_minutes, 60);
    buf[4] = 0; /* version 1: no footer */
    assert_int_equal(package_zone_from_tzif(buf, 88, &z), LEAL_E_ZONE_RULES);
    buf[4] = '2';
    assert_int_equal(package_zone_from_tzif(buf, 87, &z), LEAL_E_ZONE_RULES); /* no final NL */
    buf[0] = 'X';
    assert_int_equal(package_zone_from_tzif(buf, 88, &z), LEAL_E_ZONE_RULES);
    assert_int_equal(package_zone_lookup("Europe/Nowhere", &z), LEAL_E_TIMEZONE);
    assert_int_equal(package_zone_lookup("../etc/passwd", &z), LEAL_E_TIMEZONE);
    assert_int_equal(package_zone_lookup("America/New_York", &z), LEAL_OK);
    assert_int_equal(z.std_minutes, -300);
    assert_int_equal(z.start.month, 3);
    assert_int_equal(z.start.week, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_tzif),
        cmocka_unit_test(test_against_glibc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
