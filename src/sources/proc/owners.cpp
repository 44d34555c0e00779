// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/owners.hpp"

#include "sstrace/core/parse.hpp"
#include "sstrace/core/unique.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>

namespace sstrace {

namespace {

// /proc directory entries named by a number (pids, tids, fds).
std::optional<int> number_entry(const dirent* e) { return parse_number<int>(e->d_name); }

// What follows the '(' of a stat file ("PID (COMM) S ..."); empty when unreadable.
std::string read_comm_field(const std::string& stat_path)
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
    if (open == nullptr || std::strchr(open + 1, ')') == nullptr) {
        return {};
    }
    return open + 1;
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
                add_process(read_comm_field(comm_stat));
                have_comm = true;
            }
            add(*ino, pid, tid, *fd);
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
    index();
}

void SocketOwners::add_process(std::string_view comm)
{
    // ss reads the name with "%[^)]": up to the first ')'
    comm = comm.substr(0, std::min(comm.find(')'), std::size_t{15}));
    comms_.emplace_back(comm);
}

void SocketOwners::add(std::uint64_t inode, int pid, int tid, int fd)
{
    entries_.push_back(Entry{inode, pid, tid, fd, static_cast<std::uint32_t>(comms_.size() - 1),
                             static_cast<std::uint32_t>(entries_.size())});
}

void SocketOwners::index()
{
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
        return a.inode != b.inode ? a.inode < b.inode : a.order < b.order;
    });
}

void SocketOwners::find(std::uint64_t inode, std::vector<SocketOwner>& out) const
{
    out.clear();
    auto it = std::lower_bound(entries_.begin(), entries_.end(), inode,
                               [](const Entry& e, std::uint64_t ino) { return e.inode < ino; });
    for (; it != entries_.end() && it->inode == inode; ++it) {
        out.push_back(SocketOwner{comms_[it->comm], it->pid, it->tid, it->fd, {}});
    }
}

std::vector<std::uint64_t> SocketOwners::inodes() const
{
    std::vector<std::uint64_t> out;
    for (const Entry& e : entries_) {
        if (out.empty() || out.back() != e.inode) {
            out.push_back(e.inode);
        }
    }
    return out;
}

}  // namespace sstrace
