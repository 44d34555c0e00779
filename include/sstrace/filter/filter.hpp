// SPDX-License-Identifier: GPL-2.0-only
// The ss FILTER expression language (ss-behaviour.md sections 3.2-3.6, 4.4): lexer, parser,
// evaluator and the INET_DIAG_REQ_BYTECODE compiler. No ss code: written from the observed
// behaviour of iproute2 6.1.
//
// Usage:
//   filter::ParseOptions po;             // which tables/family are selected (ss rules)
//   auto res = filter::parse(words, fp, po);   // words after the state words; fp for -F
//   if (res.error) { print res.error->message (+ usage when res.error->usage); exit code }
//   if (res.filter.matches(view)) ...    // per row/event, never throws
//   auto bc = filter::compile_bytecode(res.filter);  // nullopt: send no bytecode
#pragma once

#include "sstrace/model/event.hpp"
#include "sstrace/model/socket.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sstrace::filter {

// One socket (a dump row or an event) as the filter sees it. Plain data: both the sock_diag
// dump and the eBPF event stream fill it. Field meaning depends on `family`, as in ss:
//   AF_INET/AF_INET6: local/remote are the addresses, network order, IPv4 in bytes 0-3 and the
//                     rest zero; lport/rport the ports (host order).
//   AF_UNIX:          unix_path/unix_peer_path are the names (nullopt = unnamed; abstract names
//                     start with '@'); lport is the inode, rport the peer's inode.
//   AF_PACKET:        proto is the protocol (host order, e.g. 0x0800); lport the ifindex.
//   AF_NETLINK:       proto is the netlink protocol; lport the port id (negative: autobound).
//   AF_VSOCK:         local_cid/remote_cid, lport/rport the vsock ports.
struct SockView {
    int family = 0;
    std::array<std::uint8_t, 16> local{};
    std::array<std::uint8_t, 16> remote{};
    std::int64_t lport = 0;
    std::int64_t rport = 0;
    unsigned ifindex = 0;          // bound/scoped interface (idiag_if), 0 = none
    std::uint32_t mark = 0;        // SO_MARK (INET_DIAG_MARK)
    std::uint64_t cgroup_id = 0;   // cgroup v2 id (INET_DIAG_CGROUP_ID)
    std::optional<std::string> unix_path;
    std::optional<std::string> unix_peer_path;
    std::uint32_t proto = 0;
    std::uint32_t local_cid = 0;
    std::uint32_t remote_cid = 0;
    // Kernel-only: SOCK_BINDPORT_LOCK in sk_userlocks. The in-kernel `autobound` test uses it;
    // the userspace filter (like ss's) does not. Only run_bytecode() reads it.
    bool port_locked = false;
};

// Fills an inet SockView from an address family, 4 or 16 address bytes and ports.
SockView make_inet_view(int family, const std::uint8_t* saddr, unsigned sport,
                        const std::uint8_t* daddr, unsigned dport);

// The view of a listed socket (src/filter/socket_view.cpp).
SockView view_of(const Socket& s);
// The view of an event's socket, with the facts only the filter sees (mark, cgroup, port lock).
SockView view_of(const SocketEvent& e);

// --- AST -------------------------------------------------------------------------------------

enum class NodeKind : std::uint8_t {
    List,     // items joined left to right, all operators of equal precedence
    Not,      // child
    SrcCond,  // src HOST, sport = PORT  (host)
    DstCond,  // dst HOST, dport = PORT  (host)
    SportGe,  // sport >= PORT           (host.port)
    SportLe,  // sport <= PORT
    DportGe,  // dport >= PORT
    DportLe,  // dport <= PORT
    Dev,      // dev DEV                 (ifindex)
    Mark,     // fwmark MARK[/MASK]      (mark, mask)
    Cgroup,   // cgroup PATH             (cgroup_id)
    Auto,     // autobound
};

enum class Joiner : std::uint8_t { And, Or };

// One address alternative of a host condition.
struct HostAddr {
    int family = 0;  // AF_INET or AF_INET6 (host names may give both)
    int bits = 0;    // prefix length
    std::array<std::uint8_t, 16> bytes{};
};

// A parsed host operand (ss's aafilter).
struct HostCond {
    int family = 0;     // AF_UNSPEC (inet, any family), AF_INET, AF_INET6, AF_UNIX, AF_PACKET,
                        // AF_NETLINK, AF_VSOCK
    std::int64_t port = -1;  // -1: any port
    int bits = 0;       // 0: any address; else the first alternative's prefix length
    std::vector<HostAddr> addrs;  // inet: alternatives (ORed); empty when bits == 0
    std::string pattern;          // AF_UNIX: fnmatch glob
    std::uint32_t number = 0;     // AF_PACKET/AF_NETLINK protocol, AF_VSOCK cid (if bits != 0)
};

struct Node {
    NodeKind kind = NodeKind::Auto;
    std::vector<std::pair<Joiner, std::unique_ptr<Node>>> items;  // List (first joiner unused)
    std::unique_ptr<Node> child;                                  // Not
    HostCond host;                                                // Src/Dst/port compares
    unsigned ifindex = 0;                                         // Dev
    std::uint32_t mark = 0;                                       // Mark
    std::uint32_t mask = 0xffffffffu;                             // Mark
    std::uint64_t cgroup_id = 0;                                  // Cgroup
};

class Filter {
public:
    Filter() = default;
    explicit Filter(std::unique_ptr<Node> root) : root_(std::move(root)) {}

    bool empty() const { return root_ == nullptr; }
    const Node* root() const { return root_.get(); }

    // ss's userspace filter (run_ssfilter). An empty filter matches everything. Never throws.
    bool matches(const SockView& s) const noexcept;
    bool matches(const Socket& s) const { return matches(view_of(s)); }
    bool matches(const SocketEvent& e) const { return matches(view_of(e)); }

    // Ephemeral port range used by `autobound` for inet sockets (ss reads
    // /proc/sys/net/ipv4/ip_local_port_range; 1024-4999 when unreadable).
    void set_ephemeral_range(unsigned low, unsigned high)
    {
        eph_low_ = low;
        eph_high_ = high;
    }

    // Does any node of this kind appear?
    bool contains(NodeKind kind) const;

    // A canonical S-expression of the tree, for tests and -v logging, e.g.
    // `(and (src 127.0.0.1/32:22) (not (dport>= 1024)))`.
    std::string to_string() const;

private:
    std::unique_ptr<Node> root_;
    unsigned eph_low_ = 32768;
    unsigned eph_high_ = 60999;
};

// --- parsing ---------------------------------------------------------------------------------

// What a failed parse prints and how ss exits.
struct FilterError {
    std::string message;  // everything ss writes to stderr before the usage text, '\n'-terminated
                          // lines except the bison one, which ends in ` Sorry.\n`
    int exit_code = 1;    // 1 for operand errors, 255 for syntax errors and -F line errors
    bool usage = false;   // ss prints its usage text after `message`
};

// Name resolution, replaceable for tests and fuzzing. The defaults use the system resolvers.
struct Resolvers {
    // getservbyname(name, proto): port in host order, or nullopt.
    std::function<std::optional<int>(const std::string& name, const char* proto)> service;
    // gethostbyname2(name, family): addresses (4 or 16 bytes each, HostAddr.bits = 32/128).
    std::function<std::vector<HostAddr>(const std::string& name, int family)> host;
    // if_nametoindex: 0 when unknown.
    std::function<unsigned(const std::string& name)> ifindex;
    // cgroup v2 id of a path; on failure the error text after "Failed to get cgroup2 ID: "
    // (or a complete line starting otherwise) in `error`.
    std::function<std::optional<std::uint64_t>(const std::string& path, std::string& error)>
        cgroup;

    static Resolvers system();
    // Resolves nothing: no services, hosts, devices or cgroups (fuzzing, hermetic tests).
    static Resolvers none();
};

struct ParseOptions {
    // ss's preferred_family: AF_UNSPEC, or AF_INET/AF_INET6 (-4/-6/-f inet[6]), or AF_UNIX,
    // AF_PACKET, AF_NETLINK, AF_VSOCK when that is the only family selected (-x, -0, -f ...).
    int preferred_family = 0;
    // Which tables service names are looked up for (ss: the selected UDP/TCP tables).
    bool tcp = true;
    bool udp = true;
    // Ephemeral range for `autobound`; nullopt = read from the current netns when needed.
    std::optional<std::pair<unsigned, unsigned>> ephemeral;
    Resolvers resolvers = Resolvers::system();
};

struct ParseResult {
    Filter filter;                     // empty() when there is no expression
    std::optional<FilterError> error;  // set: print it and exit with error->exit_code
    // Family of the last operand with a family (a prefix such as `inet6:`, or a forced family):
    // ss resets its family selection to it (and parses the later operands in that family).
    std::optional<int> family_reset;
};

// Parses the expression words (argv after the state words), then, lazily and as one stream, the
// lines of `file` (ss -F; may be nullptr). Never throws on bad input.
ParseResult parse(std::span<const std::string> words, std::FILE* file, const ParseOptions& opts);

// Convenience: one string, split like argv words.
ParseResult parse_string(std::string_view text, const ParseOptions& opts);

// Opens a -F argument as ss does: `-` is stdin. On failure returns nullptr and sets `error`
// (`fopen filter file: <strerror>`, exit 255).
std::FILE* open_filter_file(const std::string& path, std::optional<FilterError>& error);

// --- kernel bytecode -------------------------------------------------------------------------

// Compiles to an INET_DIAG_REQ_BYTECODE program (struct inet_diag_bc_op stream) as ss does.
// nullopt when the expression cannot be compiled (a `dev` anywhere, a non-inet host, or a
// program longer than the 16-bit jump offsets allow): then no bytecode is sent and only the
// userspace filter applies.
std::optional<std::vector<std::uint8_t>> compile_bytecode(const Filter& f);

// The kernel's view of a bytecode program, for tests: inet_diag_bc_audit() and
// inet_diag_bc_run() re-implemented over a SockView (inet only). `net_admin` as the caller's
// CAP_NET_ADMIN (MARK_COND needs it).
int audit_bytecode(std::span<const std::uint8_t> bc, bool net_admin = true);  // 0 or -errno
bool run_bytecode(std::span<const std::uint8_t> bc, const SockView& s);

// A necessary condition of a bytecode program on the ports, cheap to test before running it:
// every socket the program accepts (in the kernel's reading, the iterator's interpreter or
// run_bytecode) has its ports within these inclusive ranges: those its port tests leave on some
// path to acceptance (`dport = :443`: dport 443; `dport = :80 or dport = :443`: 80-443; an `or`
// with an address or the other port, `not dport = :443`: open). min > max: no socket.
struct PortPrefilter {
    std::uint32_t sport_min = 0;
    std::uint32_t sport_max = 0xffff;
    std::uint32_t dport_min = 0;
    std::uint32_t dport_max = 0xffff;

    bool narrows() const;  // false: every socket passes, nothing to check
    bool admits(unsigned sport, unsigned dport) const;
    std::string to_string() const;  // e.g. "dport 443", "sport 1024-65535, dport none"
};
PortPrefilter port_prefilter(std::span<const std::uint8_t> bc);

}  // namespace sstrace::filter
