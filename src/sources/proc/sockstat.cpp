// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/parse.hpp"
#include "sstrace/sources/mib.hpp"
#include "sstrace/sources/summary.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sstrace {

namespace {

// "TCP: inuse 1 orphan 0 ..." -> {"TCP.inuse": 1, ...}; read with read(2), no iostreams (a
// listing's source rule reads these files at its start).
std::map<std::string, long long> read_keyed(const std::string& path)
{
    std::map<std::string, long long> out;
    const std::string text = read_small_file(path).value_or("");
    std::string_view rest(text);
    while (!rest.empty()) {
        const std::size_t eol = std::min(rest.find('\n'), rest.size());
        std::string_view line = rest.substr(0, eol);
        rest.remove_prefix(std::min(eol + 1, rest.size()));
        std::string_view key = next_word(line);
        if (!key.empty() && key.back() == ':') {
            key.remove_suffix(1);
        }
        for (;;) {
            const std::string_view name = next_word(line);
            const std::optional<long long> value = parse_number<long long>(next_word(line));
            if (name.empty() || !value) {
                break;
            }
            out[std::string(key) + "." + std::string(name)] = *value;
        }
    }
    return out;
}

}  // namespace

long long read_tcp_socket_count(const Environment& env)
{
    auto s4 = read_keyed(env.proc_path(ProcFile::Sockstat));
    auto s6 = read_keyed(env.proc_path(ProcFile::Sockstat6));
    return s4["TCP.inuse"] + s6["TCP6.inuse"] + s4["TCP.tw"];
}

SocketSummary read_summary(const Environment& env)
{
    auto s4 = read_keyed(env.proc_path(ProcFile::Sockstat));
    auto s6 = read_keyed(env.proc_path(ProcFile::Sockstat6));
    SocketSummary s;
    s.sockets_used = s4["sockets.used"];
    s.tcp_alloc = s4["TCP.alloc"];
    s.tcp_timewait = s4["TCP.tw"];
    s.tcp_orphaned = s4["TCP.orphan"];
    s.tcp_established = read_mib_counters(env.proc_path(ProcFile::Snmp))["TcpCurrEstab"];
    s.raw = {s4["RAW.inuse"], s6["RAW6.inuse"]};
    s.udp = {s4["UDP.inuse"], s6["UDP6.inuse"]};
    s.tcp = {s4["TCP.inuse"], s6["TCP6.inuse"]};
    s.frag = {s4["FRAG.inuse"], s6["FRAG6.inuse"]};
    return s;
}

}  // namespace sstrace
