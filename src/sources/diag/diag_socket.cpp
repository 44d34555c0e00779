// SPDX-License-Identifier: GPL-2.0-only
#include "diag_socket.hpp"

#include "sstrace/core/error.hpp"

#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

namespace sstrace {

DiagSocket::DiagSocket() : buf_(64 * 1024)
{
    fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd_ < 0) {
        throw Error::from_errno("socket(NETLINK_SOCK_DIAG)", errno);
    }
    int sndbuf = 32768;
    int rcvbuf = 1024 * 1024;
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    ::setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
        const int err = errno;
        ::close(fd_);
        throw Error::from_errno("bind(NETLINK_SOCK_DIAG)", err);
    }
}

DiagSocket::~DiagSocket()
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

int DiagSocket::dump(const void* req, std::size_t len,
                     const std::function<int(const nlmsghdr*)>& on_msg, std::FILE* raw_out)
{
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_, req, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
        return -errno;
    }
    for (;;) {
        const ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            return -EPIPE;
        }
        if (raw_out != nullptr) {
            std::fwrite(buf_.data(), 1, static_cast<std::size_t>(n), raw_out);
        }
        auto remaining = static_cast<unsigned>(n);
        for (auto* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, remaining);
             h = NLMSG_NEXT(h, remaining)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                // A dump that fails once started reports the error in NLMSG_DONE.
                int err = 0;
                if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
                    std::memcpy(&err, NLMSG_DATA(h), sizeof(err));
                }
                return err < 0 ? err : 0;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
                return e->error < 0 ? e->error : -EINVAL;
            }
            if (raw_out != nullptr) {
                continue;
            }
            const int rc = on_msg(h);
            if (rc < 0) {
                // Drain the rest of the dump so the socket stays usable.
                for (;;) {
                    const ssize_t m = ::recv(fd_, buf_.data(), buf_.size(), 0);
                    if (m <= 0) {
                        return rc;
                    }
                    auto left = static_cast<unsigned>(m);
                    for (auto* d = reinterpret_cast<const nlmsghdr*>(buf_.data());
                         NLMSG_OK(d, left); d = NLMSG_NEXT(d, left)) {
                        if (d->nlmsg_type == NLMSG_DONE || d->nlmsg_type == NLMSG_ERROR) {
                            return rc;
                        }
                    }
                }
            }
        }
    }
}

int DiagSocket::request(void* req, std::size_t len)
{
    auto* h = static_cast<nlmsghdr*>(req);
    h->nlmsg_seq = ++seq_;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_, req, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
        return -errno;
    }
    for (;;) {
        const ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -errno;
        }
        auto remaining = static_cast<unsigned>(n);
        for (auto* r = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(r, remaining);
             r = NLMSG_NEXT(r, remaining)) {
            if (r->nlmsg_type == NLMSG_ERROR && r->nlmsg_seq == seq_) {
                return static_cast<const nlmsgerr*>(NLMSG_DATA(r))->error;
            }
        }
    }
}

const void* AttrTable::data(int type) const
{
    return has(type) ? RTA_DATA(attrs[type]) : nullptr;
}

std::size_t AttrTable::len(int type) const
{
    return has(type) ? static_cast<std::size_t>(RTA_PAYLOAD(attrs[type])) : 0;
}

std::string AttrTable::text(int type, std::size_t max) const
{
    const auto* s = static_cast<const char*>(data(type));
    return s == nullptr ? std::string() : std::string(s, strnlen(s, std::min(len(type), max)));
}

void parse_attrs(AttrTable& t, const void* first, std::size_t len)
{
    std::memset(t.attrs, 0, sizeof(t.attrs));
    const auto* base = static_cast<const char*>(first);
    std::size_t off = 0;
    while (off + sizeof(rtattr) <= len) {
        const auto* a = reinterpret_cast<const rtattr*>(base + off);
        if (a->rta_len < sizeof(rtattr) || off + a->rta_len > len) {
            break;
        }
        const int type = a->rta_type & ~NLA_F_NESTED;
        if (type <= AttrTable::kMax && t.attrs[type] == nullptr) {
            t.attrs[type] = a;
        }
        off += RTA_ALIGN(static_cast<std::size_t>(a->rta_len));
    }
}

}  // namespace sstrace
