// SPDX-License-Identifier: GPL-2.0-only
#include "diag_socket.hpp"

#include "sstrace/core/error.hpp"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <cerrno>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

namespace sstrace {

namespace {

// What the control messages of one answer said.
struct Outcome {
    const std::function<int(const nlmsghdr*)>* on_msg = nullptr;
    int result = 0;                       // 0, or a negative errno
    const nlmsghdr* stopped = nullptr;    // the message on_msg asked to stop at
    bool error_acks = false;   // dumps: an NLMSG_ERROR that says 0 is still an error
};

int on_data(const nlmsghdr* h, void* data)
{
    auto* o = static_cast<Outcome*>(data);
    const int rc = (*o->on_msg)(h);
    if (rc < 0) {
        o->result = rc;
        o->stopped = h;
        return MNL_CB_ERROR;
    }
    return MNL_CB_OK;
}

// A dump that fails once started reports the error in NLMSG_DONE.
int on_done(const nlmsghdr* h, void* data)
{
    auto* o = static_cast<Outcome*>(data);
    int err = 0;
    if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
        std::memcpy(&err, mnl_nlmsg_get_payload(h), sizeof(err));
    }
    o->result = err < 0 ? err : 0;
    return MNL_CB_STOP;
}

int on_error(const nlmsghdr* h, void* data)
{
    auto* o = static_cast<Outcome*>(data);
    const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(h));
    o->result = e->error < 0 ? e->error : (o->error_acks ? -EINVAL : 0);
    return MNL_CB_STOP;
}

int on_nothing(const nlmsghdr*, void*) { return MNL_CB_OK; }

// Indexed by message type below NLMSG_MIN_TYPE: NOOP, ERROR, DONE, OVERRUN. (Not const only
// because mnl_cb_run2 takes a non-const array.)
mnl_cb_t kControl[NLMSG_MIN_TYPE] = {nullptr, on_nothing, on_error, on_done, on_nothing};

// Does the buffer hold the end of the dump after message `h`?
bool ends_after(const nlmsghdr* h, const char* buf, int n)
{
    int left = n - static_cast<int>(reinterpret_cast<const char*>(h) - buf);
    for (h = mnl_nlmsg_next(h, &left); mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
            return true;
        }
    }
    return false;
}

}  // namespace

DiagSocket::DiagSocket()
{
    nl_.reset(mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC));
    if (!nl_) {
        throw Error::from_errno("socket(NETLINK_SOCK_DIAG)", errno);
    }
    const int fd = mnl_socket_get_fd(nl_.get());
    int sndbuf = 32768;
    int rcvbuf = 1024 * 1024;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    mnl_socket_setsockopt(nl_.get(), NETLINK_EXT_ACK, &one, sizeof(one));
    if (mnl_socket_bind(nl_.get(), 0, MNL_SOCKET_AUTOPID) != 0) {
        throw Error::from_errno("bind(NETLINK_SOCK_DIAG)", errno);
    }
    portid_ = mnl_socket_get_portid(nl_.get());
}

// One buffer of answers: its length, or a negative errno.
int DiagSocket::receive()
{
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(nl_.get(), buf_.get(), kBufBytes);
        if (n > 0) {
            return static_cast<int>(n);
        }
        if (n == 0) {
            return -EPIPE;
        }
        if (errno != EINTR && errno != EAGAIN) {
            return -errno;
        }
    }
}

// Reads the rest of a dump that was stopped, so that the socket stays usable.
void DiagSocket::drain()
{
    Outcome ignored;
    for (int n = receive(); n > 0; n = receive()) {
        if (mnl_cb_run2(buf_.get(), static_cast<std::size_t>(n), 0, 0, nullptr, &ignored,
                        kControl, NLMSG_MIN_TYPE) != MNL_CB_OK) {
            return;
        }
    }
}

int DiagSocket::dump(const void* req, std::size_t len,
                     const std::function<int(const nlmsghdr*)>& on_msg, std::FILE* raw_out)
{
    if (mnl_socket_sendto(nl_.get(), req, len) < 0) {
        return -errno;
    }
    const unsigned seq = static_cast<const nlmsghdr*>(req)->nlmsg_seq;
    Outcome o;
    o.on_msg = &on_msg;
    o.error_acks = true;
    for (;;) {
        const int n = receive();
        if (n < 0) {
            return n;
        }
        if (raw_out != nullptr) {
            std::fwrite(buf_.get(), 1, static_cast<std::size_t>(n), raw_out);
        }
        const int rc = mnl_cb_run2(buf_.get(), static_cast<std::size_t>(n), seq, portid_,
                                   raw_out != nullptr ? nullptr : on_data, &o, kControl,
                                   NLMSG_MIN_TYPE);
        if (rc == MNL_CB_STOP) {
            return o.result;
        }
        if (rc == MNL_CB_ERROR) {
            if (o.stopped == nullptr) {
                return -errno;  // an answer that is not ours, or an interrupted dump
            }
            if (!ends_after(o.stopped, buf_.get(), n)) {
                drain();
            }
            return o.result;
        }
    }
}

int DiagSocket::request(void* req, std::size_t len)
{
    auto* h = static_cast<nlmsghdr*>(req);
    h->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(nl_.get(), req, len) < 0) {
        return -errno;
    }
    Outcome o;
    for (;;) {
        const int n = receive();
        if (n < 0) {
            return n;
        }
        const int rc = mnl_cb_run2(buf_.get(), static_cast<std::size_t>(n), seq_, portid_,
                                   nullptr, &o, kControl, NLMSG_MIN_TYPE);
        if (rc == MNL_CB_STOP) {
            return o.result;
        }
        if (rc == MNL_CB_ERROR) {
            return -errno;
        }
    }
}

int AttrTable::collect(const nlattr* a, void* table)
{
    auto* t = static_cast<AttrTable*>(table);
    const int type = mnl_attr_get_type(a);
    if (type <= kMax && t->attrs_[type] == nullptr) {
        t->attrs_[type] = a;
    }
    return MNL_CB_OK;
}

void AttrTable::parse(const nlmsghdr* h, std::size_t header_len)
{
    clear();
    mnl_attr_parse(h, static_cast<unsigned>(header_len), collect, this);
}

void AttrTable::parse_nested(int type, AttrTable& out) const
{
    out.clear();
    if (has(type)) {
        mnl_attr_parse_nested(attrs_[type], collect, &out);
    }
}

const void* AttrTable::data(int type) const
{
    return has(type) ? mnl_attr_get_payload(attrs_[type]) : nullptr;
}

std::size_t AttrTable::len(int type) const
{
    return has(type) ? mnl_attr_get_payload_len(attrs_[type]) : 0;
}

std::string AttrTable::text(int type, std::size_t max) const
{
    const auto* s = static_cast<const char*>(data(type));
    return s == nullptr ? std::string() : std::string(s, strnlen(s, std::min(len(type), max)));
}

}  // namespace sstrace
