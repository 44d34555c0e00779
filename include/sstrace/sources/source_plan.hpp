// SPDX-License-Identifier: GPL-2.0-only
// Where a listing's TCP table and its -p owners come from: the classic sources (a sock_diag dump,
// a /proc scan) or the BPF iterators (iter/tcp, iter/task_file). One rule decides both
// (plan_sources), from what the listing prints and what the system offers; -v says what ran.
#pragma once

#include "sstrace/core/env.hpp"
#include "sstrace/ss/selection.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sstrace {

struct ListingRequest;
class IterSession;

enum class TcpSource : std::uint8_t {
    SockDiag,     // inet_diag dumps, one per family (or /proc text, a TCPDIAG_FILE: see env)
    BpfIterator,  // iter/tcp walks
};

enum class OwnerSource : std::uint8_t {
    ProcScan,     // every /proc/PID/fd link
    BpfIterator,  // one iter/task_file walk
};

// SSTRACE_LISTING_SOURCE.
enum class SourceMode : std::uint8_t { Auto, SockDiag, BpfIterator };

// What the rule looks at besides the request, gathered by read_source_facts().
struct SourceFacts {
    SourceMode mode = SourceMode::Auto;
    bool tcp_listed = false;     // the TCP table is dumped through sock_diag in this listing
    bool proc_root = false;      // PROC_ROOT: ss scans that directory for owners
    bool kernel_btf = false;     // /sys/kernel/btf/vmlinux: the iterators' programs can load
    bool initial_pidns = false;  // task_file reports global pids: ss's /proc shows the same
    long long tcp_sockets = 0;   // TCP sockets of the namespace (sockstat: inuse + tw)
    long long open_files = 0;    // file handles in use on the system (fs/file-nr)
};

// Below these sizes loading the iterator costs more than it saves: scripts/bench-dump.sh at
// 10 to 100k sockets (doc/dump.md, "Where each source wins"). iter/tcp ties with sock_diag at
// 2000-5000 sockets on a quiet machine and wins from 1000 under load; iter/task_file loses
// about 2 ms below ~1100 open files and wins 6-10 ms from ~1400.
inline constexpr long long kIterMinTcpSockets = 2000;
inline constexpr long long kIterMinOpenFiles = 1500;

struct SourcePlan {
    TcpSource tcp = TcpSource::SockDiag;
    OwnerSource owners = OwnerSource::ProcScan;
    std::string tcp_why;  // for -v
    std::string owners_why;
};

// The rule. Pure: a function of the request and the facts.
SourcePlan plan_sources(const ListingRequest& req, const SourceFacts& facts);

// Reads what plan_sources() needs for this request and nothing more. Throws Error for an
// SSTRACE_LISTING_SOURCE value other than diag, iter or auto.
SourceFacts read_source_facts(const ListingRequest& req, const Selection& sel,
                              const Environment& env);

// The plan, with the iterator programs loaded when it uses them. When they do not load
// (privileges, an older kernel) the plan falls back to the classic sources, unless
// SSTRACE_LISTING_SOURCE=iter asked for the iterators: then the Error is thrown.
class ListingSources {
public:
    ListingSources(const ListingRequest& req, const Selection& sel, const Environment& env);
    ~ListingSources();
    ListingSources(const ListingSources&) = delete;
    ListingSources& operator=(const ListingSources&) = delete;

    const SourcePlan& plan() const { return plan_; }
    // The loaded programs (nullptr when the plan uses none).
    IterSession* iter() const { return iter_.get(); }

private:
    SourcePlan plan_;
    std::unique_ptr<IterSession> iter_;
};

}  // namespace sstrace
