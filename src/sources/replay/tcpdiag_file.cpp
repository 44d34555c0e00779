// SPDX-License-Identifier: GPL-2.0-only
#include "tcpdiag_file.hpp"

#include "../diag/parse.hpp"
#include "sstrace/core/unique.hpp"

#include <fmt/format.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace sstrace::replay {

namespace {

// Reads `n` bytes; false at the end of the file or on an error (ss's message for a short file).
bool read_exact(std::FILE* fp, void* buf, std::size_t n)
{
    if (std::fread(buf, 1, n, fp) == n) {
        return true;
    }
    if (std::feof(fp) != 0) {
        std::fputs("Unexpected EOF reading $TCPDIAG_FILE", stderr);
    }
    return false;
}

}  // namespace

void read_tcpdiag_file(const std::string& path, const SocketHandler& on_socket)
{
    const UniqueFile fp(std::fopen(path.c_str(), "r"));
    if (!fp) {
        fmt::print(stderr, "fopen($TCPDIAG_FILE): {}\n", std::strerror(errno));
        return;
    }
    std::vector<char> buf(16384);
    auto* h = reinterpret_cast<nlmsghdr*>(buf.data());
    for (;;) {
        if (!read_exact(fp.get(), h, sizeof(*h))) {
            return;
        }
        if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > buf.size()) {
            return;
        }
        if (!read_exact(fp.get(), h + 1, NLMSG_ALIGN(h->nlmsg_len - sizeof(*h)))) {
            return;
        }
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
            return;
        }
        Socket s;
        if (!diag::parse_inet(h, IPPROTO_TCP, s)) {
            return;
        }
        s.origin = Origin::TcpdiagFile;
        on_socket(s);  // a refused -K does not stop a replay
    }
}

}  // namespace sstrace::replay
