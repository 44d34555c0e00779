// SPDX-License-Identifier: GPL-2.0-only
// /proc/net/{tcp,udp,raw}[6] -> Socket.
#include "proc_tables.hpp"

#include "sstrace/core/parse.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace sstrace::proc {

namespace {

std::optional<unsigned long long> hex(std::string_view text)
{
    return parse_number<unsigned long long>(text, 16);
}

// `ADDR:PORT` as the kernel writes it: the address as 1 or 4 native-endian 32-bit words in hex.
bool parse_endpoint(std::string_view text, int family, Endpoint& out)
{
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    const std::string_view addr = text.substr(0, colon);
    const std::size_t words = family == AF_INET ? 1 : 4;
    if (addr.size() != words * 8) {
        return false;
    }
    out.addr.family = family;
    for (std::size_t i = 0; i < words; ++i) {
        const auto w = hex(addr.substr(i * 8, 8));
        if (!w) {
            return false;
        }
        const auto word = static_cast<std::uint32_t>(*w);
        std::memcpy(out.addr.bytes + i * 4, &word, 4);
    }
    const auto port = hex(text.substr(colon + 1));
    if (!port) {
        return false;
    }
    out.port = static_cast<std::uint16_t>(*port);
    return true;
}

// The TCP columns after the inode: timers (in jiffies), uid, the socket's address and the few
// tcp_info-like figures the text carries.
void parse_tcp_rest(std::istringstream& rest, const std::string& timer, std::size_t tcolon,
                    const std::string& retr, const std::string& uid_text,
                    const std::string& probes_text, long hz, Socket& s)
{
    std::string refcnt;
    std::string pointer;
    ProcTcpInfo& info = s.tcp.proc.emplace();
    info.hz = hz;
    if (!(rest >> refcnt >> pointer >> info.rto >> info.ato >> info.qack >> info.cwnd >>
          info.ssthresh)) {
        info = ProcTcpInfo{};
        info.hz = hz;
    }
    const auto kind = hex(std::string_view(timer).substr(0, tcolon)).value_or(0);
    const auto when = hex(std::string_view(timer).substr(tcolon + 1)).value_or(0);
    const auto retrans = hex(retr).value_or(0);
    const auto probes = parse_number<unsigned long long>(probes_text).value_or(0);
    const auto jiffies = static_cast<unsigned long long>(hz);
    s.timer.kind = static_cast<unsigned>(kind);
    s.timer.expires_ms = (when * 1000 + jiffies - 1) / jiffies;
    s.timer.retrans = static_cast<unsigned>(kind != 1 ? probes : retrans);
    s.uid = static_cast<std::uint32_t>(parse_number<unsigned long long>(uid_text).value_or(0));
    s.cookie = hex(pointer).value_or(0);
}

}  // namespace

void read_inet(const std::string& path, int family, int protocol, StateMask states,
               const SocketHandler& on_socket)
{
    std::ifstream in(path);
    if (!in) {
        return;
    }
    const long hz = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string sl, loc, rem, st, queues, timer, retr, uid, probes, inode;
        if (!(ls >> sl >> loc >> rem >> st >> queues >> timer >> retr >> uid >> probes >> inode)) {
            continue;
        }
        const auto state = hex(st);
        const std::size_t colon = queues.find(':');
        const std::size_t tcolon = timer.find(':');
        const auto ino = parse_number<unsigned long long>(inode);
        if (!state || *state >= kStateCount || colon == std::string::npos ||
            tcolon == std::string::npos || !ino) {
            continue;
        }
        const auto wq = hex(std::string_view(queues).substr(0, colon));
        const auto rq = hex(std::string_view(queues).substr(colon + 1));
        if (!wq || !rq || (states & state_bit(static_cast<int>(*state))) == 0) {
            continue;
        }
        Socket s;
        s.origin = Origin::ProcText;
        s.family = family;
        s.protocol = protocol;
        s.state = static_cast<int>(*state);
        if (!parse_endpoint(loc, family, s.inet.local) || !parse_endpoint(rem, family, s.inet.peer)) {
            continue;
        }
        s.inode = *ino;
        s.rqueue = static_cast<std::uint32_t>(*rq);
        s.wqueue = static_cast<std::uint32_t>(*wq);
        if (protocol == IPPROTO_TCP) {
            parse_tcp_rest(ls, timer, tcolon, retr, uid, probes, hz, s);
        }
        on_socket(s);
    }
}

}  // namespace sstrace::proc
