// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/listeners.hpp"

#include "diag_socket.hpp"
#include "requests.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/state.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace sstrace {

std::vector<std::uint16_t> listening_tcp_ports()
{
    // the socket belongs to the namespace it is opened in: one per call
    DiagSocket sock;
    std::vector<std::uint16_t> ports;
    for (const int family : {AF_INET, AF_INET6}) {
        const std::vector<char> req =
            diag::inet_dump(family, IPPROTO_TCP, state_bit(kStateListen), {}, {});
        const int rc = sock.dump(req.data(), req.size(), [&](const nlmsghdr* h) {
            if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
                const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
                ports.push_back(ntohs(m->id.idiag_sport));
            }
            return 0;
        });
        // a kernel without IPv6 answers ENOENT for that family: no listeners there
        if (rc < 0 && rc != -ENOENT) {
            throw Error::from_errno("dumping the listening TCP sockets", -rc);
        }
    }
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    return ports;
}

}  // namespace sstrace
