// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/ext_format.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace sstrace {

void appendf(std::string& out, const char* fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if (static_cast<std::size_t>(n) < sizeof(buf)) {
        out.append(buf, static_cast<std::size_t>(n));
        return;
    }
    std::string big(static_cast<std::size_t>(n) + 1, '\0');
    va_start(ap, fmt);
    std::vsnprintf(big.data(), big.size(), fmt, ap);
    va_end(ap);
    big.resize(static_cast<std::size_t>(n));
    out += big;
}

std::string format_timer_ms(std::uint64_t ms)
{
    std::string s;
    if (ms == 0) {
        return s;
    }
    std::uint64_t msecs = ms % 1000;
    std::uint64_t secs = ms / 1000;
    const std::uint64_t mins = secs / 60;
    secs %= 60;
    if (mins != 0) {
        appendf(s, "%llumin", static_cast<unsigned long long>(mins));
        if (mins >= 10) {
            return s;
        }
        msecs = 0;
    }
    if (secs != 0) {
        if (secs >= 10) {
            msecs = 0;
        }
        appendf(s, "%llu%s", static_cast<unsigned long long>(secs), msecs != 0 ? "." : "sec");
    }
    if (msecs != 0) {
        appendf(s, "%03llu%s", static_cast<unsigned long long>(msecs), secs != 0 ? "sec" : "ms");
    }
    return s;
}

void append_timer(std::string& out, unsigned timer, std::uint64_t expires_ms, unsigned retrans)
{
    static constexpr const char* kNames[] = {"off", "on", "keepalive", "timewait", "persist",
                                             "unknown"};
    if (timer == 0) {
        return;
    }
    const unsigned idx = std::min(timer, 5u);
    appendf(out, " timer:(%s,%s,%u)", kNames[idx], format_timer_ms(expires_ms).c_str(), retrans);
}

std::string format_bandwidth(double bw, bool numeric)
{
    std::string s;
    if (numeric) {
        appendf(s, "%.0f", bw);
    } else if (bw >= 1e12) {
        appendf(s, "%.3gT", bw / 1e12);
    } else if (bw >= 1e9) {
        appendf(s, "%.3gG", bw / 1e9);
    } else if (bw >= 1e6) {
        appendf(s, "%.3gM", bw / 1e6);
    } else if (bw >= 1e3) {
        appendf(s, "%.3gk", bw / 1e3);
    } else {
        appendf(s, "%g", bw);
    }
    return s;
}

void append_skmem(std::string& out, std::span<const std::uint32_t> m)
{
    if (m.size() <= SK_MEMINFO_OPTMEM) {
        return;
    }
    appendf(out, " skmem:(r%u,rb%u,t%u,tb%u,f%u,w%u,o%u", m[SK_MEMINFO_RMEM_ALLOC],
            m[SK_MEMINFO_RCVBUF], m[SK_MEMINFO_WMEM_ALLOC], m[SK_MEMINFO_SNDBUF],
            m[SK_MEMINFO_FWD_ALLOC], m[SK_MEMINFO_WMEM_QUEUED], m[SK_MEMINFO_OPTMEM]);
    if (m.size() > SK_MEMINFO_BACKLOG) {
        appendf(out, ",bl%u", m[SK_MEMINFO_BACKLOG]);
    }
    if (m.size() > SK_MEMINFO_DROPS) {
        appendf(out, ",d%u", m[SK_MEMINFO_DROPS]);
    }
    out += ')';
}

namespace {

template <typename T>
T copy_struct(const void* p, std::size_t len)
{
    T v{};
    if (p != nullptr) {
        std::memcpy(&v, p, std::min(len, sizeof(T)));
    }
    return v;
}

}  // namespace

void append_tcp_info(std::string& out, const TcpInfoInput& in)
{
    if (in.info == nullptr) {
        return;
    }
    const auto ti = copy_struct<tcp_info>(in.info, in.info_len);
    const bool numeric = in.numeric;

    if (in.show_options) {
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
    if (!in.cong.empty()) {
        out += ' ';
        out += in.cong;
    }
    if ((ti.tcpi_options & TCPI_OPT_WSCALE) != 0) {
        appendf(out, " wscale:%d,%d", static_cast<int>(ti.tcpi_snd_wscale),
                static_cast<int>(ti.tcpi_rcv_wscale));
    }
    if (ti.tcpi_rto != 0 && ti.tcpi_rto != 3000000) {
        appendf(out, " rto:%g", static_cast<double>(ti.tcpi_rto) / 1000);
    }
    if (ti.tcpi_backoff != 0) {
        appendf(out, " backoff:%u", static_cast<unsigned>(ti.tcpi_backoff));
    }
    if (ti.tcpi_rtt != 0) {
        appendf(out, " rtt:%g/%g", static_cast<double>(ti.tcpi_rtt) / 1000,
                static_cast<double>(ti.tcpi_rttvar) / 1000);
    }
    if (ti.tcpi_ato != 0) {
        appendf(out, " ato:%g", static_cast<double>(ti.tcpi_ato) / 1000);
    }
    if (ti.tcpi_snd_mss != 0) {
        appendf(out, " mss:%d", static_cast<int>(ti.tcpi_snd_mss));
    }
    if (ti.tcpi_pmtu != 0) {
        appendf(out, " pmtu:%u", ti.tcpi_pmtu);
    }
    if (ti.tcpi_rcv_mss != 0) {
        appendf(out, " rcvmss:%d", static_cast<int>(ti.tcpi_rcv_mss));
    }
    if (ti.tcpi_advmss != 0) {
        appendf(out, " advmss:%d", static_cast<int>(ti.tcpi_advmss));
    }
    if (ti.tcpi_snd_cwnd != 0) {
        appendf(out, " cwnd:%u", ti.tcpi_snd_cwnd);
    }
    if (ti.tcpi_snd_ssthresh < 0xFFFF && ti.tcpi_snd_ssthresh != 0) {
        appendf(out, " ssthresh:%d", static_cast<int>(ti.tcpi_snd_ssthresh));
    }
    auto u64 = [&](const char* name, unsigned long long v) {
        if (v != 0) {
            appendf(out, " %s:%llu", name, v);
        }
    };
    auto u32 = [&](const char* name, unsigned v) {
        if (v != 0) {
            appendf(out, " %s:%u", name, v);
        }
    };
    u64("bytes_sent", ti.tcpi_bytes_sent);
    u64("bytes_retrans", ti.tcpi_bytes_retrans);
    u64("bytes_acked", ti.tcpi_bytes_acked);
    u64("bytes_received", ti.tcpi_bytes_received);
    u32("segs_out", ti.tcpi_segs_out);
    u32("segs_in", ti.tcpi_segs_in);
    u32("data_segs_out", ti.tcpi_data_segs_out);
    u32("data_segs_in", ti.tcpi_data_segs_in);

    if (in.dctcp != nullptr) {
        const auto d = copy_struct<tcp_dctcp_info>(in.dctcp, in.dctcp_len);
        if (d.dctcp_enabled != 0) {
            appendf(out, " dctcp:(ce_state:%u,alpha:%u,ab_ecn:%u,ab_tot:%u)",
                    static_cast<unsigned>(d.dctcp_ce_state), d.dctcp_alpha, d.dctcp_ab_ecn,
                    d.dctcp_ab_tot);
        } else {
            out += " dctcp:fallback_mode";
        }
    }
    if (in.bbr != nullptr) {
        const auto b = copy_struct<tcp_bbr_info>(in.bbr, in.bbr_len);
        const std::uint64_t bw = (static_cast<std::uint64_t>(b.bbr_bw_hi) << 32) | b.bbr_bw_lo;
        appendf(out, " bbr:(bw:%sbps,mrtt:%g",
                format_bandwidth(static_cast<double>(bw) * 8.0, numeric).c_str(),
                static_cast<double>(b.bbr_min_rtt) / 1000.0);
        if (b.bbr_pacing_gain != 0) {
            appendf(out, ",pacing_gain:%g", static_cast<double>(b.bbr_pacing_gain) / 256.0);
        }
        if (b.bbr_cwnd_gain != 0) {
            appendf(out, ",cwnd_gain:%g", static_cast<double>(b.bbr_cwnd_gain) / 256.0);
        }
        out += ')';
    }
    double rtt = static_cast<double>(ti.tcpi_rtt);
    if (in.vegas != nullptr) {
        const auto v = copy_struct<tcpvegas_info>(in.vegas, in.vegas_len);
        if (v.tcpv_enabled != 0 && v.tcpv_rtt != 0 && v.tcpv_rtt != 0x7fffffff) {
            rtt = static_cast<double>(v.tcpv_rtt);
        }
    }
    if (rtt > 0 && ti.tcpi_snd_mss != 0 && ti.tcpi_snd_cwnd != 0) {
        const double send_bps = static_cast<double>(ti.tcpi_snd_cwnd) *
                                static_cast<double>(ti.tcpi_snd_mss) * 8000000. / rtt;
        if (send_bps != 0) {
            appendf(out, " send %sbps", format_bandwidth(send_bps, numeric).c_str());
        }
    }
    u32("lastsnd", ti.tcpi_last_data_sent);
    u32("lastrcv", ti.tcpi_last_data_recv);
    u32("lastack", ti.tcpi_last_ack_recv);
    if (ti.tcpi_pacing_rate != 0 && ti.tcpi_pacing_rate != ~0ULL) {
        appendf(out, " pacing_rate %sbps",
                format_bandwidth(static_cast<double>(ti.tcpi_pacing_rate) * 8., numeric).c_str());
        if (ti.tcpi_max_pacing_rate != 0 && ti.tcpi_max_pacing_rate != ~0ULL) {
            appendf(out, "/%sbps",
                    format_bandwidth(static_cast<double>(ti.tcpi_max_pacing_rate) * 8., numeric)
                        .c_str());
        }
    }
    if (ti.tcpi_delivery_rate != 0) {
        appendf(out, " delivery_rate %sbps",
                format_bandwidth(static_cast<double>(ti.tcpi_delivery_rate) * 8., numeric).c_str());
    }
    u32("delivered", ti.tcpi_delivered);
    u32("delivered_ce", ti.tcpi_delivered_ce);
    if (ti.tcpi_delivery_rate_app_limited != 0) {
        out += " app_limited";
    }
    if (ti.tcpi_busy_time != 0) {
        appendf(out, " busy:%llums", static_cast<unsigned long long>(ti.tcpi_busy_time / 1000));
        if (ti.tcpi_rwnd_limited != 0) {
            appendf(out, " rwnd_limited:%llums(%.1f%%)",
                    static_cast<unsigned long long>(ti.tcpi_rwnd_limited / 1000),
                    100.0 * static_cast<double>(ti.tcpi_rwnd_limited) /
                        static_cast<double>(ti.tcpi_busy_time));
        }
        if (ti.tcpi_sndbuf_limited != 0) {
            appendf(out, " sndbuf_limited:%llums(%.1f%%)",
                    static_cast<unsigned long long>(ti.tcpi_sndbuf_limited / 1000),
                    100.0 * static_cast<double>(ti.tcpi_sndbuf_limited) /
                        static_cast<double>(ti.tcpi_busy_time));
        }
    }
    u32("unacked", ti.tcpi_unacked);
    if (ti.tcpi_retrans != 0 || ti.tcpi_total_retrans != 0) {
        appendf(out, " retrans:%u/%u", static_cast<unsigned>(ti.tcpi_retrans),
                ti.tcpi_total_retrans);
    }
    u32("lost", ti.tcpi_lost);
    if (ti.tcpi_sacked != 0 && in.state != 10) {
        appendf(out, " sacked:%u", ti.tcpi_sacked);
    }
    u32("dsack_dups", ti.tcpi_dsack_dups);
    u32("fackets", ti.tcpi_fackets);
    if (ti.tcpi_reordering != 3) {
        appendf(out, " reordering:%d", static_cast<int>(ti.tcpi_reordering));
    }
    if (ti.tcpi_reord_seen != 0) {
        appendf(out, " reord_seen:%d", static_cast<int>(ti.tcpi_reord_seen));
    }
    if (ti.tcpi_rcv_rtt != 0) {
        appendf(out, " rcv_rtt:%g", static_cast<double>(ti.tcpi_rcv_rtt) / 1000);
    }
    if (ti.tcpi_rcv_space != 0) {
        appendf(out, " rcv_space:%d", static_cast<int>(ti.tcpi_rcv_space));
    }
    u32("rcv_ssthresh", ti.tcpi_rcv_ssthresh);
    u32("notsent", ti.tcpi_notsent_bytes);
    if (ti.tcpi_min_rtt != 0 && ti.tcpi_min_rtt != ~0U) {
        appendf(out, " minrtt:%g", static_cast<double>(ti.tcpi_min_rtt) / 1000);
    }
    u32("rcv_ooopack", ti.tcpi_rcv_ooopack);
    u32("snd_wnd", ti.tcpi_snd_wnd);
}

void append_md5keys(std::string& out, const void* data, std::size_t len)
{
    const auto* p = static_cast<const char*>(data);
    out += " md5keys:";
    for (std::size_t off = 0; off + sizeof(tcp_diag_md5sig) <= len; off += sizeof(tcp_diag_md5sig)) {
        tcp_diag_md5sig sig{};
        std::memcpy(&sig, p + off, sizeof(sig));
        if (off != 0) {
            out += ',';
        }
        char host[INET6_ADDRSTRLEN] = {};
        ::inet_ntop(sig.tcpm_family, sig.tcpm_addr, host, sizeof(host));
        appendf(out, "%s/%d=", host, static_cast<int>(sig.tcpm_prefixlen));
        for (unsigned i = 0; i < sig.tcpm_keylen && i < sizeof(sig.tcpm_key); ++i) {
            const unsigned char c = sig.tcpm_key[i];
            if (std::isprint(c) != 0 && c != '\\' && c != ' ' && c != ',') {
                out += static_cast<char>(c);
            } else {
                appendf(out, "\\%03o", static_cast<unsigned>(c));
            }
        }
    }
}

}  // namespace sstrace
