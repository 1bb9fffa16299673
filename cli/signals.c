/*
 * signals.c - the one signal set-up of the commands that run long (apply, the dlq commands):
 * Ctrl-C and SIGTERM only raise a flag, so that a run stops between messages or changes and
 * leaves nothing half done; SIGPIPE is ignored, so that a closed pipe is a write error the
 * command reports rather than a silent death.
 */
#include "cli.h"

#include <string.h>

volatile sig_atomic_t cli_stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    cli_stop_requested = 1;
}

void cli_install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
