// SPDX-License-Identifier: GPL-2.0-only
// What `ss -N NAME` does after setns(): a private mount namespace with a /sys that describes
// the new network namespace, and /etc/netns/NAME/* bound over /etc (as `ip netns exec`).
#include "sstrace/dump.hpp"

#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace sstrace {

int netns_private_mounts(const std::string& name)
{
    if (::unshare(CLONE_NEWNS) < 0) {
        std::fprintf(stderr, "unshare failed: %s\n", std::strerror(errno));
        return -1;
    }
    if (::mount("", "/", "none", MS_SLAVE | MS_REC, nullptr) != 0) {
        std::fprintf(stderr, "\"mount --make-rslave /\" failed: %s\n", std::strerror(errno));
        return -1;
    }
    unsigned long flags = 0;
    struct statvfs fs{};
    if (::statvfs("/sys", &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
        flags = MS_RDONLY;
    }
    ::umount2("/sys", MNT_DETACH);  // there may be no sysfs mounted: fine
    if (::mount(name.c_str(), "/sys", "sysfs", flags, nullptr) < 0) {
        std::fprintf(stderr, "mount of /sys failed: %s\n", std::strerror(errno));
        return -1;
    }
    const std::string etc_dir = "/etc/netns/" + name;
    DIR* dir = ::opendir(etc_dir.c_str());
    if (dir == nullptr) {
        return 0;
    }
    while (dirent* e = ::readdir(dir)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
            continue;
        }
        const std::string from = etc_dir + "/" + e->d_name;
        const std::string to = std::string("/etc/") + e->d_name;
        if (::mount(from.c_str(), to.c_str(), "none", MS_BIND, nullptr) < 0) {
            std::fprintf(stderr, "Bind %s -> %s failed: %s\n", from.c_str(), to.c_str(),
                         std::strerror(errno));
        }
    }
    ::closedir(dir);
    return 0;
}

}  // namespace sstrace
