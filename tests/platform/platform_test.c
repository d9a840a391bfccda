/* The operating-system layer: clock, futex and eventfd waits, CPUs, scheduling, usage. */
#include "hv_test.h"

#include <limits.h>
#include <pthread.h>

#include "platform/platform.h"

#define LONG_NS (10ull * 1000 * 1000 * 1000) /* a bound no passing test reaches */

static void clock_never_goes_backwards(void **state)
{
    (void)state;
    uint64_t prev = hv_now_ns();
    assert_true(prev > 0);
    for (int i = 0; i < 10000; i++) {
        uint64_t now = i % 2 ? hv_now_ns() : hv__mono_ns();
        assert_true(now >= prev);
        prev = now;
    }
}

static void futex_wait_returns_at_once_when_the_value_differs(void **state)
{
    (void)state;
    uint32_t word = 1;
    assert_int_equal(hv__futex_wait(&word, 0, LONG_NS), 0);
}

static void futex_wait_times_out_when_nobody_wakes(void **state)
{
    (void)state;
    uint32_t word = 0;
    assert_int_equal(hv__futex_wait(&word, 0, 1000000), HV_ETIMEDOUT);
}

typedef struct sleeper {
    uint32_t word;
    int efd;
    int rc; /* the last wait's result */
} sleeper;

static void *futex_sleeper(void *arg)
{
    sleeper *s = arg;
    s->rc = 0;
    while (__atomic_load_n(&s->word, __ATOMIC_ACQUIRE) == 0 && s->rc == 0)
        s->rc = hv__futex_wait(&s->word, 0, LONG_NS);
    return NULL;
}

static void futex_wake_wakes_a_sleeper(void **state)
{
    (void)state;
    sleeper s = { .word = 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, futex_sleeper, &s), 0);
    __atomic_store_n(&s.word, 1, __ATOMIC_RELEASE);
    hv__futex_wake(&s.word, INT_MAX);
    pthread_join(t, NULL);
    assert_int_equal(s.rc, 0); /* a lost wake-up would have timed out */
}

static void eventfd_keeps_a_signal_until_drained(void **state)
{
    (void)state;
    int fd = -1;
    assert_int_equal(hv__efd_open(&fd), 0);
    assert_true(fd >= 0);
    assert_int_equal(hv__efd_wait(fd, 0), HV_ETIMEDOUT);
    hv__efd_signal(fd);
    assert_int_equal(hv__efd_wait(fd, LONG_NS), 0);
    assert_int_equal(hv__efd_wait(fd, LONG_NS), 0); /* waiting does not drain */
    hv__efd_drain(fd);
    assert_int_equal(hv__efd_wait(fd, 1000000), HV_ETIMEDOUT);
    hv__efd_drain(fd); /* nothing to drain is fine */
    hv__efd_close(fd);
    hv__efd_close(-1);
}

static void *efd_sleeper(void *arg)
{
    sleeper *s = arg;
    s->rc = hv__efd_wait(s->efd, LONG_NS);
    return NULL;
}

static void eventfd_signal_wakes_a_poller(void **state)
{
    (void)state;
    sleeper s = { .efd = -1 };
    assert_int_equal(hv__efd_open(&s.efd), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, efd_sleeper, &s), 0);
    hv__efd_signal(s.efd);
    pthread_join(t, NULL);
    assert_int_equal(s.rc, 0);
    hv__efd_close(s.efd);
}

static void wait_any_says_which_eventfds_are_readable(void **state)
{
    (void)state;
    int fds[3] = { -1, -1, -1 };
    for (int i = 0; i < 3; i++)
        assert_int_equal(hv__efd_open(&fds[i]), 0);
    assert_int_equal(hv__efd_wait_any(fds, 3, 0), HV_ETIMEDOUT);
    hv__efd_signal(fds[1]);
    assert_int_equal(hv__efd_wait_any(fds, 3, LONG_NS), 1 << 1);
    hv__efd_signal(fds[2]);
    assert_int_equal(hv__efd_wait_any(fds, 3, LONG_NS), (1 << 1) | (1 << 2));
    assert_int_equal(hv__efd_wait_any(fds, 1, 0), HV_ETIMEDOUT); /* only fds[0] watched */
    assert_int_equal(hv__efd_wait_any(fds, 0, 0), HV_EINVAL);
    int many[HV_EFD_WAIT_MAX + 1];
    for (int i = 0; i < HV_EFD_WAIT_MAX + 1; i++)
        many[i] = fds[1];
    assert_int_equal(hv__efd_wait_any(many, HV_EFD_WAIT_MAX, 0), (1 << HV_EFD_WAIT_MAX) - 1);
    assert_int_equal(hv__efd_wait_any(many, HV_EFD_WAIT_MAX + 1, 0), HV_EINVAL);
    for (int i = 0; i < 3; i++)
        hv__efd_close(fds[i]);
}

static void cpu_allowed_lists_the_affinity_mask_in_order(void **state)
{
    (void)state;
    cpu_set_t set;
    assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
    int cpus[CPU_SETSIZE];
    int n = hv__cpu_allowed(cpus, CPU_SETSIZE);
    assert_int_equal(n, CPU_COUNT(&set));
    for (int i = 0; i < n; i++) {
        assert_true(CPU_ISSET(cpus[i], &set));
        if (i > 0)
            assert_true(cpus[i] > cpus[i - 1]);
    }
}

static void cpu_allowed_counts_all_but_writes_at_most_max(void **state)
{
    (void)state;
    int all[CPU_SETSIZE];
    int n = hv__cpu_allowed(all, CPU_SETSIZE);
    assert_true(n >= 1);
    int one[2] = { -7, -7 };
    assert_int_equal(hv__cpu_allowed(one, 1), n);
    assert_int_equal(one[0], all[0]);
    assert_int_equal(one[1], -7);
    assert_int_equal(hv__cpu_allowed(NULL, 0), n);
}

static void pin_self_pins_and_restore_gives_the_saved_mask_back(void **state)
{
    (void)state;
    hv__cpu_mask saved, now;
    assert_int_equal(hv__cpu_mask_save(&saved), 0);
    int cpus[CPU_SETSIZE];
    int n = hv__cpu_allowed(cpus, CPU_SETSIZE);
    int last = cpus[n - 1];
    assert_int_equal(hv__cpu_pin_self(last), 0);
    assert_int_equal(hv__cpu_mask_save(&now), 0);
    assert_int_equal(CPU_COUNT(&now.set), 1);
    assert_true(CPU_ISSET(last, &now.set));
    assert_int_equal(sched_getcpu(), last);
    assert_int_equal(hv__cpu_mask_restore(&saved), 0);
    assert_int_equal(hv__cpu_mask_save(&now), 0);
    assert_true(CPU_EQUAL(&now.set, &saved.set));
}

static void pin_self_refuses_a_cpu_outside_the_mask(void **state)
{
    (void)state;
    int cpus[CPU_SETSIZE];
    int n = hv__cpu_allowed(cpus, CPU_SETSIZE);
    assert_int_equal(hv__cpu_pin_self(-1), HV_EINVAL);
    assert_int_equal(hv__cpu_pin_self(CPU_SETSIZE), HV_EINVAL);
    if (cpus[n - 1] + 1 < CPU_SETSIZE)
        assert_int_equal(hv__cpu_pin_self(cpus[n - 1] + 1), HV_EINVAL);
}

static void *batch_thread(void *arg)
{
    int *policy = arg;
    struct sched_param sp;
    if (hv__sched_batch_self() != 0 || pthread_getschedparam(pthread_self(), policy, &sp) != 0)
        *policy = -1;
    return NULL;
}

static void sched_batch_self_sets_the_calling_threads_policy(void **state)
{
    (void)state;
    int policy = -2;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, batch_thread, &policy), 0);
    pthread_join(t, NULL);
    assert_int_equal(policy, SCHED_BATCH);
    struct sched_param sp;
    int mine = -1;
    assert_int_equal(pthread_getschedparam(pthread_self(), &mine, &sp), 0);
    assert_int_not_equal(mine, SCHED_BATCH); /* other threads keep theirs */
}

static void thread_usage_counts_cpu_and_a_sleep(void **state)
{
    (void)state;
    hv__thread_usage a, b;
    assert_int_equal(hv__thread_usage_self(&a), 0);
    uint32_t word = 0;
    assert_int_equal(hv__futex_wait(&word, 0, 1000000), HV_ETIMEDOUT);
    assert_int_equal(hv__thread_usage_self(&b), 0);
    assert_true(b.cpu_ns >= a.cpu_ns);
    assert_true(b.switches_voluntary > a.switches_voluntary); /* the futex wait slept */
    assert_true(b.switches_involuntary >= a.switches_involuntary);
}

static void exe_path_names_this_program_or_says_it_does_not_fit(void **state)
{
    (void)state;
    char path[4096];
    int n = hv__exe_path(path, sizeof(path));
    assert_true(n > 0);
    assert_int_equal(strlen(path), (size_t)n);
    assert_true(path[0] == '/');
    const char *base = strrchr(path, '/') + 1;
    assert_string_equal(base, "test_platform");
    char other[4096];
    assert_int_equal(hv__exe_path(other, (size_t)n), HV_ENOBUFS); /* no room for the NUL */
    assert_int_equal(hv__exe_path(other, (size_t)n + 1), n);
    assert_string_equal(other, path);
    assert_int_equal(hv__exe_path(other, 0), HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clock_never_goes_backwards),
        cmocka_unit_test(futex_wait_returns_at_once_when_the_value_differs),
        cmocka_unit_test(futex_wait_times_out_when_nobody_wakes),
        cmocka_unit_test(futex_wake_wakes_a_sleeper),
        cmocka_unit_test(eventfd_keeps_a_signal_until_drained),
        cmocka_unit_test(eventfd_signal_wakes_a_poller),
        cmocka_unit_test(wait_any_says_which_eventfds_are_readable),
        cmocka_unit_test(cpu_allowed_lists_the_affinity_mask_in_order),
        cmocka_unit_test(cpu_allowed_counts_all_but_writes_at_most_max),
        cmocka_unit_test(pin_self_pins_and_restore_gives_the_saved_mask_back),
        cmocka_unit_test(pin_self_refuses_a_cpu_outside_the_mask),
        cmocka_unit_test(sched_batch_self_sets_the_calling_threads_policy),
        cmocka_unit_test(thread_usage_counts_cpu_and_a_sleep),
        cmocka_unit_test(exe_path_names_this_program_or_says_it_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
