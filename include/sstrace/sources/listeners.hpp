// SPDX-License-Identifier: GPL-2.0-only
// The listening TCP ports of a network namespace: what the metrics' service-port rule needs
// (entering LISTEN is not traced, so the BPF programs learn listeners from userspace).
#pragma once

#include <cstdint>
#include <vector>

namespace sstrace {

// The TCP ports listening (IPv4 and IPv6) in the calling thread's network namespace, from a
// LISTEN-only sock_diag dump: sorted, each once. Throws Error when the dump cannot be run.
std::vector<std::uint16_t> listening_tcp_ports();

}  // namespace sstrace
