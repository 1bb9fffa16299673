/*
 * fuzz_live.c - libFuzzer target: any bytes as the management API's answers, through the
 * readers of /api/definitions/{vhost} and /api/overview, then through the diff and export of
 * what was read (a broker is input we do not control).
 */
#include "diff.h"
#include "export.h"
#include "live.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct topology live, empty;
    struct rmqt_broker_info info;
    struct rmqt_error err;
    struct plan plan;
    struct strbuf out = {0};
    struct diff_options opts = {true};

    rmqt_broker_info_parse((const char *)data, size, &info, &err);
    topology_init(&live);
    topology_init(&empty);
    if (live_parse_definitions(topology_add_vhost(&live, "v"), (const char *)data, size, &err) ==
        0) {
        /* the live side planned against an empty file of the same vhost, and exported */
        topology_add_vhost(&empty, "v");
        vhost_index(&empty.vhosts[0]);
        plan_init(&plan);
        plan_compute(&plan, &empty, &live, &opts);
        plan_release(&plan);
        topology_export(&live, NULL, &out);
    }
    strbuf_release(&out);
    topology_release(&live);
    topology_release(&empty);
    return 0;
}
