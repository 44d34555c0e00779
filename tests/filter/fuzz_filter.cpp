// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target for the filter parser, evaluator and bytecode compiler.
// Input: argv words separated by '\n'; after a 0x01 byte, the rest is a -F file. A leading byte
// below 8 selects ss's preferred family. Invariants checked: no crash, hang or leak; every
// program the compiler emits passes the kernel's audit; the interpreter terminates.
#include "sstrace/filter/filter.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace sstrace::filter;

ParseOptions fuzz_options(int family)
{
    ParseOptions o;
    o.preferred_family = family;
    o.ephemeral = std::pair<unsigned, unsigned>{32768, 60999};
    o.resolvers = Resolvers::none();
    o.resolvers.service = [](const std::string& name, const char* proto) -> std::optional<int> {
        if (name == "ssh") {
            return 22;
        }
        if (name == "http") {
            return 80;
        }
        if (name == "ambig") {
            return proto[0] == 't' ? 1 : 2;
        }
        return std::nullopt;
    };
    o.resolvers.host = [](const std::string& name, int fam) {
        std::vector<HostAddr> out;
        if (name == "localhost") {
            HostAddr a;
            a.family = fam;
            a.bits = fam == AF_INET ? 32 : 128;
            a.bytes[fam == AF_INET ? 0 : 15] = fam == AF_INET ? 127 : 1;
            if (fam == AF_INET) {
                a.bytes[3] = 1;
            }
            out.push_back(a);
        }
        return out;
    };
    o.resolvers.ifindex = [](const std::string& name) -> unsigned { return name == "lo" ? 1 : 0; };
    o.resolvers.cgroup = [](const std::string& path,
                            std::string& err) -> std::optional<std::uint64_t> {
        if (path == "/") {
            return 2;
        }
        err = "Failed to get cgroup2 ID: No such file or directory\n";
        return std::nullopt;
    };
    return o;
}

std::vector<SockView> views()
{
    std::vector<SockView> v;
    const std::uint8_t lo[16] = {127, 0, 0, 1};
    const std::uint8_t any[16] = {};
    std::uint8_t six[16] = {};
    six[15] = 1;
    std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
    v.push_back(make_inet_view(AF_INET, lo, 22, lo, 60410));
    v.push_back(make_inet_view(AF_INET, any, 8080, any, 0));
    v.push_back(make_inet_view(AF_INET6, six, 45000, six, 8443));
    v.push_back(make_inet_view(AF_INET6, mapped, 9000, mapped, 32928));
    v[0].mark = 0x2a;
    v[1].ifindex = 1;
    v[2].cgroup_id = 2;
    SockView u;
    u.family = AF_UNIX;
    u.unix_path = "/run/ssdoc.sock";
    u.lport = 2316801;
    v.push_back(u);
    u.unix_path.reset();
    v.push_back(u);
    SockView p;
    p.family = AF_PACKET;
    p.proto = 0x800;
    v.push_back(p);
    SockView n;
    n.family = AF_NETLINK;
    n.lport = -5;
    v.push_back(n);
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const std::vector<SockView> kViews = views();
    static const int kFamilies[8] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX,
                                     AF_PACKET, AF_NETLINK, AF_VSOCK, AF_UNSPEC};
    const std::string in(reinterpret_cast<const char*>(data), size);
    int family = AF_UNSPEC;
    std::size_t start = 0;
    if (!in.empty() && static_cast<unsigned char>(in[0]) < 8) {
        family = kFamilies[static_cast<unsigned char>(in[0])];
        start = 1;
    }
    const std::size_t sep = in.find('\x01', start);
    const std::string argv_part = in.substr(start, sep == std::string::npos ? std::string::npos
                                                                            : sep - start);
    std::vector<std::string> words;
    std::size_t pos = 0;
    while (pos <= argv_part.size()) {
        const std::size_t nl = argv_part.find('\n', pos);
        words.push_back(argv_part.substr(pos, nl == std::string::npos ? std::string::npos
                                                                       : nl - pos));
        if (nl == std::string::npos) {
            break;
        }
        pos = nl + 1;
    }
    std::string file_text;
    std::FILE* file = nullptr;
    if (sep != std::string::npos) {
        file_text = in.substr(sep + 1);
        if (!file_text.empty()) {
            file = fmemopen(file_text.data(), file_text.size(), "r");
        }
    }
    ParseResult r = parse(words, file, fuzz_options(family));
    if (file != nullptr) {
        std::fclose(file);
    }
    if (r.error) {
        if (r.error->message.empty() || r.error->message.back() != '\n' ||
            (r.error->exit_code != 1 && r.error->exit_code != 255)) {
            std::abort();
        }
        return 0;
    }
    (void)r.filter.to_string();
    for (const SockView& v : kViews) {
        (void)r.filter.matches(v);
    }
    if (auto code = compile_bytecode(r.filter)) {
        if (audit_bytecode(*code) != 0) {
            std::abort();  // the kernel would refuse what we send
        }
        for (const SockView& v : kViews) {
            (void)run_bytecode(*code, v);
        }
    }
    return 0;
}
