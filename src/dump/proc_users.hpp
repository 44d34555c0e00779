// SPDX-License-Identifier: GPL-2.0-only
// Socket inode -> owning processes (ss -p / -T), and cgroup id -> path.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace sstrace {

class SocketUsers {
public:
    // Scans `proc_dir` (/proc or $PROC_ROOT) once: every PID/fd (or PID/task/TID/fd with
    // `threads`).
    void scan(const std::string& proc_dir, bool threads);

    // `("comm",pid=N,fd=N),...` in ss's order (reverse discovery), or empty.
    std::string users(std::uint64_t inode) const;

private:
    struct Entry {
        std::string comm;
        int pid;
        int tid;
        int fd;
    };
    bool threads_ = false;
    std::unordered_map<std::uint64_t, std::vector<Entry>> map_;
};

class CgroupPaths {
public:
    // The path relative to the cgroup2 mount (`/` for the root), `unreachable:HEX` when no
    // cgroup2 mount exists.
    const std::string& path(std::uint64_t id);

private:
    void walk();
    bool walked_ = false;
    std::string mount_;
    std::unordered_map<std::uint64_t, std::string> paths_;
    std::string scratch_;
};

}  // namespace sstrace
