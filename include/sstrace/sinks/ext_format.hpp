// SPDX-License-Identifier: GPL-2.0-only
// The extended-information items of an ss row: timers, rates, skmem, tcp_info, md5 keys.
#pragma once

#include "sstrace/model/socket.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace sstrace {

// The timer expiry as ss 6.11+ prints it: `119min`, `2min3sec`, `59sec`, `9.388sec`, `716ms`,
// and the empty string for 0.
std::string format_timer_ms(std::uint64_t ms);

// ` timer:(NAME,EXPIRES,N)`, or nothing when no timer is armed (kind 0).
void append_timer(std::string& out, const SocketTimer& timer);

// printf's %#x: `0x10`, but `0` for zero (tos:, tclass:, class_id:).
std::string alt_hex(std::uint32_t v);

// A bandwidth without the `bps` suffix: `%.0f` with numeric, else `%.3g` with T/G/M/k.
std::string format_bandwidth(double bps, bool numeric);

// ` skmem:(r..,rb..,t..,tb..,f..,w..,o..[,bl..][,d..])` from a SK_MEMINFO array.
void append_skmem(std::string& out, std::span<const std::uint32_t> meminfo);

// The tcp_info items (` ts sack cubic wscale:... rto:... ...`) of a socket with tcp.info set.
// `show_options` (-o, -e, -b) adds ts/sack/ecn/ecnseen/fastopen.
void append_tcp_info(std::string& out, const Socket::Tcp& tcp, int state, bool show_options,
                     bool numeric);

// ` md5keys:ADDR/PLEN=KEY,...`. Key bytes that are not printable, and `\`, space and comma, are
// written as `\ooo`. Printed inside the row (the 6.8+ fix; 6.1 wrote keys straight to stdout).
void append_md5keys(std::string& out, std::span<const tcp_diag_md5sig> keys);

}  // namespace sstrace
