/* nats-server as a child process of a benchmark (nats_server.h). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hivewire/common.h>

#ifdef HV_HAVE_NATS
#include <nats/nats.h>
#endif

#include "bench/nats_server.h"
#include "platform/platform.h"

uint16_t hv_bench_free_port(int type)
{
    return hv__loopback_free_port(type);
}

/* Whether the server's log says it is ready. */
static int log_ready(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[512];
    int ready = 0;
    while (!ready && fgets(line, sizeof(line), f))
        ready = strstr(line, "Server is ready") != NULL;
    fclose(f);
    return ready;
}

int hv_nats_server_spawn(hv_nats_server *s, uint64_t ready_ns)
{
    unlink(s->log);
    pid_t pid = fork();
    if (pid < 0)
        return HV_EIO;
    if (pid == 0) {
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) {
            dup2(dn, 0);
            dup2(dn, 1);
            dup2(dn, 2);
        }
        execlp("nats-server", "nats-server", "-c", s->conf, "-l", s->log, (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    uint64_t t0 = hv_now_ns();
    while (!log_ready(s->log)) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            return HV_EIO;
        }
        if (hv_now_ns() - t0 > ready_ns)
            return HV_ETIMEDOUT;
        poll(NULL, 0, 1); /* a bench polling a child's log: not a test waiting on an event */
    }
    return 0;
}

void hv_nats_server_kill(hv_nats_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

void hv_nats_versions(char *out, size_t cap)
{
    snprintf(out, cap, "none");
#ifdef HV_HAVE_NATS
    char sv[64] = "?";
    FILE *f = popen("nats-server --version 2>/dev/null", "r");
    if (f) {
        char line[128];
        if (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = 0;
            char *v = strrchr(line, ' '); /* "nats-server: v2.9.10" */
            if (v != NULL)
                snprintf(sv, sizeof(sv), "%s", v[1] == 'v' ? v + 2 : v + 1);
        }
        pclose(f);
    }
    snprintf(out, cap, "nats-server %s, libnats %s", sv, nats_GetVersion());
#endif
}
