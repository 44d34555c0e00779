// SPDX-License-Identifier: GPL-2.0-only
// Formatters of ss's extended-information items (timers, rates, skmem, tcp_info).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sstrace {

// Appends printf-style text.
void appendf(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// The timer expiry as ss 6.11+ prints it: `119min`, `2min3sec`, `59sec`, `9.388sec`, `716ms`,
// and the empty string for 0.
std::string format_timer_ms(std::uint64_t ms);

// ` timer:(NAME,EXPIRES,N)`, or nothing when no timer is armed (timer == 0).
void append_timer(std::string& out, unsigned timer, std::uint64_t expires_ms, unsigned retrans);

// A bandwidth without the `bps` suffix: `%.0f` with numeric, else `%.3g` with T/G/M/k.
std::string format_bandwidth(double bps, bool numeric);

// ` skmem:(r..,rb..,t..,tb..,f..,w..,o..[,bl..][,d..])` from a SK_MEMINFO array.
void append_skmem(std::string& out, std::span<const std::uint32_t> meminfo);

// The pieces of an inet_diag message that tcp_info printing needs.
struct TcpInfoInput {
    const void* info = nullptr;  // struct tcp_info (possibly shorter than ours)
    std::size_t info_len = 0;
    std::string_view cong;       // INET_DIAG_CONG
    const void* vegas = nullptr; // struct tcpvegas_info
    std::size_t vegas_len = 0;
    const void* dctcp = nullptr; // struct tcp_dctcp_info
    std::size_t dctcp_len = 0;
    const void* bbr = nullptr;   // struct tcp_bbr_info
    std::size_t bbr_len = 0;
    int state = 0;
    bool show_options = false;   // -o/-e/-b: print ts/sack/ecn/ecnseen/fastopen
    bool numeric = false;
};

// ` md5keys:ADDR/PLEN=KEY,...` from an INET_DIAG_MD5SIG payload (an array of
// struct tcp_diag_md5sig). Key bytes that are not printable, and `\`, space and comma, are
// written as `\ooo`. Printed inside the row (the 6.8+ fix; 6.1 wrote keys straight to stdout).
void append_md5keys(std::string& out, const void* data, std::size_t len);

// The tcp_info items (` ts sack bbr wscale:... rto:... ...`).
void append_tcp_info(std::string& out, const TcpInfoInput& in);

}  // namespace sstrace
