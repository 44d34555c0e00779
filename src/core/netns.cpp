// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/netns.hpp"

#include "sstrace/core/unique.hpp"
#include "sstrace/core/error.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sstrace {

void enter_named_netns(const std::string& name)
{
    const std::string path = "/var/run/netns/" + name;
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw Error(fmt::format("Cannot open network namespace \"{}\"", name),
                    std::strerror(errno), kExitFailure);
    }
    if (::setns(fd.get(), CLONE_NEWNET) != 0) {
        throw Error(fmt::format("setting the network namespace \"{}\" failed", name),
                    std::strerror(errno), kExitFailure);
    }
}

NetnsNames::NetnsNames(std::string dir) : dir_(std::move(dir)) { rescan(); }

void NetnsNames::rescan()
{
    scanned_ = std::chrono::steady_clock::now();
    names_.clear();
    numbers_.clear();
    const UniqueDir d(::opendir(dir_.c_str()));
    if (!d) {
        return;  // no namespace was ever named
    }
    while (const dirent* e = ::readdir(d.get())) {
        if (e->d_name[0] == '.') {
            continue;
        }
        struct stat st{};
        // a name whose namespace is gone is an unbound file on the ordinary file system:
        // nsfs inodes are the namespaces', so only bound names can match an event
        if (::stat((dir_ + "/" + e->d_name).c_str(), &st) == 0) {
            names_.try_emplace(static_cast<std::uint32_t>(st.st_ino), e->d_name);
        }
    }
}

const std::string& NetnsNames::label(std::uint32_t ino)
{
    if (const auto n = names_.find(ino); n != names_.end()) {
        return n->second;
    }
    if (const auto n = numbers_.find(ino); n != numbers_.end()) {
        return n->second;
    }
    if (std::chrono::steady_clock::now() - scanned_ >= std::chrono::seconds(1)) {
        rescan();
        if (const auto n = names_.find(ino); n != names_.end()) {
            return n->second;
        }
    }
    return numbers_.emplace(ino, std::to_string(ino)).first->second;
}

std::size_t NetnsNames::longest() const
{
    std::size_t n = 0;
    for (const auto& [ino, name] : names_) {
        n = std::max(n, name.size());
    }
    return n;
}

int netns_private_mounts(const std::string& name)
{
    if (::unshare(CLONE_NEWNS) < 0) {
        fmt::print(stderr, "unshare failed: {}\n", std::strerror(errno));
        return -1;
    }
    if (::mount("", "/", "none", MS_SLAVE | MS_REC, nullptr) != 0) {
        fmt::print(stderr, "\"mount --make-rslave /\" failed: {}\n", std::strerror(errno));
        return -1;
    }
    unsigned long flags = 0;
    struct statvfs fs{};
    if (::statvfs("/sys", &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
        flags = MS_RDONLY;
    }
    ::umount2("/sys", MNT_DETACH);  // there may be no sysfs mounted: fine
    if (::mount(name.c_str(), "/sys", "sysfs", flags, nullptr) < 0) {
        fmt::print(stderr, "mount of /sys failed: {}\n", std::strerror(errno));
        return -1;
    }
    const std::string etc_dir = "/etc/netns/" + name;
    const UniqueDir dir(::opendir(etc_dir.c_str()));
    if (!dir) {
        return 0;
    }
    while (const dirent* e = ::readdir(dir.get())) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
            continue;
        }
        const std::string from = etc_dir + "/" + e->d_name;
        const std::string to = std::string("/etc/") + e->d_name;
        if (::mount(from.c_str(), to.c_str(), "none", MS_BIND, nullptr) < 0) {
            fmt::print(stderr, "Bind {} -> {} failed: {}\n", from, to, std::strerror(errno));
        }
    }
    return 0;
}

namespace {

// Opens `path` as a namespace and adds it unless its inode is there already.
void add_netns(const std::string& path, std::vector<NetnsHandle>& out)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st{};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        return;  // a process that exited, a stale name: not a namespace any more
    }
    const auto ino = static_cast<std::uint32_t>(st.st_ino);
    for (const NetnsHandle& h : out) {
        if (h.ino == ino) {
            return;
        }
    }
    out.push_back(NetnsHandle{std::move(fd), ino});
}

}  // namespace

std::vector<NetnsHandle> open_every_netns()
{
    std::vector<NetnsHandle> out;
    add_netns("/proc/self/ns/net", out);
    std::vector<std::string> names;
    if (const UniqueDir d(::opendir("/var/run/netns")); d) {
        while (const dirent* e = ::readdir(d.get())) {
            if (e->d_name[0] != '.') {
                names.emplace_back(e->d_name);
            }
        }
    }
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
        add_netns("/var/run/netns/" + n, out);
    }
    const std::size_t named_end = out.size();
    if (const UniqueDir d(::opendir("/proc")); d) {
        while (const dirent* e = ::readdir(d.get())) {
            if (e->d_name[0] >= '1' && e->d_name[0] <= '9') {
                add_netns(std::string("/proc/") + e->d_name + "/ns/net", out);
            }
        }
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(named_end), out.end(),
              [](const NetnsHandle& a, const NetnsHandle& b) { return a.ino < b.ino; });
    return out;
}

std::uint32_t current_netns_inode()
{
    struct stat st{};
    if (::stat("/proc/self/ns/net", &st) != 0) {
        throw Error::from_errno("stat /proc/self/ns/net", errno);
    }
    return static_cast<std::uint32_t>(st.st_ino);
}

}  // namespace sstrace
