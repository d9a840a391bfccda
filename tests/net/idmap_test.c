/*
 * The transport's hash map: bounds of the key length, and a seeded property test against a
 * plain array over a small key universe (long probe runs, many deletions in the middle of
 * runs, growth), checking every key after every operation.
 */
#include "hv_test.h"

#include <hivewire/common.h>
#include <hivewire/rng.h>

#include "net/idmap.h"

#define UNIVERSE 600

static void key_lengths_outside_1_to_20_are_refused(void **state)
{
    (void)state;
    hv_idmap m;
    assert_int_equal(hv__idmap_init(&m), 0);
    uint8_t k[HV_IDMAP_KEY_MAX + 1] = { 1 };
    int v;
    assert_int_equal(hv__idmap_put(&m, k, 0, &v), HV_EINVAL);
    assert_int_equal(hv__idmap_put(&m, k, HV_IDMAP_KEY_MAX + 1, &v), HV_EINVAL);
    assert_int_equal(hv__idmap_put(&m, k, 1, &v), 0);
    assert_int_equal(hv__idmap_put(&m, k, HV_IDMAP_KEY_MAX, &v), 0);
    assert_ptr_equal(hv__idmap_get(&m, k, 1), &v);
    assert_ptr_equal(hv__idmap_get(&m, k, HV_IDMAP_KEY_MAX), &v);
    assert_null(hv__idmap_get(&m, k, 2)); /* the same bytes, another length: another key */
    assert_null(hv__idmap_get(&m, k, 0));
    assert_int_equal(hv__idmap_del(&m, k, HV_IDMAP_KEY_MAX + 1), HV_ENOTFOUND);
    assert_int_equal(hv__idmap_del(&m, k, 2), HV_ENOTFOUND);
    assert_int_equal(hv__idmap_del(&m, k, 1), 0);
    assert_int_equal(hv__idmap_del(&m, k, 1), HV_ENOTFOUND);
    assert_int_equal(m.count, 1);
    hv__idmap_fini(&m);
}

static void key_of(uint32_t i, uint8_t *k, size_t *len)
{
    *len = 1 + i % HV_IDMAP_KEY_MAX;
    memset(k, 0, HV_IDMAP_KEY_MAX);
    for (size_t b = 0; b < *len; b++)
        k[b] = (uint8_t)(i >> (8 * (b % 4)));
}

static void random_puts_and_deletes_agree_with_a_plain_array(void **state)
{
    (void)state;
    static uintptr_t model[UNIVERSE]; /* 0: absent */
    memset(model, 0, sizeof(model));
    hv_idmap m;
    assert_int_equal(hv__idmap_init(&m), 0);
    hv_rng r;
    hv_rng_seed(&r, 15);
    uint32_t present = 0, peak = 0;
    for (int step = 0; step < 20000; step++) {
        uint32_t i = (uint32_t)hv_rng_below(&r, UNIVERSE);
        uint8_t k[HV_IDMAP_KEY_MAX];
        size_t len;
        key_of(i, k, &len);
        /* Fill up in the first half, drain in the second: growth, then long deletions. */
        int put = hv_rng_below(&r, 100) < (step < 10000 ? 70u : 30u);
        if (put) {
            uintptr_t v = (uintptr_t)step + 1;
            assert_int_equal(hv__idmap_put(&m, k, len, (void *)v), 0);
            present += model[i] == 0;
            model[i] = v;
        } else {
            assert_int_equal(hv__idmap_del(&m, k, len), model[i] ? 0 : HV_ENOTFOUND);
            present -= model[i] != 0;
            model[i] = 0;
        }
        peak = present > peak ? present : peak;
        assert_int_equal(m.count, present);
        assert_true(m.count * 2 <= m.mask + 1);
        if (step % 97 == 0) {
            for (uint32_t j = 0; j < UNIVERSE; j++) {
                key_of(j, k, &len);
                assert_ptr_equal(hv__idmap_get(&m, k, len), (void *)model[j]);
            }
        }
    }
    assert_true(peak > 300);
    hv__idmap_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_lengths_outside_1_to_20_are_refused),
        cmocka_unit_test(random_puts_and_deletes_agree_with_a_plain_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
