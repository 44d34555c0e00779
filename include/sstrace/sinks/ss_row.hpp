// SPDX-License-Identifier: GPL-2.0-only
// The ss row of a Socket: the ten columns of ss 6.1, with everything after the peer port (users,
// timers, -e, -m, -i, ...) in the Process column, written into a Table.
#pragma once

#include "sstrace/model/socket.hpp"
#include "sstrace/sinks/cgroup_paths.hpp"
#include "sstrace/sinks/inet_format.hpp"
#include "sstrace/sinks/table.hpp"
#include "sstrace/ss/selection.hpp"

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sstrace {

// What ss prints of each socket (its display options).
struct RowOptions {
    bool numeric = false;       // -n
    bool resolve = false;       // -r
    bool timers = false;        // -o (-e and -b imply it)
    bool extended = false;      // -e
    bool memory = false;        // -m
    bool info = false;          // -i
    bool tos = false;           // --tos
    bool cgroup = false;        // --cgroup
    bool bpf = false;           // -b
    bool inet_sockopt = false;  // --inet-sockopt
    bool oneline = false;       // -O
    bool users = false;         // -p or -T
    bool threads = false;       // -T
};

// The text of the ten columns of one socket's ss row: listings write it into a Table
// (SsRowRenderer), event streams into their own stable-width layout (sinks/event_rows).
class SsColumns {
public:
    using Fields = std::array<std::string, kColCount>;

    // `proc_dir`: where /proc is, for the names of netlink port owners.
    SsColumns(const RowOptions& options, ServiceNames services, std::string proc_dir);

    // ss looks service names up for the protocol of the last raw, udp or tcp table it started:
    // dccp, sctp and mptcp rows use that one.
    void begin_table(TableId table);

    // The columns of one socket; nullptr for a family ss prints no row for.
    const Fields* columns(const Socket& s);

private:
    void state_fields(std::string_view netid, int state, std::uint32_t rq, std::uint32_t wq);
    void address_fields(Column addr_col, Column port_col, const Endpoint& e, unsigned ifindex,
                        bool v6only, bool raw_ports);
    void append_users(std::string& out, const Socket& s) const;
    void inet_row(const Socket& s);
    void timer_and_ids(std::string& out, const Socket& s) const;
    void inet_details(std::string& out, const Socket& s);
    void tcp_details(std::string& out, const Socket& s) const;
    void proc_tcp_details(std::string& out, const Socket& s) const;
    void unix_row(const Socket& s);
    void packet_row(const Socket& s);
    void packet_details(std::string& out, const Socket& s);
    void netlink_row(const Socket& s);
    std::string netlink_port_owner(int portid) const;
    const std::string& ifname(unsigned ifindex);
    const char* nl_tab() const { return options_.oneline ? " " : "\n\t"; }

    RowOptions options_;
    ServiceNames services_;
    std::string proc_dir_;
    CgroupPaths cgroups_;
    std::unordered_map<unsigned, std::string> ifnames_;
    std::string_view service_proto_ = "tcp";
    Fields fields_;
};

// A listing's rows: the columns of each socket, written into ss's buffered Table.
class SsRowRenderer {
public:
    SsRowRenderer(const RowOptions& options, Table& table, ServiceNames services,
                  std::string proc_dir);

    // Hides Netid when one table is selected and State when one state is, as ss does; buffers
    // the header row unless `header` is false (-H).
    void begin(const Selection& sel, bool header);

    void begin_table(TableId table) { columns_.begin_table(table); }

    // Buffers the row of one socket.
    void render(const Socket& s);

private:
    Table& table_;
    SsColumns columns_;
};

}  // namespace sstrace
