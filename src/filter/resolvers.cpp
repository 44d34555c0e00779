// SPDX-License-Identifier: GPL-2.0-only
// The system resolvers behind the operands: services, hosts, devices, cgroups.
#include "internal.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace sstrace::filter {

namespace {

std::optional<int> system_service(const std::string& name, const char* proto)
{
    servent se{};
    servent* res = nullptr;
    std::array<char, 4096> buf{};
    if (getservbyname_r(name.c_str(), proto, &se, buf.data(), buf.size(), &res) != 0 ||
        res == nullptr) {
        return std::nullopt;
    }
    return static_cast<int>(ntohs(static_cast<std::uint16_t>(res->s_port)));
}

std::vector<HostAddr> system_host(const std::string& name, int family)
{
    std::vector<HostAddr> out;
    hostent he{};
    hostent* res = nullptr;
    int herr = 0;
    std::vector<char> buf(16384);
    if (gethostbyname2_r(name.c_str(), family, &he, buf.data(), buf.size(), &res, &herr) != 0 ||
        res == nullptr) {
        return out;
    }
    const int len = res->h_addrtype == AF_INET ? 4 : res->h_addrtype == AF_INET6 ? 16 : 0;
    if (len == 0 || res->h_length != len) {
        return out;
    }
    for (char** p = res->h_addr_list; *p != nullptr; ++p) {
        HostAddr a;
        a.family = res->h_addrtype;
        a.bits = len * 8;
        std::memcpy(a.bytes.data(), *p, static_cast<std::size_t>(len));
        out.push_back(a);
    }
    return out;
}

std::string cgroup2_mount()
{
    std::ifstream in("/proc/mounts");
    std::string dev, dir, type, rest;
    while (in >> dev >> dir >> type) {
        std::getline(in, rest);
        if (type == "cgroup2") {
            return dir;
        }
    }
    return {};
}

// The cgroup v2 id of PATH as ss finds it: the file handle of PATH itself (relative to the cwd
// or absolute); failing that, of MOUNT + "/" + PATH under the cgroup2 mount, whose errno is
// then the one reported. Any path with an 8-byte handle gives an id (`/` is the root
// filesystem's, matching no socket).
std::optional<std::uint64_t> system_cgroup(const std::string& path, std::string& error)
{
    auto handle_of = [](const std::string& p, std::uint64_t& id) -> int {
        std::array<unsigned char, sizeof(file_handle) + sizeof(std::uint64_t)> raw{};
        auto* fh = reinterpret_cast<file_handle*>(raw.data());
        fh->handle_bytes = sizeof(std::uint64_t);
        int mnt_id = 0;
        if (name_to_handle_at(AT_FDCWD, p.c_str(), fh, &mnt_id, 0) < 0) {
            return errno;
        }
        if (fh->handle_bytes != sizeof(std::uint64_t)) {
            return -1;
        }
        std::memcpy(&id, raw.data() + sizeof(file_handle), sizeof(id));
        return 0;
    };
    std::uint64_t id = 0;
    int rc = handle_of(path, id);
    if (rc > 0) {
        if (const std::string mnt = cgroup2_mount(); !mnt.empty()) {
            rc = handle_of(mnt + "/" + path, id);
        }
    }
    if (rc == -1) {
        error = "Invalid size of cgroup2 ID\n";
        return std::nullopt;
    }
    if (rc != 0) {
        error = fmt::format("Failed to get cgroup2 ID: {}\n", std::strerror(rc));
        return std::nullopt;
    }
    return id;
}

}  // namespace

Resolvers Resolvers::system()
{
    Resolvers r;
    r.service = system_service;
    r.host = system_host;
    r.ifindex = [](const std::string& name) -> unsigned {
        unsigned idx = name.size() < IF_NAMESIZE ? if_nametoindex(name.c_str()) : 0;
        if (idx == 0 && std::sscanf(name.c_str(), "if%u", &idx) != 1) {
            idx = 0;  // iproute2 also reads the `ifN` names it prints for unknown indexes
        }
        return idx;
    };
    r.cgroup = system_cgroup;
    return r;
}

Resolvers Resolvers::none()
{
    Resolvers r;
    r.service = [](const std::string&, const char*) -> std::optional<int> { return std::nullopt; };
    r.host = [](const std::string&, int) { return std::vector<HostAddr>{}; };
    r.ifindex = [](const std::string&) -> unsigned { return 0; };
    r.cgroup = [](const std::string&, std::string& error) -> std::optional<std::uint64_t> {
        error = "Failed to get cgroup2 ID: No such file or directory\n";
        return std::nullopt;
    };
    return r;
}

}  // namespace sstrace::filter
