// SPDX-License-Identifier: GPL-2.0-only
// /proc/net/{unix,packet,netlink} -> Socket.
#include "proc_tables.hpp"

#include "sstrace/core/unique.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace sstrace::proc {

namespace {

// Calls fn(line) for every line of a /proc socket table after its header line.
template <typename Fn>
void for_each_line(const std::string& path, std::size_t max_line, Fn&& fn)
{
    const UniqueFile fp(std::fopen(path.c_str(), "r"));
    if (!fp) {
        return;
    }
    std::vector<char> line(max_line);
    const int size = static_cast<int>(line.size());
    if (std::fgets(line.data(), size, fp.get()) == nullptr) {
        return;
    }
    while (std::fgets(line.data(), size, fp.get()) != nullptr) {
        fn(static_cast<const char*>(line.data()));
    }
}

// The state ss 6.1 derives from a /proc/net/unix line: the kernel's socket pointer lands in
// its peer field, so an unconnected datagram socket counts as ESTAB.
int unix_state(unsigned st, unsigned flags, unsigned type, unsigned long long peer)
{
    static constexpr int kStateMap[] = {kStateClose, kStateSynSent, kStateEstablished,
                                        kStateClosing};
    if ((flags & (1u << 16)) != 0) {  // __SO_ACCEPTCON
        return kStateListen;
    }
    if (st == 0 || st > 4) {
        return static_cast<int>(st);
    }
    const int state = kStateMap[st - 1];
    if (type == SOCK_DGRAM && state == kStateClose && static_cast<std::uint32_t>(peer) != 0) {
        return kStateEstablished;
    }
    return state;
}

}  // namespace

// Queues and peers are zeroed, and rows are sorted by type and inode in batches of what fits in
// 1 MiB of ss's struct sockstat.
void read_unix(const std::string& path, const Selection& sel, const SocketHandler& on_socket)
{
    constexpr std::size_t kBatch = 1747;
    std::vector<Socket> batch;
    auto flush = [&] {
        std::stable_sort(batch.begin(), batch.end(), [](const Socket& a, const Socket& b) {
            return a.type != b.type ? a.type < b.type : a.inode < b.inode;
        });
        for (Socket& s : batch) {
            on_socket(s);
        }
        batch.clear();
    };
    for_each_line(path, 512, [&](const char* line) {
        unsigned long long peer = 0;
        unsigned refcnt = 0;
        unsigned proto = 0;
        unsigned flags = 0;
        unsigned type = 0;
        unsigned st = 0;
        unsigned ino = 0;
        char name[256] = {};
        if (std::sscanf(line, "%llx: %x %x %x %x %x %u %255s", &peer, &refcnt, &proto, &flags,
                        &type, &st, &ino, name) < 8) {
            name[0] = '\0';
        }
        const int state = unix_state(st, flags, type, peer);
        if (!sel.has_unix_type(static_cast<int>(type)) || state < 0 ||
            state >= kStateCount || (sel.states & state_bit(state)) == 0) {
            return;
        }
        Socket& s = batch.emplace_back();
        s.origin = Origin::ProcText;
        s.family = AF_UNIX;
        s.type = static_cast<int>(type);
        s.state = state;
        s.inode = ino;
        s.unix_domain.name = name;
        if (batch.size() > kBatch) {
            flush();
        }
    });
    flush();
}

// ss 6.1 checks the packet type before reading it, so this path never filters p_raw/p_dgr, and
// prints sk:0 for the socket.
void read_packet(const std::string& path, const SocketHandler& on_socket)
{
    for_each_line(path, 256, [&](const char* line) {
        unsigned long long sk = 0;
        int type = 0;
        unsigned prot = 0;
        int iface = 0;
        int running = 0;
        unsigned rq = 0;
        unsigned uid = 0;
        unsigned ino = 0;
        if (std::sscanf(line, "%llx %*d %d %x %d %d %u %u %u", &sk, &type, &prot, &iface,
                        &running, &rq, &uid, &ino) != 8) {
            return;
        }
        Socket s;
        s.origin = Origin::ProcText;
        s.family = AF_PACKET;
        s.type = type;
        s.protocol = static_cast<int>(prot);
        s.state = kStateClose;
        s.inode = ino;
        s.ifindex = static_cast<unsigned>(iface);
        s.rqueue = rq;
        s.uid = uid;
        on_socket(s);
    });
}

// No peers; the kernel's socket address and dump callback are shown as sk= and cb=.
void read_netlink(const std::string& path, const SocketHandler& on_socket)
{
    for_each_line(path, 256, [&](const char* line) {
        unsigned long long sk = 0;
        int prot = 0;
        long long pid = 0;
        unsigned groups = 0;
        int rq = 0;
        int wq = 0;
        unsigned long long cb = 0;
        if (std::sscanf(line, "%llx %d %lld %x %d %d %llx", &sk, &prot, &pid, &groups, &rq,
                        &wq, &cb) != 7) {
            return;
        }
        Socket s;
        s.origin = Origin::ProcText;
        s.family = AF_NETLINK;
        s.protocol = prot;
        s.state = kStateClose;
        s.rqueue = static_cast<std::uint32_t>(rq);
        s.wqueue = static_cast<std::uint32_t>(wq);
        s.netlink.portid = static_cast<std::int32_t>(static_cast<std::uint32_t>(pid));
        s.netlink.groups = groups;
        s.netlink.sk_addr = sk;
        s.netlink.cb_addr = cb;
        on_socket(s);
    });
}

}  // namespace sstrace::proc
