// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/parse.hpp"
#include "sstrace/sources/mib.hpp"
#include "sstrace/sources/summary.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

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

}  // namespace

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
