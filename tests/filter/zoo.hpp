// SPDX-License-Identifier: GPL-2.0-only
// Test fixtures: the lab machine's socket zoo (ss-behaviour.md 6.1, samples/filters_ok.txt)
// as SockViews, hermetic resolvers, and helpers to read the spec samples.
#pragma once

#include "sstrace/filter/filter.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace zoo {

using sstrace::filter::HostAddr;
using sstrace::filter::ParseOptions;
using sstrace::filter::Resolvers;
using sstrace::filter::SockView;

constexpr unsigned kLoIndex = 1;
constexpr unsigned kV0Index = 5;
constexpr std::uint64_t kCgroupUnified = 0x1234;  // every zoo socket's cgroup
constexpr std::uint64_t kCgroupRootFs = 0x2;      // what `cgroup /` resolves to

struct Row {
    std::string local;  // as ss prints it, e.g. `127.0.0.1%lo:7000`
    std::string peer;
    SockView view;
};

inline std::array<std::uint8_t, 16> addr_bytes(const std::string& host, int& family)
{
    std::array<std::uint8_t, 16> b{};
    std::string h = host;
    if (h == "*") {
        family = AF_INET6;
        return b;
    }
    if (!h.empty() && h.front() == '[') {
        h = h.substr(1, h.size() - 2);
    }
    if (h.find(':') != std::string::npos) {
        family = AF_INET6;
        inet_pton(AF_INET6, h.c_str(), b.data());
    } else {
        family = AF_INET;
        inet_pton(AF_INET, h.c_str(), b.data());
    }
    return b;
}

// `127.0.0.1%lo:7000` -> host, ifname, port
inline void split_endpoint(const std::string& ep, std::string& host, std::string& ifname,
                           unsigned& port)
{
    const std::size_t colon = ep.rfind(':');
    host = ep.substr(0, colon);
    const std::string p = ep.substr(colon + 1);
    port = p == "*" ? 0 : static_cast<unsigned>(std::stoul(p));
    ifname.clear();
    if (const std::size_t pct = host.find('%'); pct != std::string::npos) {
        ifname = host.substr(pct + 1);
        host = host.substr(0, pct);
    }
}

inline Row make_row(const std::string& local, const std::string& peer)
{
    Row r{local, peer, {}};
    std::string lh, lif, ph, pif;
    unsigned lp = 0;
    unsigned pp = 0;
    split_endpoint(local, lh, lif, lp);
    split_endpoint(peer, ph, pif, pp);
    int fam = 0;
    int pfam = 0;
    r.view.local = addr_bytes(lh, fam);
    r.view.remote = addr_bytes(ph, pfam);
    if (lh == "*") {
        fam = AF_INET6;
    }
    r.view.family = fam;
    r.view.lport = lp;
    r.view.rport = pp;
    r.view.ifindex = lif == "lo" ? kLoIndex : lif == "v0" ? kV0Index : 0;
    r.view.cgroup_id = kCgroupUnified;
    if (local == "127.0.0.1:60410") {
        r.view.mark = 0x2a;
    }
    return r;
}

// The 28 TCP sockets of the lab netns, in ss's row order (samples: `ss -tan dst '*'`).
inline const std::vector<Row>& tcp_zoo()
{
    static const std::vector<Row> rows = [] {
        const char* const pairs[][2] = {
            {"0.0.0.0:22", "0.0.0.0:*"},
            {"127.0.0.1%lo:7000", "0.0.0.0:*"},
            {"127.0.0.1:8080", "0.0.0.0:*"},
            {"127.0.0.1:80", "0.0.0.0:*"},
            {"0.0.0.0:5000", "0.0.0.0:*"},
            {"10.99.0.1:45118", "10.99.0.2:8443"},
            {"127.0.0.1:8080", "127.0.0.1:38440"},
            {"127.0.0.1:80", "127.0.0.1:44814"},
            {"127.0.0.1:38440", "127.0.0.1:8080"},
            {"127.0.0.1:48094", "127.0.0.1:40375"},
            {"127.0.0.1:51622", "127.0.0.1:39185"},
            {"127.0.0.1:46194", "127.0.0.1:46537"},
            {"127.0.0.1:44814", "127.0.0.1:80"},
            {"127.0.0.1:60410", "127.0.0.1:22"},
            {"127.0.0.1:32928", "127.0.0.1:9000"},
            {"127.0.0.1:22", "127.0.0.1:60410"},
            {"10.99.0.1:38068", "10.99.0.2:443"},
            {"127.0.0.1:8080", "127.0.0.1:38446"},
            {"*:9000", "*:*"},
            {"[::]:9001", "[::]:*"},
            {"[::1]:8443", "[::]:*"},
            {"[::1]:8443", "[::1]:56150"},
            {"[::1]:56150", "[::1]:8443"},
            {"[::1]:44740", "[::1]:37133"},
            {"[fe80::1]%v0:52260", "[fe80::2]:8080"},
            {"[::1]:57580", "[::1]:40469"},
            {"[::ffff:127.0.0.1]:9000", "[::ffff:127.0.0.1]:32928"},
            {"[::1]:45970", "[::1]:44609"},
        };
        std::vector<Row> out;
        for (const auto& p : pairs) {
            out.push_back(make_row(p[0], p[1]));
        }
        return out;
    }();
    return rows;
}

// Resolvers that know the lab machine's names and nothing else.
inline Resolvers lab_resolvers()
{
    Resolvers r;
    r.service = [](const std::string& name, const char*) -> std::optional<int> {
        static const std::map<std::string, int> kServices = {
            {"ssh", 22}, {"http", 80}, {"https", 443}, {"domain", 53}, {"telnet", 23},
        };
        auto it = kServices.find(name);
        if (it == kServices.end()) {
            return std::nullopt;
        }
        return it->second;
    };
    r.host = [](const std::string& name, int family) {
        std::vector<HostAddr> out;
        if (name == "localhost") {
            HostAddr a;
            a.family = family;
            if (family == AF_INET) {
                a.bits = 32;
                inet_pton(AF_INET, "127.0.0.1", a.bytes.data());
            } else {
                a.bits = 128;
                inet_pton(AF_INET6, "::1", a.bytes.data());
            }
            out.push_back(a);
        }
        return out;
    };
    r.ifindex = [](const std::string& name) -> unsigned {
        return name == "lo" ? kLoIndex : name == "v0" ? kV0Index : 0;
    };
    r.cgroup = [](const std::string& path, std::string& err) -> std::optional<std::uint64_t> {
        if (path == "/") {
            return kCgroupRootFs;
        }
        if (path == "/sys/fs/cgroup/unified") {
            return kCgroupUnified;
        }
        err = "Failed to get cgroup2 ID: No such file or directory\n";
        return std::nullopt;
    };
    return r;
}

inline ParseOptions lab_options()
{
    ParseOptions o;
    o.resolvers = lab_resolvers();
    o.ephemeral = std::pair<unsigned, unsigned>{32768, 60999};
    return o;
}

// Minimal POSIX-shell word splitting: single and double quotes, backslashes.
inline std::vector<std::string> shell_split(const std::string& cmd)
{
    std::vector<std::string> out;
    std::string cur;
    bool have = false;
    for (std::size_t i = 0; i < cmd.size(); ++i) {
        const char c = cmd[i];
        if (c == '\'') {
            const std::size_t end = cmd.find('\'', i + 1);
            cur += cmd.substr(i + 1, end - i - 1);
            i = end;
            have = true;
        } else if (c == '"') {
            const std::size_t end = cmd.find('"', i + 1);
            cur += cmd.substr(i + 1, end - i - 1);
            i = end;
            have = true;
        } else if (c == '\\' && i + 1 < cmd.size()) {
            cur += cmd[++i];
            have = true;
        } else if (c == ' ') {
            if (have) {
                out.push_back(cur);
            }
            cur.clear();
            have = false;
        } else {
            cur += c;
            have = true;
        }
    }
    if (have) {
        out.push_back(cur);
    }
    return out;
}

// One `$ ss ...` block of a samples file.
struct Sample {
    std::string command;              // without `$ ` and without a `| head -N` tail
    std::vector<std::string> args;    // shell-split, after `ss`
    int head = 0;                     // N of `| head -N`, 0 if none
    std::vector<std::string> stdout_lines;
    std::string stderr_text;
    int exit_status = -1;
};

inline std::vector<Sample> read_samples(const std::string& path)
{
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot open " + path);
    }
    std::vector<Sample> out;
    std::string line;
    bool in_stderr = false;
    while (std::getline(in, line)) {
        if (line.rfind("$ ", 0) == 0) {
            Sample s;
            std::string cmd = line.substr(2);
            if (const std::size_t bar = cmd.find(" | head -"); bar != std::string::npos) {
                s.head = std::stoi(cmd.substr(bar + 9));
                cmd = cmd.substr(0, bar);
            }
            s.command = cmd;
            auto words = shell_split(cmd);
            s.args.assign(words.begin() + 1, words.end());
            out.push_back(std::move(s));
            in_stderr = false;
        } else if (out.empty()) {
            continue;
        } else if (line == "[stderr]") {
            in_stderr = true;
        } else if (line.rfind("[exit status: ", 0) == 0) {
            out.back().exit_status = std::stoi(line.substr(14));
            in_stderr = false;
        } else if (in_stderr) {
            out.back().stderr_text += line + "\n";
        } else if (!line.empty()) {
            out.back().stdout_lines.push_back(line);
        }
    }
    return out;
}

}  // namespace zoo
