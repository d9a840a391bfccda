/* Child processes and plain HTTP for the obs tests (runproc.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "obs/runproc.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *rp_binary(void)
{
    const char *b = getenv("HV_BIN");
    return b != NULL ? b : "./hivewire";
}

int rp_start(run_proc *p, char *const argv[])
{
    memset(p, 0, sizeof(*p));
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(fds[1], 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    p->err_fd = fds[0];
    return 0;
}

int rp_pump(run_proc *p, int timeout_ms)
{
    if (p->eof)
        return -1;
    struct pollfd pf = { .fd = p->err_fd, .events = POLLIN };
    int rc = poll(&pf, 1, timeout_ms);
    if (rc <= 0)
        return 0;
    char buf[4096];
    ssize_t n = read(p->err_fd, buf, sizeof(buf));
    if (n <= 0) {
        p->eof = 1;
        return -1;
    }
    size_t room = sizeof(p->err) - 1 - p->len;
    size_t k = (size_t)n < room ? (size_t)n : room;
    memcpy(p->err + p->len, buf, k);
    p->len += k;
    p->err[p->len] = 0;
    return 1;
}

const char *rp_wait_for(run_proc *p, const char *needle, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    const char *hit;
    while ((hit = strstr(p->err, needle)) == NULL) {
        int64_t left = end - now_ms();
        if (left <= 0 || rp_pump(p, (int)left) < 0)
            return strstr(p->err, needle);
    }
    return hit;
}

uint16_t rp_port(run_proc *p, const char *what, int timeout_ms)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "%s at http://127.0.0.1:", what);
    const char *at = rp_wait_for(p, needle, timeout_ms);
    if (at == NULL)
        return 0;
    return (uint16_t)atoi(at + strlen(needle));
}

int rp_finish(run_proc *p, int sig, int timeout_ms)
{
    if (sig != 0)
        kill(p->pid, sig);
    int64_t end = now_ms() + timeout_ms;
    while (!p->eof && now_ms() < end)
        rp_pump(p, (int)(end - now_ms()));
    int status = 0;
    if (!p->eof) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        close(p->err_fd);
        return -1;
    }
    waitpid(p->pid, &status, 0);
    close(p->err_fd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int http_get(uint16_t port, const char *path, char **body, size_t *len, int timeout_ms)
{
    *body = NULL;
    *len = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        write(fd, req, (size_t)n) != n) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t cap = 1 << 16, got = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (got + 4096 + 1 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + got, cap - got - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    char *sep = strstr(buf, "\r\n\r\n");
    int status = -1;
    if (sep == NULL || sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        free(buf);
        return -1;
    }
    *len = got - (size_t)(sep + 4 - buf);
    *body = malloc(*len + 1);
    memcpy(*body, sep + 4, *len);
    (*body)[*len] = 0;
    free(buf);
    return status;
}

uint16_t rp_serve(run_proc *p, char *const argv[], const char *what)
{
    if (rp_start(p, argv) != 0)
        return 0;
    return rp_port(p, what, 60000);
}
