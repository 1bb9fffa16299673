/*
 * cmd_alerts.c - `rmqtopo alerts FILE`: Prometheus alerting rules (YAML) from the file's
 * thresholds (alert, alert_defaults). The rules are ops/monitor_render.c's.
 */
#include "cli.h"
#include "monitor.h"
#include "watch.h"

#include <stdio.h>

static const struct optspec alerts_options_spec[] = {
    {"vhost", 0, "V", "only the queues of this vhost (repeatable)"},
    {NULL, 0, NULL, NULL},
};

static int run_alerts(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct rmqt_watchlist wl = {0};
    struct strbuf sb;

    (void)argc;
    if (cli->output == OUTPUT_JSON) {
        fprintf(stderr, "rmqtopo: alerts writes Prometheus rule files (YAML) only\n"
                        "Try 'rmqtopo alerts --help'.\n");
        return EXIT_USAGE;
    }
    if (cli_watchlist_from_file(cli, opts, argv[0], true, &wl) < 0)
        return EXIT_FAIL;
    strbuf_init(&sb);
    dlq_alert_rules(&wl, &sb);
    fputs(strbuf_str(&sb), stdout);
    strbuf_release(&sb);
    rmqt_watchlist_release(&wl);
    return EXIT_OK;
}

const struct command cmd_alerts = {
    "alerts",
    "FILE",
    "Prometheus alerting rules from the file's thresholds",
    "Prints Prometheus alerting rules (YAML, for rule_files) for every queue of FILE with\n"
    "thresholds: messages and rate from the broker's rabbitmq_prometheus plugin, per queue\n"
    "(scrape /metrics/detailed?family=queue_coarse_metrics, or /metrics/per-object, or set\n"
    "prometheus.return_per_object_metrics = true), and the age from rmqtopo's own\n"
    "rmqtopo_dlq_oldest_age_seconds (rmqtopo dlq status --textfile for node_exporter).\n"
    "Each rule has vhost, queue and severity labels and the runbook's next step.\n"
    "\n"
    "Exit status: 0 written, 1 invalid file, 64 usage error.",
    alerts_options_spec,
    run_alerts,
    NULL,
    1,
    1,
    "takes one topology file",
    0,
};
