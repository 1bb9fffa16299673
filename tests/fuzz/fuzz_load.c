/*
 * fuzz_load.c - libFuzzer target: any bytes through the YAML loader and the validator.
 *
 * Debian's libyaml is not instrumented, so the coverage that guides this run is our own event
 * handling, the node tree, the model mapping and every validation rule. The environment is a
 * fixed function so that ${VAR} handling is exercised without depending on the machine.
 */
#include "load.h"
#include "validate.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_env(const char *name, void *ctx)
{
    (void)ctx;
    if (strcmp(name, "SET") == 0)
        return "value";
    if (strcmp(name, "EMPTY") == 0)
        return "";
    if (strcmp(name, "NUM") == 0)
        return "60000";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct topology t;
    struct diag_list dl;
    struct load_options opts;
    struct validate_options vopts = {true, {3, 10, 8}, NULL, NULL};

    memset(&opts, 0, sizeof(opts));
    opts.env = fuzz_env;
    topology_init(&t);
    diag_list_init(&dl);
    if (topology_load_buffer(&t, "fuzz.yaml", (const char *)data, size, &opts, &dl) == 0) {
        topology_validate(&t, NULL, &dl);
        topology_validate(&t, &vopts, &dl);
    }
    diag_list_sort(&dl);
    diag_list_release(&dl);
    topology_release(&t);
    return 0;
}
