/*
 * audit.c - the dashboard's audit log: one JSON line per action (started, ended, cancelled):
 * time, remote address, action, and the action's vhost, queue, options (filters and target),
 * counts and result. --audit-log FILE, else audit.jsonl in --archive-dir, else the log
 * (stderr). The access token is never part of a record.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int serve_audit_open(struct serve *sv, struct rmqt_error *err)
{
    const char *path = sv->cfg->audit_log;
    char *beside = NULL;
    int fd;

    if (!path && sv->cfg->archive_dir)
        path = beside = xasprintf("%s/audit.jsonl", sv->cfg->archive_dir);
    if (!path)
        return 0;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || !(sv->audit = fdopen(fd, "a"))) {
        rmqt_error_set(err, RMQT_ERR_IO, "cannot open the audit log '%s': %s", path,
                       strerror(errno));
        if (fd >= 0)
            close(fd);
        free(beside);
        return -1;
    }
    serve_logf(sv, "audit log: %s", path);
    free(beside);
    return 0;
}

void serve_audit(struct serve *sv, const char *remote, const char *action, json_t *rec)
{
    json_t *line = json_object();
    char when[40], *s;
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ", ts.tv_nsec / 1000000);
    json_object_set_new(line, "time", json_string(when));
    json_object_set_new(line, "remote", json_string(remote));
    json_object_set_new(line, "action", json_string(action));
    if (rec)
        json_object_update(line, rec);
    json_decref(rec);
    s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!s)
        return;
    pthread_mutex_lock(&sv->audit_mu);
    if (sv->audit) {
        fprintf(sv->audit, "%s\n", s);
        fflush(sv->audit);
        fsync(fileno(sv->audit));
    } else {
        serve_logf(sv, "audit: %s", s);
    }
    pthread_mutex_unlock(&sv->audit_mu);
    free(s);
}

void serve_audit_close(struct serve *sv)
{
    if (sv->audit)
        fclose(sv->audit);
    sv->audit = NULL;
}
