// SPDX-License-Identifier: GPL-2.0-only
// The sockets of a listing, table by table in ss's order, from sock_diag, from /proc text when
// ss would read it (PROC_ROOT, PROC_NET_*, or a dump the kernel refuses), or from a
// TCPDIAG_FILE.
#pragma once

#include "sstrace/core/env.hpp"
#include "sstrace/model/socket.hpp"
#include "sstrace/ss/selection.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

struct nlmsghdr;

namespace sstrace {

// Called for every socket. A negative errno stops the sock_diag dump of the current table.
using SocketHandler = std::function<int(Socket&)>;

// Receives a listing.
class ListingConsumer {
public:
    virtual ~ListingConsumer() = default;
    // Before the sockets of the raw, udp, tcp, dccp, sctp and mptcp tables (and also when
    // they turn out empty), at the point where ss picks the table's service names.
    virtual void begin_table(TableId table) = 0;
    // One socket; a negative errno stops the table (ss: a SOCK_DESTROY refused under -K).
    virtual int socket(Socket& s) = 0;
};

// What the listing asks the kernel for, and what it prints and does with the rows (which
// decides where they can come from: src/sources/source_plan.cpp).
struct ListingRequest {
    bool memory = false;    // -m
    bool info = false;      // -i
    bool tos = false;       // --tos
    bool extended = false;  // -e
    bool timers = false;        // -o
    bool inet_sockopt = false;  // --inet-sockopt
    bool cgroup = false;        // --cgroup
    bool kill = false;          // -K
    bool owners = false;        // -p or -T
    bool threads = false;       // -T
    bool filter = false;        // a FILTER expression (tested in userspace on every row)
    bool watch = false;         // --watch seeds its live table from the rows (cookies, timers)
    std::vector<std::uint8_t> inet_bytecode;  // INET_DIAG_REQ_BYTECODE for inet dumps, or empty
};

class DiagSocket;
class IterSession;

class ListingSource {
public:
    // `iter`: the loaded iterator programs when the TCP table comes from them (ListingSources),
    // else nullptr.
    ListingSource(const Environment& env, const Selection& sel, ListingRequest req,
                  IterSession* iter = nullptr);
    ~ListingSource();
    ListingSource(const ListingSource&) = delete;
    ListingSource& operator=(const ListingSource&) = delete;

    // Every selected table: netlink, packet, unix, raw, udp, tcp, dccp, sctp, mptcp.
    void run(ListingConsumer& consumer);

    // ss -D: the raw TCP dump of the selected families, written as the kernel sent it.
    void write_tcp_dump(std::FILE* out);

private:
    DiagSocket& diag();
    std::vector<int> inet_families() const;
    using Parser = bool (*)(const nlmsghdr*, Socket&);
    // The sock_diag dump `req`; when the table is forced to /proc text or the dump fails, the
    // /proc file instead.
    void dump_or_proc(const std::vector<char>& req, Parser parse, const SocketHandler& on_socket,
                      ProcFile file, const std::function<void(const std::string&)>& read_proc);
    void show_netlink(ListingConsumer& c);
    void show_packet(ListingConsumer& c);
    void show_unix(ListingConsumer& c);
    void show_raw(ListingConsumer& c);
    void show_inet(ListingConsumer& c, TableId table);
    void show_proc_inet(ListingConsumer& c, int protocol, ProcFile v4, ProcFile v6);
    void show_iter_tcp(ListingConsumer& c);

    const Environment& env_;
    Selection sel_;
    ListingRequest req_;
    std::unique_ptr<DiagSocket> diag_;  // opened on first use: the /proc paths need none
    IterSession* iter_;
};

// ss -K: destroys inet sockets through SOCK_DESTROY.
class SocketKiller {
public:
    SocketKiller();
    ~SocketKiller();
    SocketKiller(const SocketKiller&) = delete;
    SocketKiller& operator=(const SocketKiller&) = delete;

    // 0 or a negative errno. `protocol` is the IPPROTO_* of the table the socket was listed in.
    int destroy(const Socket& s, int protocol);

private:
    std::unique_ptr<DiagSocket> sock_;  // opened on first use
};

}  // namespace sstrace
