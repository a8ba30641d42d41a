/* grow.c - see grow.h. */
#include "host/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GROW_FIRST 16

leal_err grow_room(void *array, size_t *cap, size_t used, size_t each)
{
    void *old, *moved;
    size_t n;
    if (array == NULL || cap == NULL || each == 0)
        return LEAL_E_ARG;
    if (used < *cap)
        return LEAL_OK;
    n = *cap ? *cap : GROW_FIRST / 2;
    if (n > SIZE_MAX / 2 / each)
        return LEAL_E_NO_MEMORY;
    n *= 2;
    if (n <= used)
        n = used + 1;
    if (n > SIZE_MAX / each)
        return LEAL_E_NO_MEMORY;
    memcpy(&old, array, sizeof old);
    if ((moved = realloc(old, n * each)) == NULL)
        return LEAL_E_NO_MEMORY;
    memcpy(array, &moved, sizeof moved);
    *cap = n;
    return LEAL_OK;
}
