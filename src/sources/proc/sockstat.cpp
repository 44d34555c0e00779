// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/parse.hpp"
#include "sstrace/sources/mib.hpp"
#include "sstrace/sources/summary.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

namespace sstrace {

namespace {

// "TCP: inuse 1 orphan 0 ..." -> {"TCP.inuse": 1, ...}
std::map<std::string, long long> read_keyed(const std::string& path)
{
    std::map<std::string, long long> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string key;
        ls >> key;
        if (!key.empty() && key.back() == ':') {
            key.pop_back();
        }
        std::string name;
        long long value = 0;
        while (ls >> name >> value) {
            out[key + "." + name] = value;
        }
    }
    return out;
}

// The value after `name` on the line of `key` ("TCP:"), 0 when absent, as read_keyed's.
long long keyed_value(std::string_view text, std::string_view key, std::string_view name)
{
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = text.substr(at, end - at);
        at = end + 1;
        if (line.substr(0, line.find(' ')) != key) {
            continue;
        }
        std::size_t pos = key.size();
        while (pos < line.size()) {
            const std::size_t w0 = line.find_first_not_of(' ', pos);
            if (w0 == std::string_view::npos) {
                break;
            }
            const std::size_t w1 = std::min(line.find(' ', w0), line.size());
            const std::size_t v0 = line.find_first_not_of(' ', w1);
            if (v0 == std::string_view::npos) {
                break;
            }
            const std::size_t v1 = std::min(line.find(' ', v0), line.size());
            if (line.substr(w0, w1 - w0) == name) {
                return parse_number<long long>(line.substr(v0, v1 - v0)).value_or(0);
            }
            pos = v1;
        }
    }
    return 0;
}

}  // namespace

long long read_tcp_socket_count(const Environment& env)
{
    const std::string s4 = read_small_file(env.proc_path(ProcFile::Sockstat)).value_or("");
    const std::string s6 = read_small_file(env.proc_path(ProcFile::Sockstat6)).value_or("");
    return keyed_value(s4, "TCP:", "inuse") + keyed_value(s6, "TCP6:", "inuse") +
           keyed_value(s4, "TCP:", "tw");
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
