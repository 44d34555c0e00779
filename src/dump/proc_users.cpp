// SPDX-License-Identifier: GPL-2.0-only
#include "proc_users.hpp"

#include "sstrace/core/parse.hpp"
#include "sstrace/core/unique.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <mntent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <string_view>

namespace sstrace {

namespace {

struct MountTableTraits {
    using Handle = std::FILE*;
    static constexpr std::FILE* kEmpty = nullptr;
    static void close(std::FILE* f) { ::endmntent(f); }
};

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

void SocketUsers::scan(const std::string& proc_dir, bool threads)
{
    threads_ = threads;
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
            map_[*ino].push_back(Entry{comm, pid, tid, *fd});
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

std::string SocketUsers::users(std::uint64_t inode) const
{
    const auto it = map_.find(inode);
    if (it == map_.end()) {
        return {};
    }
    std::string out;
    for (auto e = it->second.rbegin(); e != it->second.rend(); ++e) {
        if (!out.empty()) {
            out += ',';
        }
        if (threads_) {
            out += fmt::format("(\"{}\",pid={},tid={},fd={})", e->comm, e->pid, e->tid, e->fd);
        } else {
            out += fmt::format("(\"{}\",pid={},fd={})", e->comm, e->pid, e->fd);
        }
    }
    return out;
}

void CgroupPaths::walk()
{
    walked_ = true;
    const Unique<MountTableTraits> mounts(::setmntent("/proc/mounts", "r"));
    if (!mounts) {
        std::fputs("Failed to find cgroup2 mount\n", stderr);
        return;
    }
    while (const mntent* m = ::getmntent(mounts.get())) {
        if (std::strcmp(m->mnt_type, "cgroup2") == 0) {
            mount_ = m->mnt_dir;
            break;
        }
    }
    if (mount_.empty()) {
        // ss looks for the mount once to build its id cache, then again for every lookup.
        std::fputs("Failed to find cgroup2 mount\n", stderr);
        return;
    }
    // Depth-first walk; a cgroup's id is its kernfs inode number.
    std::vector<std::string> stack{""};
    while (!stack.empty()) {
        const std::string rel = std::move(stack.back());
        stack.pop_back();
        const std::string full = mount_ + rel;
        struct stat st{};
        if (::stat(full.c_str(), &st) != 0) {
            continue;
        }
        paths_.emplace(static_cast<std::uint64_t>(st.st_ino), rel.empty() ? "/" : rel);
        const UniqueDir dir(::opendir(full.c_str()));
        if (!dir) {
            continue;
        }
        while (dirent* e = ::readdir(dir.get())) {
            if (e->d_type != DT_DIR || std::strcmp(e->d_name, ".") == 0 ||
                std::strcmp(e->d_name, "..") == 0) {
                continue;
            }
            stack.push_back(rel + "/" + e->d_name);
        }
    }
}

const std::string& CgroupPaths::path(std::uint64_t id)
{
    if (!walked_) {
        walk();
    }
    const auto it = paths_.find(id);
    if (it != paths_.end()) {
        return it->second;
    }
    if (mount_.empty()) {
        std::fputs("Failed to find cgroup2 mount\n", stderr);
    }
    scratch_ = fmt::format("unreachable:{:x}", id);
    return scratch_;
}

}  // namespace sstrace
