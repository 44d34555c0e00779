// SPDX-License-Identifier: GPL-2.0-only
// One socket as ss can print it. The sock_diag parsers, the /proc text parsers and the
// TCPDIAG_FILE replay (src/sources) fill it, the filter (src/filter) tests it, and one renderer
// (src/sinks/ss_row.cpp) prints it: ss keeps the same in its struct sockstat.
#pragma once

#include "sstrace/model/inet_addr.hpp"

#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sstrace {

// Where a record comes from. ss prints sockets it read from /proc text a little differently
// (fewer details, other separators), and replays no family check.
enum class Origin : std::uint8_t {
    SockDiag,     // a NETLINK_SOCK_DIAG dump
    ProcText,     // /proc/net/{tcp,udp,raw,unix,packet,netlink}[6]
    TcpdiagFile,  // a recorded TCP dump (TCPDIAG_FILE)
    BpfIterator,  // a BPF iterator walk: what the sock_diag message would have held
};

// A pending timer: ss's timer:(NAME,EXPIRES,N).
struct SocketTimer {
    unsigned kind = 0;  // 0 none, 1 on (retransmit), 2 keepalive, 3 timewait, 4 persist
    std::uint64_t expires_ms = 0;
    unsigned retrans = 0;  // retransmits, or keepalive probes
};

// The SK_MEMINFO_* values the kernel sent (skmem:), at most SK_MEMINFO_VARS of them.
struct SkMem {
    std::array<std::uint32_t, SK_MEMINFO_VARS> values{};
    std::size_t count = 0;

    std::span<const std::uint32_t> view() const { return {values.data(), count}; }
};

// The process holding a socket (ss -p, -T).
struct SocketOwner {
    std::string comm;
    int pid = 0;
    int tid = 0;  // -T only
    int fd = 0;   // negative: not known (an event row's owner before accept(), or a socket
                  // whose descriptor no hook saw): printed without fd=
    std::string thread_comm;  // event rows: the thread's name, which -T prints (empty: comm)
};

// The MPTCP details of a TCP subflow (INET_ULP_INFO_MPTCP); each as the kernel sent it.
struct MptcpSubflow {
    std::optional<std::uint32_t> flags;
    std::optional<std::uint32_t> token_rem;
    std::optional<std::uint32_t> token_loc;
    std::optional<std::uint8_t> id_rem;
    std::optional<std::uint8_t> id_loc;
    std::optional<std::uint64_t> map_seq;
    std::optional<std::uint32_t> map_sfseq;
    std::optional<std::uint32_t> ssn_offset;
    std::optional<std::uint32_t> map_datalen;
};

// The few tcp_info-like figures a /proc/net/tcp line carries, in jiffies.
struct ProcTcpInfo {
    long long rto = 0;
    long long ato = 0;
    long long qack = 0;
    long long cwnd = 2;
    long long ssthresh = -1;
    long hz = 100;  // jiffies per second
};

struct Socket {
    std::uint64_t cookie = 0;  // sock_diag's cookie; from /proc/net/tcp the kernel's socket address
    Origin origin = Origin::SockDiag;
    int family = 0;    // AF_INET, AF_INET6, AF_UNIX, AF_PACKET, AF_NETLINK
    int type = 0;      // unix and packet: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW
    int protocol = 0;  // inet: IPPROTO_*; packet: the ethertype (host order); netlink: NETLINK_*
    int state = 0;     // kernel TCP numbering; packet and netlink sockets are CLOSE (UNCONN)
    std::uint32_t rqueue = 0;
    std::uint32_t wqueue = 0;
    std::uint32_t uid = 0;
    std::uint64_t inode = 0;
    unsigned ifindex = 0;  // inet: the bound device (0 none); packet: the device
    std::uint32_t mark = 0;
    std::optional<std::uint64_t> cgroup_id;
    SocketTimer timer;
    std::optional<std::uint8_t> shutdown;  // bit 0: receive side shut, bit 1: send side
    std::optional<SkMem> skmem;
    std::vector<SocketOwner> owners;  // filled for -p/-T, in the order /proc listed them

    struct Inet {
        Endpoint local;
        Endpoint peer;
        std::optional<bool> v6only;
        std::optional<std::uint8_t> tos;
        std::optional<std::uint8_t> tclass;
        std::optional<std::uint32_t> class_id;
        std::optional<inet_diag_sockopt> sockopt;
        std::optional<inet_diag_meminfo> meminfo;  // mem:(...), kernels without SKMEMINFO
    } inet;

    // TCP internals (-i). Structures are zero past what the kernel sent.
    struct Tcp {
        std::optional<tcp_info> info;
        std::string cong;
        std::optional<tcpvegas_info> vegas;
        std::optional<tcp_dctcp_info> dctcp;
        std::optional<tcp_bbr_info> bbr;
        std::optional<std::vector<tcp_diag_md5sig>> md5keys;
        std::optional<std::string> ulp;  // upper layer protocol name (tls, mptcp)
        std::optional<MptcpSubflow> mptcp;
        std::optional<ProcTcpInfo> proc;  // a /proc/net/tcp line (its timer is in `timer`)
    } tcp;

    struct UnixDomain {
        std::string name;  // as printed: abstract names start with '@'; empty when unbound
        std::uint32_t peer_inode = 0;
        std::optional<unix_diag_vfs> vfs;
        std::optional<std::vector<std::uint32_t>> pending;  // inodes waiting in accept()
    } unix_domain;

    struct Packet {
        std::optional<packet_diag_info> info;
        std::optional<packet_diag_ring> rx_ring;
        std::optional<packet_diag_ring> tx_ring;
        std::optional<std::uint32_t> fanout;
        std::optional<std::vector<sock_filter>> filter;  // the attached classic BPF program
    } packet;

    struct Netlink {
        std::int32_t portid = 0;  // negative: not bound yet
        std::uint32_t dst_group = 0;
        std::int32_t dst_portid = 0;
        bool connected = false;
        std::uint32_t groups = 0;  // the first 32 multicast groups
        std::uint64_t sk_addr = 0;  // from /proc/net/netlink: kernel addresses, else 0
        std::uint64_t cb_addr = 0;
    } netlink;
};

}  // namespace sstrace
