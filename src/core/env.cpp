// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/env.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace sstrace {

namespace {

struct ProcFileName {
    const char* variable;
    const char* relative;
};

constexpr std::array<ProcFileName, static_cast<std::size_t>(ProcFile::Count)> kProcFiles{{
    {"PROC_NET_TCP", "net/tcp"},
    {"PROC_NET_TCP6", "net/tcp6"},
    {"PROC_NET_UDP", "net/udp"},
    {"PROC_NET_UDP6", "net/udp6"},
    {"PROC_NET_RAW", "net/raw"},
    {"PROC_NET_RAW6", "net/raw6"},
    {"PROC_NET_UNIX", "net/unix"},
    {"PROC_NET_PACKET", "net/packet"},
    {"PROC_NET_NETLINK", "net/netlink"},
    {"PROC_NET_SOCKSTAT", "net/sockstat"},
    {"PROC_NET_SOCKSTAT6", "net/sockstat6"},
    {"PROC_NET_SNMP", "net/snmp"},
    {"PROC_IP_LOCAL_PORT_RANGE", "sys/net/ipv4/ip_local_port_range"},
}};

constexpr std::size_t index(ProcFile f) { return static_cast<std::size_t>(f); }

}  // namespace

Environment Environment::from_process()
{
    return from([](const char* name) -> const char* { return std::getenv(name); });
}

Environment Environment::from(const std::function<const char*(const char*)>& lookup)
{
    auto read = [&](const char* name) -> std::optional<std::string> {
        if (const char* v = lookup(name)) {
            return std::string(v);
        }
        return std::nullopt;
    };
    Environment env;
    env.proc_root_ = read("PROC_ROOT");
    for (std::size_t i = 0; i < kProcFiles.size(); ++i) {
        env.files_[i] = read(kProcFiles[i].variable);
    }
    env.tcpdiag_file_ = read("TCPDIAG_FILE");
    env.log_level_ = read("SSTRACE_LOG_LEVEL");
    env.listing_source_ = read("SSTRACE_LISTING_SOURCE");
    if (const auto spin = read("SSTRACE_TEST_BPF_SPIN")) {
        std::from_chars(spin->data(), spin->data() + spin->size(), env.test_bpf_spin_);
    }
    if (const auto held = read("SSTRACE_TEST_ITER_HELD_ROWS")) {
        std::from_chars(held->data(), held->data() + held->size(), env.test_iter_held_rows_);
    }
    return env;
}

std::string Environment::proc_path(ProcFile f) const
{
    if (const auto& own = files_[index(f)]) {
        return *own;
    }
    return fmt::format("{}/{}", proc_dir(), kProcFiles[index(f)].relative);
}

bool Environment::proc_forced(ProcFile f) const
{
    return files_[index(f)].has_value() || proc_root_.has_value();
}

std::string Environment::proc_dir() const { return proc_root_.value_or("/proc"); }

}  // namespace sstrace
