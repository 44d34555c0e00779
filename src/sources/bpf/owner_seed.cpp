// SPDX-License-Identifier: GPL-2.0-only
// Owners of the sockets that existed before a stream started: the programs see only sockets
// created or accepted while they run, so the others are found in /proc and written into the
// socket-storage map, which takes a descriptor of the socket as its key.
#include "sstrace/core/unique.hpp"
#include "sstrace/sources/bpf_session.hpp"
#include "sstrace/sources/owners.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <vector>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

namespace sstrace {

namespace {

int pidfd_open(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_getfd(int pidfd, int fd) { return static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0)); }

}  // namespace

OwnerSeedStats seed_owners_from_proc(BpfSession& session, const std::string& proc_dir,
                                     bool threads)
{
    OwnerSeedStats stats;
    SocketOwners owners;
    owners.scan(proc_dir, threads);
    std::unordered_map<int, Unique<FdTraits>> pidfds;
    const int self = static_cast<int>(::getpid());
    std::vector<SocketOwner> holders;
    for (const std::uint64_t inode : owners.inodes()) {
        owners.find(inode, holders);
        if (holders.empty()) {
            continue;
        }
        // ss -p prints the holders in the reverse of the order the scan found them
        const SocketOwner& h = holders.back();
        if (h.pid == self) {
            continue;
        }
        auto it = pidfds.find(h.pid);
        if (it == pidfds.end()) {
            it = pidfds.emplace(h.pid, Unique<FdTraits>(pidfd_open(h.pid))).first;
        }
        if (!it->second) {
            ++stats.failed;
            continue;
        }
        const Unique<FdTraits> sock(pidfd_getfd(it->second.get(), h.fd));
        struct stat st{};
        if (!sock || ::fstat(sock.get(), &st) != 0 || st.st_ino != inode) {
            ++stats.failed;  // closed meanwhile (or the fd now holds something else)
            continue;
        }
        int domain = 0;
        socklen_t len = sizeof(domain);
        if (::getsockopt(sock.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
            (domain != AF_INET && domain != AF_INET6)) {
            continue;
        }
        std::uint64_t cookie = 0;
        len = sizeof(cookie);
        if (::getsockopt(sock.get(), SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) {
            ++stats.failed;
            continue;
        }
        OwnerSeed seed;
        seed.pid = h.pid;
        seed.tid = threads ? h.tid : h.pid;
        seed.fd = h.fd;
        seed.comm = h.comm;
        seed.tcomm = h.comm;
        if (const int err = session.seed_owner(sock.get(), cookie, seed); err != 0) {
            spdlog::debug("recording the owner of socket inode {}: {}", inode, std::strerror(-err));
            ++stats.failed;
            continue;
        }
        ++stats.seeded;
    }
    return stats;
}

}  // namespace sstrace
