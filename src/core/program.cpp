// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/program.hpp"

#include <string>

namespace sstrace {

namespace {

constexpr std::string_view kDefaultName = "sstrace";

std::string& name_storage()
{
    static std::string name{kDefaultName};
    return name;
}

}  // namespace

std::string_view program_name() { return name_storage(); }

void set_program_name(std::string_view argv0)
{
    const std::string_view base = argv0.substr(argv0.find_last_of('/') + 1);
    name_storage() = base.empty() ? kDefaultName : base;
}

}  // namespace sstrace
