// SPDX-License-Identifier: GPL-2.0-only
// Which processes hold which sockets (ss -p, -T): one scan of /proc/PID/fd.
#pragma once

#include "sstrace/model/socket.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace sstrace {

class SocketOwners {
public:
    // Scans `proc_dir` (/proc or $PROC_ROOT) once: every PID/fd, or with `threads` every
    // PID/task/TID/fd.
    void scan(const std::string& proc_dir, bool threads);

    // The holders of the socket with this inode, in the order the scan found them.
    std::span<const SocketOwner> find(std::uint64_t inode) const;

    // Every socket inode found, with its holders.
    const std::unordered_map<std::uint64_t, std::vector<SocketOwner>>& all() const { return map_; }

private:
    std::unordered_map<std::uint64_t, std::vector<SocketOwner>> map_;
};

}  // namespace sstrace
