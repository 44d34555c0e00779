// SPDX-License-Identifier: GPL-2.0-only
// A NETLINK_SOCK_DIAG socket that runs dumps and requests, and the attribute table of one
// answer (internal to src/sources).
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sstrace {

class DiagSocket {
public:
    DiagSocket();
    ~DiagSocket();
    DiagSocket(const DiagSocket&) = delete;
    DiagSocket& operator=(const DiagSocket&) = delete;

    // Sends `req` (a complete netlink message) and feeds every answer message to `on_msg`
    // until NLMSG_DONE. Returns 0, the negative errno from an NLMSG_ERROR answer, or the
    // negative value `on_msg` returned (which stops the dump). `raw_out`, when set, gets every
    // received buffer verbatim (ss -D).
    int dump(const void* req, std::size_t len,
             const std::function<int(const nlmsghdr*)>& on_msg, std::FILE* raw_out = nullptr);

    // Sends a request with NLM_F_ACK and waits for the ack: 0 or a negative errno.
    int request(void* req, std::size_t len);

private:
    int fd_ = -1;
    std::uint32_t seq_ = 123456;
    std::vector<char> buf_;
};

// Attribute table of one message: attrs[type] points at the rtattr (nullptr when absent).
struct AttrTable {
    static constexpr int kMax = 48;
    const struct rtattr* attrs[kMax + 1] = {};

    const void* data(int type) const;
    std::size_t len(int type) const;
    bool has(int type) const { return type <= kMax && attrs[type] != nullptr; }

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

    // A NUL-terminated or length-bounded string payload, at most `max` bytes.
    std::string text(int type, std::size_t max) const;
};

void parse_attrs(AttrTable& t, const void* first, std::size_t len);

}  // namespace sstrace
