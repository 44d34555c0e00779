// SPDX-License-Identifier: GPL-2.0-only
// Which processes hold which sockets (ss -p, -T): one scan of /proc/PID/fd, or one walk of the
// kernel's task_file iterator, which finds the same (src/sources/source_plan.cpp decides).
#pragma once

#include "sstrace/model/socket.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sstrace {

class IterSession;

class SocketOwners {
public:
    // Scans `proc_dir` (/proc or $PROC_ROOT) once: every PID/fd, or with `threads` every
    // PID/task/TID/fd.
    void scan(const std::string& proc_dir, bool threads);
    // The same as scan(proc_dir, false) from the iterator's walk (src/sources/iter/).
    void scan(IterSession& iter);

    // Sets `out` to the holders of the socket with this inode, in the order the scan found them.
    void find(std::uint64_t inode, std::vector<SocketOwner>& out) const;

    std::size_t size() const { return entries_.size(); }

    // Every socket inode found, each once, in ascending order.
    std::vector<std::uint64_t> inodes() const;

private:
    // One socket descriptor: 32 bytes, where a map of vectors of owners with their names took
    // five times that (100k sockets held: 3 MB, not 14).
    struct Entry {
        std::uint64_t inode;
        std::int32_t pid;
        std::int32_t tid;
        std::int32_t fd;
        std::uint32_t comm;   // index into comms_
        std::uint32_t order;  // position in the scan: holders of one socket keep it
    };

    // A process (or thread, -T) whose descriptors follow, with its command name as /proc/PID/stat
    // spells it: up to the first ')', at most 15 bytes.
    void add_process(std::string_view comm);
    void add(std::uint64_t inode, int pid, int tid, int fd);
    // Sorts by inode once the scan is complete.
    void index();

    std::vector<Entry> entries_;
    std::vector<std::string> comms_;
};

}  // namespace sstrace
