// SPDX-License-Identifier: GPL-2.0-only
// A NETLINK_SOCK_DIAG socket that runs dumps and requests, and the attribute table of one
// answer, both over libmnl (internal to src/sources).
#pragma once

#include "sstrace/core/unique.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sstrace {

struct MnlSocketTraits {
    using Handle = mnl_socket*;
    static constexpr mnl_socket* kEmpty = nullptr;
    static void close(mnl_socket* s) { mnl_socket_close(s); }
};

class DiagSocket {
public:
    // Opens and binds the socket; throws Error when it cannot.
    DiagSocket();

    // Sends `req` (a complete netlink message) and feeds every answer message to `on_msg`
    // until NLMSG_DONE. Returns 0, the negative errno from an NLMSG_ERROR answer or from
    // NLMSG_DONE, or the negative value `on_msg` returned (which stops the dump). `raw_out`,
    // when set, gets every received buffer verbatim instead (ss -D).
    int dump(const void* req, std::size_t len,
             const std::function<int(const nlmsghdr*)>& on_msg, std::FILE* raw_out = nullptr);

    // Sends a request with NLM_F_ACK and waits for the ack: 0 or a negative errno.
    int request(void* req, std::size_t len);

private:
    int receive();
    void drain();

    Unique<MnlSocketTraits> nl_;
    unsigned portid_ = 0;
    std::uint32_t seq_ = 123456;
    // uninitialised: a zeroed one would fault in all its 16 pages before the first answer,
    // however short the dump (a listing of ten sockets uses one page)
    static constexpr std::size_t kBufBytes = 64 * 1024;
    std::unique_ptr<char[]> buf_ = std::make_unique_for_overwrite<char[]>(kBufBytes);
};

// The attributes of one message or nest, first occurrence of each type (up to kMax).
class AttrTable {
public:
    static constexpr int kMax = 48;

    // The attributes after a message's fixed header of `header_len` bytes.
    void parse(const nlmsghdr* h, std::size_t header_len);
    // The attributes inside a nested attribute.
    void parse_nested(int type, AttrTable& out) const;

    bool has(int type) const { return type >= 0 && type <= kMax && attrs_[type] != nullptr; }
    const void* data(int type) const;
    std::size_t len(int type) const;

    // The payload copied into a T, zero past its end; nullopt when the attribute is absent.
    template <typename T>
    std::optional<T> get(int type) const
    {
        if (!has(type)) {
            return std::nullopt;
        }
        T v{};
        std::memcpy(&v, data(type), std::min(sizeof(T), len(type)));
        return v;
    }

    // The payload as an array of T (whole elements only); nullopt when absent.
    template <typename T>
    std::optional<std::vector<T>> get_array(int type) const
    {
        if (!has(type)) {
            return std::nullopt;
        }
        std::vector<T> v(len(type) / sizeof(T));
        std::memcpy(v.data(), data(type), v.size() * sizeof(T));
        return v;
    }

    // A string payload up to its NUL, at most `max` bytes; empty when absent.
    std::string text(int type, std::size_t max) const;

private:
    static int collect(const nlattr* a, void* table);
    void clear() { std::fill(std::begin(attrs_), std::end(attrs_), nullptr); }

    const nlattr* attrs_[kMax + 1] = {};
};

}  // namespace sstrace
