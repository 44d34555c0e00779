// SPDX-License-Identifier: GPL-2.0-only
// Skips a test that needs what this machine lacks, except in CI (CI=true), where a skip would
// hide a failure: there the test fails instead. A macro, because GTEST_SKIP and FAIL return
// from the function they are written in, which must be the test body.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace sstrace::testing {

inline bool in_ci()
{
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace sstrace::testing

#define SSTRACE_REQUIRE(cond, why)                                                           \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (::sstrace::testing::in_ci()) {                                               \
                FAIL() << "required in CI: " << why;                                         \
            }                                                                                \
            GTEST_SKIP() << why;                                                             \
        }                                                                                    \
    } while (0)

#define SSTRACE_REQUIRE_ROOT() SSTRACE_REQUIRE(::geteuid() == 0, "needs root")
