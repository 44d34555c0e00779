// SPDX-License-Identifier: GPL-2.0-only
// ss's selection model: socket tables ("dbs"), families and states, merged as ss 6.1 does.
#pragma once

#include "sstrace/core/state.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sstrace {

enum TableId : int {
    kDbTcp = 0,
    kDbMptcp,
    kDbDccp,
    kDbUdp,
    kDbRaw,
    kDbUnixDgram,
    kDbUnixStream,
    kDbUnixSeqpacket,
    kDbPacketDgram,
    kDbPacketRaw,
    kDbNetlink,
    kDbSctp,
    kDbVsockStream,
    kDbVsockDgram,
    kDbTipc,
    kDbXdp,
    kDbCount,
};

using TableMask = std::uint32_t;
using FamilyMask = std::uint64_t;

constexpr TableMask table_bit(TableId t) { return TableMask{1} << t; }
constexpr FamilyMask family_bit(int af) { return FamilyMask{1} << af; }

struct Selection {
    TableMask tables = 0;
    FamilyMask families = 0;
    StateMask states = 0;
    int preferred_family = 0;  // AF_UNSPEC, or the last family option given

    bool has_table(TableId t) const { return (tables & table_bit(t)) != 0; }
    bool has_family(int af) const { return (families & family_bit(af)) != 0; }

    // Whether a unix or packet socket of this SOCK_* type is in a selected table (other types
    // are not filtered).
    bool has_unix_type(int type) const
    {
        return (type != SOCK_STREAM || has_table(kDbUnixStream)) &&
               (type != SOCK_DGRAM || has_table(kDbUnixDgram)) &&
               (type != SOCK_SEQPACKET || has_table(kDbUnixSeqpacket));
    }
    bool has_packet_type(int type) const
    {
        return (type != SOCK_RAW || has_table(kDbPacketRaw)) &&
               (type != SOCK_DGRAM || has_table(kDbPacketDgram));
    }
};

struct SelectionResult {
    Selection selection;
    // The FILTER words left after the state words (the filter expression).
    std::vector<std::string> expression;
    bool do_default = false;  // no table/family option was given
    // Set when ss would stop: message for stderr (may be empty), whether to append the ss
    // usage text, the exit code, and whether the message goes to stdout (-f help).
    std::optional<int> exit_code;
    std::string message;
    bool with_usage = false;
    bool usage_to_stdout = false;
};

// The IPPROTO_* number of an inet table (raw, udp, tcp, dccp, sctp, mptcp's 262), else 0.
int inet_table_protocol(TableId table);

// Applies the selection options in command-line order (`-t`, `-u`, `-d`, `-w`, `-x`, `-S`, `-M`,
// `-0`, `-4`, `-6`, `--vsock`, `--tipc`, `--xdp`, `-f FAMILY`, `-A QUERY`, `-a`, `-l`), then the
// state words at the front of the FILTER words.
SelectionResult build_selection(std::span<const std::string> options,
                                std::span<const std::string> filter_words);

}  // namespace sstrace
