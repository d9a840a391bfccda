// The public headers from C++: every header compiles in a translation unit of its own (the
// hdr_*.cpp files CMake generates) and all of them together here, under -std=c++17 with the
// project's warnings; the functions link with C linkage; every public struct has the size and
// alignment the C compiler gives it; the inline ring and codec helpers work from C++.
#include <hivewire/hivewire.h>
#include <hivewire/net.h>

#include <cstdio>
#include <cstring>

#include "hv_api_types.h"

#include "api/layout.h"

static int failures;

static void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "cxx_test: %s\n", what);
        failures++;
    }
}

static const hv_api_layout cxx_layout[] = {
#define HV_API_LAYOUT_(t) { #t, sizeof(t), alignof(t) },
    HV_API_TYPES(HV_API_LAYOUT_)
#undef HV_API_LAYOUT_
    { nullptr, 0, 0 },
};

static void every_struct_has_the_c_layout()
{
    size_t n = 0;
    for (; cxx_layout[n].name != nullptr; n++) {
        const hv_api_layout &c = hv_api_c_layout[n];
        check(c.name != nullptr && std::strcmp(c.name, cxx_layout[n].name) == 0, "type lists");
        if (c.size != cxx_layout[n].size || c.align != cxx_layout[n].align) {
            std::fprintf(stderr, "cxx_test: %s: C size %zu align %zu, C++ size %zu align %zu\n",
                         c.name, c.size, c.align, cxx_layout[n].size, cxx_layout[n].align);
            failures++;
        }
    }
    check(n > 100 && hv_api_c_layout[n].name == nullptr, "the type list covers the headers");
}

static void functions_link_with_c_linkage()
{
    check(std::strcmp(hv_version(), HV_VERSION_STRING) == 0, "hv_version");
    check(std::strcmp(hv_err_name(HV_EINVAL), "HV_EINVAL") == 0, "hv_err_name");
    hv_bus *bus = nullptr;
    check(hv_bus_new(nullptr, &bus) == 0 && bus != nullptr, "hv_bus_new");
    hv_bus_free(bus);
    hv_field_error e{};
    hv_codec_opts o;
    hv_codec_opts_default(&o);
    o.intern_max = HV_INTERN_MAX_CEILING + 1;
    check(hv_codec_opts_check(&o, &e) == HV_EINVAL && std::strcmp(e.field, "intern_max") == 0,
          "hv_codec_opts_check names the field");
}

static void inline_helpers_work()
{
    hv_spsc *r = nullptr;
    check(hv_spsc_new(8, sizeof(uint64_t), &r) == 0, "hv_spsc_new");
    uint64_t in = 42, out = 0;
    check(hv_spsc_try_push(r, &in) == 0, "hv_spsc_try_push");
    check(hv_spsc_try_pop(r, &out) == 0 && out == 42, "hv_spsc_try_pop");
    hv_spsc_free(r);
    hv_str s = hv_str_from("md.AAPL");
    check(s.len == 7, "hv_str_from");
    const float f[2] = { 1.5f, -2.0f };
    hv_f32v v = { f, 2 };
    check(hv_f32v_get(v, 1) == -2.0f, "hv_f32v_get");
}

int main()
{
    every_struct_has_the_c_layout();
    functions_link_with_c_linkage();
    inline_helpers_work();
    if (failures == 0)
        std::printf("cxx_test: every public header compiles and links from C++\n");
    return failures == 0 ? 0 : 1;
}
