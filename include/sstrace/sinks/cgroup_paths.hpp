// SPDX-License-Identifier: GPL-2.0-only
// cgroup id -> path, for cgroup: in listings (-e, --cgroup).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace sstrace {

class CgroupPaths {
public:
    // The path relative to the cgroup2 mount (`/` for the root), `unreachable:HEX` when the id
    // is not found. The first call walks the cgroup2 tree.
    const std::string& path(std::uint64_t id);

private:
    void walk();
    bool walked_ = false;
    std::string mount_;
    std::unordered_map<std::uint64_t, std::string> paths_;
    std::string scratch_;
};

}  // namespace sstrace
