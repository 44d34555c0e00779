// SPDX-License-Identifier: GPL-2.0-only
// ss's walk over the socket tables: which tables, in which order, from where.
#include "sstrace/sources/listing.hpp"

#include "diag/diag_socket.hpp"
#include "diag/parse.hpp"
#include "diag/requests.hpp"
#include "iter/iter_session.hpp"
#include "iter/iter_tcp.hpp"
#include "proc/proc_tables.hpp"
#include "replay/tcpdiag_file.hpp"
#include "sstrace/ss/messages.hpp"

#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace sstrace {

namespace {

diag::Extensions extensions_of(const ListingRequest& req)
{
    return diag::Extensions{req.memory, req.info, req.tos, req.extended};
}

// A /proc text handler: those rows cannot be destroyed, so nothing stops them.
SocketHandler to(ListingConsumer& c)
{
    return [&c](Socket& s) { return c.socket(s); };
}

}  // namespace

ListingSource::ListingSource(const Environment& env, const Selection& sel, ListingRequest req,
                             IterSession* iter)
    : env_(env), sel_(sel), req_(std::move(req)), iter_(iter)
{
}

ListingSource::~ListingSource() = default;

DiagSocket& ListingSource::diag()
{
    if (!diag_) {
        diag_ = std::make_unique<DiagSocket>();
    }
    return *diag_;
}

std::vector<int> ListingSource::inet_families() const
{
    if (sel_.preferred_family == AF_INET6) {
        return {AF_INET6};
    }
    if (sel_.preferred_family == AF_INET) {
        return {AF_INET};
    }
    return {AF_INET, AF_INET6};
}

void ListingSource::run(ListingConsumer& consumer)
{
    if (sel_.has_table(kDbNetlink)) {
        show_netlink(consumer);
    }
    if ((sel_.tables & (table_bit(kDbPacketDgram) | table_bit(kDbPacketRaw))) != 0) {
        show_packet(consumer);
    }
    if ((sel_.tables & (table_bit(kDbUnixDgram) | table_bit(kDbUnixStream) |
                        table_bit(kDbUnixSeqpacket))) != 0) {
        show_unix(consumer);
    }
    if (sel_.has_table(kDbRaw)) {
        show_raw(consumer);
    }
    for (const TableId table : {kDbUdp, kDbTcp, kDbDccp, kDbSctp, kDbMptcp}) {
        if (sel_.has_table(table)) {
            show_inet(consumer, table);
        }
    }
}

void ListingSource::write_tcp_dump(std::FILE* out)
{
    for (const int family : inet_families()) {
        const auto req = diag::inet_dump(family, IPPROTO_TCP, sel_.states, extensions_of(req_),
                                         req_.inet_bytecode);
        diag().dump(req.data(), req.size(), [](const nlmsghdr*) { return 0; }, out);
    }
}

void ListingSource::dump_or_proc(const std::vector<char>& req, Parser parse,
                                 const SocketHandler& on_socket, ProcFile file,
                                 const std::function<void(const std::string&)>& read_proc)
{
    const auto on_message = [&](const nlmsghdr* h) {
        Socket s;
        return parse(h, s) ? on_socket(s) : 0;
    };
    if (env_.proc_forced(file) || diag().dump(req.data(), req.size(), on_message) < 0) {
        read_proc(env_.proc_path(file));
    }
}

void ListingSource::show_netlink(ListingConsumer& c)
{
    if (!sel_.has_family(AF_NETLINK) || (sel_.states & state_bit(kStateClose)) == 0) {
        return;
    }
    dump_or_proc(diag::netlink_dump(), diag::parse_netlink, to(c), ProcFile::Netlink,
                 [&](const std::string& path) { proc::read_netlink(path, to(c)); });
}

void ListingSource::show_packet(ListingConsumer& c)
{
    if (!sel_.has_family(AF_PACKET) || (sel_.states & state_bit(kStateClose)) == 0) {
        return;
    }
    const SocketHandler selected = [&](Socket& s) {
        return sel_.has_packet_type(s.type) ? c.socket(s) : 0;
    };
    dump_or_proc(diag::packet_dump(), diag::parse_packet, selected, ProcFile::Packet,
                 [&](const std::string& path) { proc::read_packet(path, to(c)); });
}

void ListingSource::show_unix(ListingConsumer& c)
{
    if (!sel_.has_family(AF_UNIX)) {
        return;
    }
    const SocketHandler selected = [&](Socket& s) {
        return sel_.has_unix_type(s.type) ? c.socket(s) : 0;
    };
    dump_or_proc(diag::unix_dump(sel_.states, extensions_of(req_)), diag::parse_unix, selected,
                 ProcFile::Unix,
                 [&](const std::string& path) { proc::read_unix(path, sel_, to(c)); });
}

void ListingSource::show_raw(ListingConsumer& c)
{
    c.begin_table(kDbRaw);
    if (!env_.proc_forced(ProcFile::Raw)) {
        bool netlink_ok = true;
        for (const int family : inet_families()) {
            const auto req = diag::inet_dump(family, IPPROTO_RAW, sel_.states,
                                             extensions_of(req_), req_.inet_bytecode);
            const int rc = diag().dump(req.data(), req.size(), [&](const nlmsghdr* h) {
                Socket s;
                if (!diag::parse_inet(h, IPPROTO_RAW, s) || !sel_.has_family(s.family)) {
                    return 0;
                }
                return c.socket(s);
            });
            if (rc < 0) {
                netlink_ok = false;
                break;
            }
        }
        if (netlink_ok) {
            return;
        }
    }
    show_proc_inet(c, IPPROTO_RAW, ProcFile::Raw, ProcFile::Raw6);
}

void ListingSource::show_proc_inet(ListingConsumer& c, int protocol, ProcFile v4, ProcFile v6)
{
    if (sel_.has_family(AF_INET)) {
        proc::read_inet(env_.proc_path(v4), AF_INET, protocol, sel_.states, to(c));
    }
    if (sel_.has_family(AF_INET6)) {
        proc::read_inet(env_.proc_path(v6), AF_INET6, protocol, sel_.states, to(c));
    }
}

void ListingSource::show_inet(ListingConsumer& c, TableId table)
{
    const int protocol = inet_table_protocol(table);
    if (!sel_.has_family(AF_INET) && !sel_.has_family(AF_INET6)) {
        return;  // e.g. a `unix:` operand narrowed the families: ss skips inet tables
    }
    c.begin_table(table);
    if (protocol == IPPROTO_TCP && env_.tcpdiag_file()) {
        replay::read_tcpdiag_file(*env_.tcpdiag_file(), to(c));
        return;
    }
    if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP && env_.has_proc_root()) {
        return;  // no /proc text for dccp, sctp, mptcp: with PROC_ROOT ss skips them
    }
    if (protocol == IPPROTO_TCP && env_.proc_forced(ProcFile::Tcp)) {
        show_proc_inet(c, IPPROTO_TCP, ProcFile::Tcp, ProcFile::Tcp6);
        return;
    }
    if (protocol == IPPROTO_UDP && env_.proc_forced(ProcFile::Udp)) {
        show_proc_inet(c, IPPROTO_UDP, ProcFile::Udp, ProcFile::Udp6);
        return;
    }
    if (protocol == IPPROTO_TCP && iter_ != nullptr) {
        show_iter_tcp(c);
        return;
    }
    bool stopped = false;  // by the consumer: a refused -K, already reported
    for (const int family : inet_families()) {
        const auto req = diag::inet_dump(family, protocol, sel_.states, extensions_of(req_),
                                         req_.inet_bytecode);
        const int rc = diag().dump(req.data(), req.size(), [&](const nlmsghdr* h) {
            Socket s;
            if (!diag::parse_inet(h, protocol, s) || !sel_.has_family(s.family)) {
                return 0;
            }
            const int result = c.socket(s);
            stopped = result < 0;
            return result;
        });
        if (rc == 0) {
            continue;
        }
        if (rc == -ENOENT && protocol == IPPROTO_DCCP) {
            // ss 6.1 retries with the legacy DCCPDIAG_GETSOCK, which this kernel rejects.
            ss_text::put(ss_text::rtnetlink_answers(-EINVAL));
            return;
        }
        if (!stopped && rc != -ENOENT && rc != -EOPNOTSUPP) {
            ss_text::put(ss_text::rtnetlink_answers(rc));
        }
        // A failed dump (a refused SOCK_DESTROY included) ends this table, as in ss; for UDP
        // ss then lists the table from /proc.
        if (protocol == IPPROTO_UDP) {
            show_proc_inet(c, IPPROTO_UDP, ProcFile::Udp, ProcFile::Udp6);
        }
        return;
    }
}

// The TCP table from iter/tcp. ss dumps one family per request, AF_INET first, and the rows must
// come in that order (doc/dump.md): one walk reports both families, hands on the AF_INET rows at
// once and keeps the AF_INET6 ones for after them, up to kLaterRows; past that it stops
// reporting AF_INET6 and a second walk lists them.
void ListingSource::show_iter_tcp(ListingConsumer& c)
{
    constexpr std::size_t kLaterRows = (2u << 20) / sizeof(sstrace_iter_tcp);  // 2 MiB
    const std::size_t held_max =
        env_.test_iter_held_rows() != 0 ? env_.test_iter_held_rows() : kLaterRows;
    std::uint32_t wanted = 0;
    for (const int family : inet_families()) {
        if (sel_.has_family(family)) {
            wanted |= family == AF_INET ? SSTRACE_ITER_WALK_INET : SSTRACE_ITER_WALK_INET6;
        }
    }
    if (wanted == 0) {
        return;
    }
    Socket s;  // every row sets the same fields: one record serves them all
    bool stopped = false;
    auto emit = [&](const sstrace_iter_tcp& r) {
        iter::socket_of(r, s);
        stopped = c.socket(s) < 0;
        return !stopped;
    };
    std::vector<sstrace_iter_tcp> later;
    bool second_walk = false;
    std::uint32_t reporting = wanted;
    iter_->walk_tcp(wanted, [&](const sstrace_iter_tcp& r) -> int {
        if (r.family == AF_INET || wanted != (SSTRACE_ITER_WALK_INET | SSTRACE_ITER_WALK_INET6)) {
            return emit(r) ? static_cast<int>(reporting) : -1;
        }
        if (second_walk) {
            return static_cast<int>(reporting);  // reported before the program saw the change
        }
        if (later.size() == held_max) {
            spdlog::debug("iter/tcp: more than {} AF_INET6 rows to hold: a second walk lists them",
                          held_max);
            std::vector<sstrace_iter_tcp>().swap(later);
            second_walk = true;
            reporting = SSTRACE_ITER_WALK_INET;
            return static_cast<int>(reporting);
        }
        if (later.empty()) {
            later.reserve(held_max);  // (pages are only touched as rows arrive)
        }
        later.push_back(r);
        return static_cast<int>(reporting);
    });
    if (stopped) {
        return;
    }
    for (const sstrace_iter_tcp& r : later) {
        if (!emit(r)) {
            return;
        }
    }
    if (second_walk) {
        iter_->walk_tcp(SSTRACE_ITER_WALK_INET6, [&](const sstrace_iter_tcp& r) {
            return emit(r) ? static_cast<int>(SSTRACE_ITER_WALK_INET6) : -1;
        });
    }
}

SocketKiller::SocketKiller() = default;
SocketKiller::~SocketKiller() = default;

int SocketKiller::destroy(const Socket& s, int protocol)
{
    if (!sock_) {
        sock_ = std::make_unique<DiagSocket>();
    }
    auto req = diag::inet_destroy(s, protocol);
    return sock_->request(req.data(), req.size());
}

}  // namespace sstrace
