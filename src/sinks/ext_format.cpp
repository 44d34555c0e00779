// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/ext_format.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace sstrace {

std::string format_timer_ms(std::uint64_t ms)
{
    std::string s;
    if (ms == 0) {
        return s;
    }
    auto to = std::back_inserter(s);
    std::uint64_t msecs = ms % 1000;
    std::uint64_t secs = ms / 1000;
    const std::uint64_t mins = secs / 60;
    secs %= 60;
    if (mins != 0) {
        fmt::format_to(to, "{}min", mins);
        if (mins >= 10) {
            return s;
        }
        msecs = 0;
    }
    if (secs != 0) {
        if (secs >= 10) {
            msecs = 0;
        }
        fmt::format_to(to, "{}{}", secs, msecs != 0 ? "." : "sec");
    }
    if (msecs != 0) {
        fmt::format_to(to, "{:03}{}", msecs, secs != 0 ? "sec" : "ms");
    }
    return s;
}

void append_timer(std::string& out, const SocketTimer& timer)
{
    static constexpr const char* kNames[] = {"off", "on", "keepalive", "timewait", "persist",
                                             "unknown"};
    if (timer.kind == 0) {
        return;
    }
    fmt::format_to(std::back_inserter(out), " timer:({},{},{})", kNames[std::min(timer.kind, 5u)],
                   format_timer_ms(timer.expires_ms), timer.retrans);
}

std::string alt_hex(std::uint32_t v) { return v == 0 ? "0" : fmt::format("{:#x}", v); }

std::string format_bandwidth(double bw, bool numeric)
{
    if (numeric) {
        return fmt::format("{:.0f}", bw);
    }
    if (bw >= 1e12) {
        return fmt::format("{:.3g}T", bw / 1e12);
    }
    if (bw >= 1e9) {
        return fmt::format("{:.3g}G", bw / 1e9);
    }
    if (bw >= 1e6) {
        return fmt::format("{:.3g}M", bw / 1e6);
    }
    if (bw >= 1e3) {
        return fmt::format("{:.3g}k", bw / 1e3);
    }
    return fmt::format("{:g}", bw);
}

void append_skmem(std::string& out, std::span<const std::uint32_t> m)
{
    if (m.size() <= SK_MEMINFO_OPTMEM) {
        return;
    }
    auto to = std::back_inserter(out);
    fmt::format_to(to, " skmem:(r{},rb{},t{},tb{},f{},w{},o{}", m[SK_MEMINFO_RMEM_ALLOC],
                   m[SK_MEMINFO_RCVBUF], m[SK_MEMINFO_WMEM_ALLOC], m[SK_MEMINFO_SNDBUF],
                   m[SK_MEMINFO_FWD_ALLOC], m[SK_MEMINFO_WMEM_QUEUED], m[SK_MEMINFO_OPTMEM]);
    if (m.size() > SK_MEMINFO_BACKLOG) {
        fmt::format_to(to, ",bl{}", m[SK_MEMINFO_BACKLOG]);
    }
    if (m.size() > SK_MEMINFO_DROPS) {
        fmt::format_to(to, ",d{}", m[SK_MEMINFO_DROPS]);
    }
    out += ')';
}

namespace {

// The congestion-control specific items (dctcp, bbr) and the send rate, which vegas' rtt
// refines.
void append_cc_info(std::string& out, const Socket::Tcp& tcp, bool numeric)
{
    auto to = std::back_inserter(out);
    const tcp_info& ti = *tcp.info;
    if (const auto& d = tcp.dctcp) {
        if (d->dctcp_enabled != 0) {
            fmt::format_to(to, " dctcp:(ce_state:{},alpha:{},ab_ecn:{},ab_tot:{})",
                           d->dctcp_ce_state, d->dctcp_alpha, d->dctcp_ab_ecn, d->dctcp_ab_tot);
        } else {
            out += " dctcp:fallback_mode";
        }
    }
    if (const auto& b = tcp.bbr) {
        const std::uint64_t bw = (static_cast<std::uint64_t>(b->bbr_bw_hi) << 32) | b->bbr_bw_lo;
        fmt::format_to(to, " bbr:(bw:{}bps,mrtt:{:g}",
                       format_bandwidth(static_cast<double>(bw) * 8.0, numeric),
                       static_cast<double>(b->bbr_min_rtt) / 1000.0);
        if (b->bbr_pacing_gain != 0) {
            fmt::format_to(to, ",pacing_gain:{:g}", static_cast<double>(b->bbr_pacing_gain) / 256.0);
        }
        if (b->bbr_cwnd_gain != 0) {
            fmt::format_to(to, ",cwnd_gain:{:g}", static_cast<double>(b->bbr_cwnd_gain) / 256.0);
        }
        out += ')';
    }
    double rtt = static_cast<double>(ti.tcpi_rtt);
    if (const auto& v = tcp.vegas) {
        if (v->tcpv_enabled != 0 && v->tcpv_rtt != 0 && v->tcpv_rtt != 0x7fffffff) {
            rtt = static_cast<double>(v->tcpv_rtt);
        }
    }
    if (rtt > 0 && ti.tcpi_snd_mss != 0 && ti.tcpi_snd_cwnd != 0) {
        const double send_bps = static_cast<double>(ti.tcpi_snd_cwnd) *
                                static_cast<double>(ti.tcpi_snd_mss) * 8000000. / rtt;
        if (send_bps != 0) {
            fmt::format_to(to, " send {}bps", format_bandwidth(send_bps, numeric));
        }
    }
}

}  // namespace

void append_tcp_info(std::string& out, const Socket::Tcp& tcp, int state, bool show_options,
                     bool numeric)
{
    if (!tcp.info) {
        return;
    }
    const tcp_info& ti = *tcp.info;
    auto to = std::back_inserter(out);
    auto ms = [](std::uint32_t us) { return static_cast<double>(us) / 1000; };
    auto nonzero = [&](const char* name, std::uint64_t v) {
        if (v != 0) {
            fmt::format_to(to, " {}:{}", name, v);
        }
    };

    if (show_options) {
        if ((ti.tcpi_options & TCPI_OPT_TIMESTAMPS) != 0) {
            out += " ts";
        }
        if ((ti.tcpi_options & TCPI_OPT_SACK) != 0) {
            out += " sack";
        }
        if ((ti.tcpi_options & TCPI_OPT_ECN) != 0) {
            out += " ecn";
        }
        if ((ti.tcpi_options & TCPI_OPT_ECN_SEEN) != 0) {
            out += " ecnseen";
        }
        if ((ti.tcpi_options & TCPI_OPT_SYN_DATA) != 0) {
            out += " fastopen";
        }
    }
    if (!tcp.cong.empty()) {
        out += ' ';
        out += tcp.cong;
    }
    if ((ti.tcpi_options & TCPI_OPT_WSCALE) != 0) {
        fmt::format_to(to, " wscale:{},{}", static_cast<int>(ti.tcpi_snd_wscale),
                       static_cast<int>(ti.tcpi_rcv_wscale));
    }
    if (ti.tcpi_rto != 0 && ti.tcpi_rto != 3000000) {
        fmt::format_to(to, " rto:{:g}", ms(ti.tcpi_rto));
    }
    nonzero("backoff", ti.tcpi_backoff);
    if (ti.tcpi_rtt != 0) {
        fmt::format_to(to, " rtt:{:g}/{:g}", ms(ti.tcpi_rtt), ms(ti.tcpi_rttvar));
    }
    if (ti.tcpi_ato != 0) {
        fmt::format_to(to, " ato:{:g}", ms(ti.tcpi_ato));
    }
    nonzero("mss", ti.tcpi_snd_mss);
    nonzero("pmtu", ti.tcpi_pmtu);
    nonzero("rcvmss", ti.tcpi_rcv_mss);
    nonzero("advmss", ti.tcpi_advmss);
    nonzero("cwnd", ti.tcpi_snd_cwnd);
    if (ti.tcpi_snd_ssthresh < 0xFFFF && ti.tcpi_snd_ssthresh != 0) {
        fmt::format_to(to, " ssthresh:{}", ti.tcpi_snd_ssthresh);
    }
    nonzero("bytes_sent", ti.tcpi_bytes_sent);
    nonzero("bytes_retrans", ti.tcpi_bytes_retrans);
    nonzero("bytes_acked", ti.tcpi_bytes_acked);
    nonzero("bytes_received", ti.tcpi_bytes_received);
    nonzero("segs_out", ti.tcpi_segs_out);
    nonzero("segs_in", ti.tcpi_segs_in);
    nonzero("data_segs_out", ti.tcpi_data_segs_out);
    nonzero("data_segs_in", ti.tcpi_data_segs_in);
    append_cc_info(out, tcp, numeric);
    nonzero("lastsnd", ti.tcpi_last_data_sent);
    nonzero("lastrcv", ti.tcpi_last_data_recv);
    nonzero("lastack", ti.tcpi_last_ack_recv);
    if (ti.tcpi_pacing_rate != 0 && ti.tcpi_pacing_rate != ~0ULL) {
        fmt::format_to(to, " pacing_rate {}bps",
                       format_bandwidth(static_cast<double>(ti.tcpi_pacing_rate) * 8., numeric));
        if (ti.tcpi_max_pacing_rate != 0 && ti.tcpi_max_pacing_rate != ~0ULL) {
            fmt::format_to(
                to, "/{}bps",
                format_bandwidth(static_cast<double>(ti.tcpi_max_pacing_rate) * 8., numeric));
        }
    }
    if (ti.tcpi_delivery_rate != 0) {
        fmt::format_to(to, " delivery_rate {}bps",
                       format_bandwidth(static_cast<double>(ti.tcpi_delivery_rate) * 8., numeric));
    }
    nonzero("delivered", ti.tcpi_delivered);
    nonzero("delivered_ce", ti.tcpi_delivered_ce);
    if (ti.tcpi_delivery_rate_app_limited != 0) {
        out += " app_limited";
    }
    if (ti.tcpi_busy_time != 0) {
        const auto busy = static_cast<double>(ti.tcpi_busy_time);
        fmt::format_to(to, " busy:{}ms", ti.tcpi_busy_time / 1000);
        if (ti.tcpi_rwnd_limited != 0) {
            fmt::format_to(to, " rwnd_limited:{}ms({:.1f}%)", ti.tcpi_rwnd_limited / 1000,
                           100.0 * static_cast<double>(ti.tcpi_rwnd_limited) / busy);
        }
        if (ti.tcpi_sndbuf_limited != 0) {
            fmt::format_to(to, " sndbuf_limited:{}ms({:.1f}%)", ti.tcpi_sndbuf_limited / 1000,
                           100.0 * static_cast<double>(ti.tcpi_sndbuf_limited) / busy);
        }
    }
    nonzero("unacked", ti.tcpi_unacked);
    if (ti.tcpi_retrans != 0 || ti.tcpi_total_retrans != 0) {
        fmt::format_to(to, " retrans:{}/{}", ti.tcpi_retrans, ti.tcpi_total_retrans);
    }
    nonzero("lost", ti.tcpi_lost);
    if (ti.tcpi_sacked != 0 && state != 10) {  // not for LISTEN, where it is the backlog
        fmt::format_to(to, " sacked:{}", ti.tcpi_sacked);
    }
    nonzero("dsack_dups", ti.tcpi_dsack_dups);
    nonzero("fackets", ti.tcpi_fackets);
    if (ti.tcpi_reordering != 3) {
        fmt::format_to(to, " reordering:{}", ti.tcpi_reordering);
    }
    nonzero("reord_seen", ti.tcpi_reord_seen);
    if (ti.tcpi_rcv_rtt != 0) {
        fmt::format_to(to, " rcv_rtt:{:g}", ms(ti.tcpi_rcv_rtt));
    }
    nonzero("rcv_space", ti.tcpi_rcv_space);
    nonzero("rcv_ssthresh", ti.tcpi_rcv_ssthresh);
    nonzero("notsent", ti.tcpi_notsent_bytes);
    if (ti.tcpi_min_rtt != 0 && ti.tcpi_min_rtt != ~0U) {
        fmt::format_to(to, " minrtt:{:g}", ms(ti.tcpi_min_rtt));
    }
    nonzero("rcv_ooopack", ti.tcpi_rcv_ooopack);
    nonzero("snd_wnd", ti.tcpi_snd_wnd);
}

void append_md5keys(std::string& out, std::span<const tcp_diag_md5sig> keys)
{
    out += " md5keys:";
    for (const tcp_diag_md5sig& sig : keys) {
        if (&sig != keys.data()) {
            out += ',';
        }
        char host[INET6_ADDRSTRLEN] = {};
        ::inet_ntop(sig.tcpm_family, sig.tcpm_addr, host, sizeof(host));
        fmt::format_to(std::back_inserter(out), "{}/{}=", host, sig.tcpm_prefixlen);
        for (unsigned i = 0; i < sig.tcpm_keylen && i < sizeof(sig.tcpm_key); ++i) {
            const unsigned char c = sig.tcpm_key[i];
            if (std::isprint(c) != 0 && c != '\\' && c != ' ' && c != ',') {
                out += static_cast<char>(c);
            } else {
                fmt::format_to(std::back_inserter(out), "\\{:03o}", c);
            }
        }
    }
}

}  // namespace sstrace
