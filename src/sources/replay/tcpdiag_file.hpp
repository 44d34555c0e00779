// SPDX-License-Identifier: GPL-2.0-only
// TCPDIAG_FILE: a recorded TCP dump (ss -D) listed instead of asking the kernel (internal to
// src/sources).
#pragma once

#include "sstrace/sources/listing.hpp"

#include <string>

namespace sstrace::replay {

// Every socket of the file, up to its first NLMSG_DONE (as ss, so only the IPv4 half of a dump
// that holds both families). Prints ss's messages when the file cannot be read.
void read_tcpdiag_file(const std::string& path, const SocketHandler& on_socket);

}  // namespace sstrace::replay
