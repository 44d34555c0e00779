// SPDX-License-Identifier: GPL-2.0-only
// The environment variables sstrace obeys, read in one place. As ss does, the listing reads
// /proc text instead of asking sock_diag when PROC_ROOT or a table's own PROC_NET_* is set, and
// replays a recorded TCP dump when TCPDIAG_FILE is set.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace sstrace {

// The /proc files ss reads, each with its own override variable.
enum class ProcFile : std::size_t {
    Tcp,             // PROC_NET_TCP         net/tcp
    Tcp6,            // PROC_NET_TCP6        net/tcp6
    Udp,             // PROC_NET_UDP         net/udp
    Udp6,            // PROC_NET_UDP6        net/udp6
    Raw,             // PROC_NET_RAW         net/raw
    Raw6,            // PROC_NET_RAW6        net/raw6
    Unix,            // PROC_NET_UNIX        net/unix
    Packet,          // PROC_NET_PACKET      net/packet
    Netlink,         // PROC_NET_NETLINK     net/netlink
    Sockstat,        // PROC_NET_SOCKSTAT    net/sockstat
    Sockstat6,       // PROC_NET_SOCKSTAT6   net/sockstat6
    Snmp,            // PROC_NET_SNMP        net/snmp
    LocalPortRange,  // PROC_IP_LOCAL_PORT_RANGE  sys/net/ipv4/ip_local_port_range
    Count,
};

class Environment {
public:
    // Nothing set: /proc, sock_diag, the default log level.
    Environment() = default;

    // The variables of this process: the only place sstrace calls getenv().
    static Environment from_process();
    // The same from any lookup (tests): `lookup(name)` returns the value or nullptr.
    static Environment from(const std::function<const char*(const char*)>& lookup);

    // The path ss opens: $PROC_NET_X if set, else $PROC_ROOT/REL, else /proc/REL.
    std::string proc_path(ProcFile f) const;
    // ss reads the table from /proc text when its own variable or PROC_ROOT is set.
    bool proc_forced(ProcFile f) const;
    bool has_proc_root() const { return proc_root_.has_value(); }
    // $PROC_ROOT or /proc: where per-process files are (PID/fd, PID/stat).
    std::string proc_dir() const;

    // TCPDIAG_FILE: a raw TCP dump (ss -D) to list instead of asking the kernel.
    const std::optional<std::string>& tcpdiag_file() const { return tcpdiag_file_; }
    // SSTRACE_LOG_LEVEL: trace|debug|info|warn|error|off, overrides -v.
    const std::optional<std::string>& log_level() const { return log_level_; }
    // SSTRACE_LISTING_SOURCE: diag|iter|auto, which source lists the TCP table and the -p
    // owners (src/sources/source_plan.cpp); unset is auto.
    const std::optional<std::string>& listing_source() const { return listing_source_; }
    // SSTRACE_TEST_BPF_SPIN (tests only): extra work in every first-copy BPF program run, so
    // that events nest into running programs often enough to test the second copies. 0 unset.
    std::uint32_t test_bpf_spin() const { return test_bpf_spin_; }
    // SSTRACE_TEST_ITER_HELD_ROWS (tests only): how many AF_INET6 rows an iter/tcp walk holds
    // for after the AF_INET ones before it walks again for them (0 unset: 2 MiB of rows).
    std::uint32_t test_iter_held_rows() const { return test_iter_held_rows_; }

private:
    std::optional<std::string> proc_root_;
    std::array<std::optional<std::string>, static_cast<std::size_t>(ProcFile::Count)> files_;
    std::optional<std::string> tcpdiag_file_;
    std::optional<std::string> log_level_;
    std::optional<std::string> listing_source_;
    std::uint32_t test_bpf_spin_ = 0;
    std::uint32_t test_iter_held_rows_ = 0;
};

}  // namespace sstrace
