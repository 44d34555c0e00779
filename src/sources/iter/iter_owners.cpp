// SPDX-License-Identifier: GPL-2.0-only
// ss -p's owners from one iter/task_file walk: the same descriptors in the same order as the
// /proc/PID/fd scan (leaders in pid order, descriptors in fd order), without a readlink each.
#include "iter_session.hpp"
#include "sstrace/sources/owners.hpp"

#include <cstring>
#include <string_view>

namespace sstrace {

void SocketOwners::scan(IterSession& iter)
{
    std::int64_t last_pid = -1;
    iter.walk_files([&](const sstrace_iter_file& f) {
        const auto pid = static_cast<int>(f.pid);
        if (pid != last_pid) {
            add_process(std::string_view(f.comm, strnlen(f.comm, sizeof(f.comm))));
            last_pid = pid;
        }
        add(f.inode, pid, 0, static_cast<int>(f.fd));
    });
    index();
}

}  // namespace sstrace
