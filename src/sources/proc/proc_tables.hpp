// SPDX-License-Identifier: GPL-2.0-only
// /proc/net text tables -> Socket, the way ss 6.1 reads them (internal to src/sources).
#pragma once

#include "sstrace/model/socket.hpp"
#include "sstrace/sources/listing.hpp"
#include "sstrace/ss/selection.hpp"

#include <string>

namespace sstrace::proc {

// /proc/net/{tcp,udp,raw}[6]: the rows whose state is selected. `protocol` is the table's
// IPPROTO_TCP, IPPROTO_UDP or IPPROTO_RAW.
void read_inet(const std::string& path, int family, int protocol, StateMask states,
               const SocketHandler& on_socket);

// /proc/net/unix: the selected socket types and states, in ss 6.1's order.
void read_unix(const std::string& path, const Selection& sel, const SocketHandler& on_socket);

// /proc/net/packet and /proc/net/netlink: every row.
void read_packet(const std::string& path, const SocketHandler& on_socket);
void read_netlink(const std::string& path, const SocketHandler& on_socket);

}  // namespace sstrace::proc
