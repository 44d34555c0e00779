// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/owners.hpp"

#include "sstrace/core/parse.hpp"
#include "sstrace/core/unique.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>

namespace sstrace {

namespace {

// /proc directory entries named by a number (pids, tids, fds).
std::optional<int> number_entry(const dirent* e) { return parse_number<int>(e->d_name); }

// The command name inside the parentheses of a stat file, up to the first ')'.
std::string read_comm(const std::string& stat_path)
{
    const UniqueFd fd(::open(stat_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return {};
    }
    char buf[128];
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
    if (n <= 0) {
        return {};
    }
    buf[n] = '\0';
    const char* open = std::strchr(buf, '(');
    if (open == nullptr) {
        return {};
    }
    const char* close = std::strchr(open + 1, ')');
    if (close == nullptr) {
        return {};
    }
    std::string comm(open + 1, close);
    if (comm.size() > 15) {
        comm.resize(15);
    }
    return comm;
}

}  // namespace

void SocketOwners::scan(const std::string& proc_dir, bool threads)
{
    const std::string root = proc_dir + "/";
    const UniqueDir proc(::opendir(root.c_str()));
    if (!proc) {
        return;
    }
    auto scan_fds = [&](const std::string& fd_dir, const std::string& comm_stat, int pid,
                        int tid) {
        const UniqueDir fds(::opendir(fd_dir.c_str()));
        if (!fds) {
            return;
        }
        std::string comm;
        bool have_comm = false;
        std::string link_path;
        char lnk[64];
        while (dirent* e = ::readdir(fds.get())) {
            const auto fd = number_entry(e);
            if (!fd) {
                continue;
            }
            link_path = fd_dir;
            link_path += e->d_name;
            const ssize_t len = ::readlink(link_path.c_str(), lnk, sizeof(lnk) - 1);
            if (len < 0) {
                continue;
            }
            lnk[len] = '\0';
            const std::string_view target(lnk, static_cast<std::size_t>(len));
            constexpr std::string_view kPrefix = "socket:[";
            if (!target.starts_with(kPrefix) || !target.ends_with(']')) {
                continue;
            }
            const auto ino = parse_number<std::uint64_t>(
                target.substr(kPrefix.size(), target.size() - kPrefix.size() - 1));
            if (!ino) {
                continue;
            }
            if (!have_comm) {
                comm = read_comm(comm_stat);
                have_comm = true;
            }
            map_[*ino].push_back(SocketOwner{comm, pid, tid, *fd, {}});
        }
    };
    while (dirent* d = ::readdir(proc.get())) {
        const auto pid = number_entry(d);
        if (!pid) {
            continue;
        }
        const std::string pid_dir = root + d->d_name + "/";
        if (!threads) {
            scan_fds(pid_dir + "fd/", pid_dir + "stat", *pid, 0);
            continue;
        }
        const UniqueDir tasks(::opendir((pid_dir + "task/").c_str()));
        if (!tasks) {
            continue;
        }
        while (dirent* t = ::readdir(tasks.get())) {
            const auto tid = number_entry(t);
            if (!tid) {
                continue;
            }
            const std::string task_dir = pid_dir + "task/" + t->d_name + "/";
            scan_fds(task_dir + "fd/", task_dir + "stat", *pid, *tid);
        }
    }
}

std::span<const SocketOwner> SocketOwners::find(std::uint64_t inode) const
{
    const auto it = map_.find(inode);
    if (it == map_.end()) {
        return {};
    }
    return it->second;
}

}  // namespace sstrace
