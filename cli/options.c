/*
 * options.c - option lookup helpers for commands.
 */
#include "cli.h"

#include <string.h>

const struct optvalues *opt_get(const struct parsed_opts *opts, const char *name)
{
    size_t k;

    for (k = 0; opts->specs && opts->specs[k].name; k++)
        if (strcmp(opts->specs[k].name, name) == 0)
            return &opts->values[k];
    return NULL;
}

bool opt_flag(const struct parsed_opts *opts, const char *name)
{
    const struct optvalues *v = opt_get(opts, name);
    return v && v->n > 0;
}

const char *opt_last(const struct parsed_opts *opts, const char *name)
{
    const struct optvalues *v = opt_get(opts, name);
    return v && v->n ? v->v[v->n - 1] : NULL;
}
