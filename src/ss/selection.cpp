// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/ss/selection.hpp"

#include "sstrace/core/program.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <span>
#include <string_view>

namespace sstrace {

namespace {

constexpr StateMask kEstabOnly = state_bit(kStateEstablished);
constexpr StateMask kCloseOnly = state_bit(kStateClose);

constexpr TableMask tables_of(std::initializer_list<TableId> ids)
{
    TableMask m = 0;
    for (TableId t : ids) {
        m |= table_bit(t);
    }
    return m;
}

constexpr TableMask kInetTables =
    tables_of({kDbTcp, kDbMptcp, kDbDccp, kDbUdp, kDbRaw, kDbSctp});
constexpr TableMask kUnixTables = tables_of({kDbUnixDgram, kDbUnixStream, kDbUnixSeqpacket});
constexpr TableMask kPacketTables = tables_of({kDbPacketDgram, kDbPacketRaw});
constexpr TableMask kVsockTables = tables_of({kDbVsockStream, kDbVsockDgram});
constexpr FamilyMask kInetFamilies = family_bit(AF_INET) | family_bit(AF_INET6);

struct TableDefault {
    StateMask states;
    FamilyMask families;
};

constexpr std::array<TableDefault, kDbCount> kTableDefaults{{
    {kConnDefault, kInetFamilies},             // tcp
    {kConnDefault, kInetFamilies},             // mptcp
    {kConnDefault, kInetFamilies},             // dccp
    {kEstabOnly, kInetFamilies},               // udp
    {kEstabOnly, kInetFamilies},               // raw
    {kCloseOnly, family_bit(AF_UNIX)},         // unix dgram
    {kConnDefault, family_bit(AF_UNIX)},       // unix stream
    {kConnDefault, family_bit(AF_UNIX)},       // unix seqpacket
    {kCloseOnly, family_bit(AF_PACKET)},       // packet dgram
    {kCloseOnly, family_bit(AF_PACKET)},       // packet raw
    {kCloseOnly, family_bit(AF_NETLINK)},      // netlink
    {kConnDefault, kInetFamilies},             // sctp
    {kConnDefault, family_bit(AF_VSOCK)},      // vsock stream
    {kCloseOnly, family_bit(AF_VSOCK)},        // vsock dgram
    {kConnDefault, family_bit(AF_TIPC)},       // tipc
    {kCloseOnly, family_bit(AF_XDP)},          // xdp
}};

struct FamilyDefault {
    int af;
    StateMask states;
    TableMask tables;
};

constexpr std::array<FamilyDefault, 8> kFamilyDefaults{{
    {AF_INET, kConnDefault, kInetTables},
    {AF_INET6, kConnDefault, kInetTables},
    {AF_UNIX, kConnDefault, kUnixTables},
    {AF_PACKET, kCloseOnly, kPacketTables},
    {AF_NETLINK, kCloseOnly, table_bit(kDbNetlink)},
    {AF_TIPC, kConnDefault, table_bit(kDbTipc)},
    {AF_VSOCK, kConnDefault, kVsockTables},
    {AF_XDP, kCloseOnly, table_bit(kDbXdp)},
}};

const FamilyDefault* family_default(int af)
{
    for (const auto& f : kFamilyDefaults) {
        if (f.af == af) {
            return &f;
        }
    }
    return nullptr;
}

struct QueryName {
    std::string_view name;
    TableMask tables;
};

constexpr TableMask kAllQuery =
    tables_of({kDbUdp, kDbDccp, kDbTcp, kDbMptcp, kDbRaw, kDbUnixStream, kDbUnixDgram,
               kDbUnixSeqpacket, kDbPacketRaw, kDbPacketDgram, kDbNetlink, kDbSctp,
               kDbVsockStream, kDbVsockDgram, kDbXdp});

constexpr std::array<QueryName, 27> kQueryNames{{
    {"all", kAllQuery},
    {"inet", kInetTables},
    {"udp", table_bit(kDbUdp)},
    {"dccp", table_bit(kDbDccp)},
    {"tcp", table_bit(kDbTcp)},
    {"mptcp", table_bit(kDbMptcp)},
    {"sctp", table_bit(kDbSctp)},
    {"raw", table_bit(kDbRaw)},
    {"unix", kUnixTables},
    {"unix_stream", table_bit(kDbUnixStream)},
    {"u_str", table_bit(kDbUnixStream)},
    {"unix_dgram", table_bit(kDbUnixDgram)},
    {"u_dgr", table_bit(kDbUnixDgram)},
    {"unix_seqpacket", table_bit(kDbUnixSeqpacket)},
    {"u_seq", table_bit(kDbUnixSeqpacket)},
    {"packet", kPacketTables},
    {"packet_raw", table_bit(kDbPacketRaw)},
    {"p_raw", table_bit(kDbPacketRaw)},
    {"packet_dgram", table_bit(kDbPacketDgram)},
    {"p_dgr", table_bit(kDbPacketDgram)},
    {"netlink", table_bit(kDbNetlink)},
    {"vsock", kVsockTables},
    {"vsock_stream", table_bit(kDbVsockStream)},
    {"v_str", table_bit(kDbVsockStream)},
    {"vsock_dgram", table_bit(kDbVsockDgram)},
    {"v_dgr", table_bit(kDbVsockDgram)},
    {"tipc", table_bit(kDbTipc)},
}};

class Builder {
public:
    void table(TableId t, bool enable)
    {
        if (enable) {
            sel_.states |= kTableDefaults[static_cast<std::size_t>(t)].states;
            sel_.tables |= table_bit(t);
        } else {
            sel_.tables &= ~table_bit(t);
        }
        do_default_ = false;
    }

    void family(int af)
    {
        const FamilyDefault* d = family_default(af);
        if (d != nullptr) {
            sel_.states |= d->states;
        }
        sel_.families |= family_bit(af);
        do_default_ = false;
        sel_.preferred_family = af;
    }

    // Returns false for an unknown id.
    bool query(std::string_view item)
    {
        bool enable = true;
        if (!item.empty() && item.front() == '!') {
            enable = false;
            item.remove_prefix(1);
        }
        for (const auto& q : kQueryNames) {
            if (q.name != item) {
                continue;
            }
            for (int t = 0; t < kDbCount; ++t) {
                if ((q.tables & table_bit(static_cast<TableId>(t))) != 0) {
                    table(static_cast<TableId>(t), enable);
                }
            }
            return true;
        }
        return false;
    }

    Selection sel_;
    StateMask state_filter_ = 0;
    bool do_default_ = true;
    bool saw_query_ = false;
};

}  // namespace

int inet_table_protocol(TableId table)
{
    switch (table) {
    case kDbTcp:
        return IPPROTO_TCP;
    case kDbUdp:
        return IPPROTO_UDP;
    case kDbRaw:
        return IPPROTO_RAW;
    case kDbDccp:
        return IPPROTO_DCCP;
    case kDbSctp:
        return IPPROTO_SCTP;
    case kDbMptcp:
        return 262;  // IPPROTO_MPTCP
    default:
        return 0;
    }
}

SelectionResult build_selection(std::span<const std::string> options,
                                std::span<const std::string> filter_words)
{
    SelectionResult res;
    Builder b;
    for (const std::string& tok : options) {
        if (tok == "-t") {
            b.table(kDbTcp, true);
        } else if (tok == "-u") {
            b.table(kDbUdp, true);
        } else if (tok == "-d") {
            b.table(kDbDccp, true);
        } else if (tok == "-w") {
            b.table(kDbRaw, true);
        } else if (tok == "-S") {
            b.table(kDbSctp, true);
        } else if (tok == "-M") {
            b.table(kDbMptcp, true);
        } else if (tok == "-x") {
            b.family(AF_UNIX);
        } else if (tok == "-0") {
            b.family(AF_PACKET);
        } else if (tok == "-4") {
            b.family(AF_INET);
        } else if (tok == "-6") {
            b.family(AF_INET6);
        } else if (tok == "--vsock") {
            b.family(AF_VSOCK);
        } else if (tok == "--tipc") {
            b.family(AF_TIPC);
        } else if (tok == "--xdp") {
            b.family(AF_XDP);
        } else if (tok == "-a") {
            b.state_filter_ = kAllStates;
        } else if (tok == "-l") {
            b.state_filter_ = state_bit(kStateListen) | state_bit(kStateClose);
        } else if (tok.rfind("-f ", 0) == 0) {
            const std::string fam = tok.substr(3);
            if (fam == "inet") {
                b.family(AF_INET);
            } else if (fam == "inet6") {
                b.family(AF_INET6);
            } else if (fam == "link") {
                b.family(AF_PACKET);
            } else if (fam == "unix") {
                b.family(AF_UNIX);
            } else if (fam == "netlink") {
                b.family(AF_NETLINK);
            } else if (fam == "tipc") {
                b.family(AF_TIPC);
            } else if (fam == "vsock") {
                b.family(AF_VSOCK);
            } else if (fam == "xdp") {
                b.family(AF_XDP);
            } else if (fam == "help") {
                res.exit_code = 0;
                res.with_usage = true;
                res.usage_to_stdout = true;
                return res;
            } else {
                res.exit_code = 255;
                res.message = fmt::format("{}: \"{}\" is invalid family", program_name(), fam);
                res.with_usage = true;
                return res;
            }
        } else if (tok.rfind("-A ", 0) == 0) {
            if (!b.saw_query_) {
                b.sel_.tables = 0;
                if (b.state_filter_ == 0) {
                    b.state_filter_ = kConnDefault;
                }
                b.saw_query_ = true;
                b.do_default_ = false;
            }
            const std::string list = tok.substr(3);
            std::size_t pos = 0;
            while (true) {
                const std::size_t comma = list.find(',', pos);
                const std::string item =
                    list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
                if (!b.query(item)) {
                    res.exit_code = 255;
                    res.message =
                        fmt::format("{}: \"{}\" is illegal socket table id", program_name(), item);
                    res.with_usage = true;
                    return res;
                }
                if (comma == std::string::npos) {
                    break;
                }
                pos = comma + 1;
            }
        }
    }

    StateWords words;
    if (auto err = parse_state_words(filter_words, words)) {
        res.exit_code = err->exit_code;
        res.message = err->message;
        return res;
    }
    if (words.mask) {
        b.state_filter_ = *words.mask;
    }
    res.expression.assign(filter_words.begin() + static_cast<std::ptrdiff_t>(words.consumed),
                          filter_words.end());

    Selection& s = b.sel_;
    res.do_default = b.do_default_;
    if (b.do_default_) {
        if (b.state_filter_ == 0) {
            b.state_filter_ = kConnDefault;
        }
        s.tables = kAllQuery;
    }
    if (b.state_filter_ != 0) {
        s.states = b.state_filter_;
    }
    // Merge defaults: every table pulls in its families when none of them is selected, and
    // every family without a table pulls in all of its tables.
    for (int t = 0; t < kDbCount; ++t) {
        if (!s.has_table(static_cast<TableId>(t))) {
            continue;
        }
        const FamilyMask fams = kTableDefaults[static_cast<std::size_t>(t)].families;
        if ((fams & s.families) == 0) {
            s.families |= fams;
        }
    }
    for (const auto& f : kFamilyDefaults) {
        if (!s.has_family(f.af)) {
            continue;
        }
        if ((f.tables & s.tables) == 0) {
            s.tables |= f.tables;
        }
    }
    if (s.tables == 0) {
        res.exit_code = 0;
        res.message = fmt::format("{}: no socket tables to show with such filter.", program_name());
    } else if (s.families == 0) {
        res.exit_code = 0;
        res.message = fmt::format("{}: no families to show with such filter.", program_name());
    } else if (s.states == 0) {
        res.exit_code = 0;
        res.message = fmt::format("{}: no socket states to show with such filter.", program_name());
    }
    res.selection = s;
    return res;
}

}  // namespace sstrace
