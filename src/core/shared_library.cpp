// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/shared_library.hpp"

#include "sstrace/core/error.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

namespace sstrace {

SharedLibrary::SharedLibrary(const char* soname, const char* needed_by, const char* package)
    : soname_(soname), needed_by_(needed_by), package_(package)
{
    handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
        const char* why = ::dlerror();
        throw Error(needed_by, fmt::format("{} does not load: {}", soname, why ? why : "?"),
                    kExitFailure, fmt::format("install the package {}", package));
    }
}

void* SharedLibrary::find(const char* name) const
{
    ::dlerror();
    void* sym = ::dlsym(handle_, name);
    if (sym == nullptr) {
        throw Error(needed_by_, fmt::format("{} has no {}", soname_, name), kExitFailure,
                    fmt::format("install the package {} of this distribution", package_));
    }
    return sym;
}

}  // namespace sstrace
