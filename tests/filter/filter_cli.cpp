// SPDX-License-Identifier: GPL-2.0-only
// Test driver: `filter_cli [-F FILE] [-4|-6|-x|-0|--netlink|--vsock|-u] WORDS...` parses WORDS like `ss -tan WORDS` (system
// resolvers) and behaves like ss on errors (stderr text, exit code); on success prints the tree.
// Used for differential runs against /usr/bin/ss (tests/filter/diff_ss.py).
#include "sstrace/filter/filter.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/core/state.hpp"

#include <sys/socket.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    using namespace sstrace::filter;
    sstrace::set_program_name("ss");  // it stands in for `ss -tan WORDS`
    ParseOptions po;
    po.udp = false;
    std::FILE* file = nullptr;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-F" && i + 1 < argc) {
            std::optional<FilterError> err;
            file = open_filter_file(argv[++i], err);
            if (err) {
                std::fputs(err->message.c_str(), stderr);
                return err->exit_code;
            }
        } else if (a == "-4") {
            po.preferred_family = AF_INET;
        } else if (a == "-6") {
            po.preferred_family = AF_INET6;
        } else if (a == "-x") {
            po.preferred_family = AF_UNIX;
        } else if (a == "-0") {
            po.preferred_family = AF_PACKET;
        } else if (a == "--netlink") {
            po.preferred_family = AF_NETLINK;
        } else if (a == "--vsock") {
            po.preferred_family = AF_VSOCK;
        } else if (a == "-u") {
            po.udp = true;
            po.tcp = false;
        } else if (a == "--") {
            ++i;
            break;
        } else {
            break;
        }
    }
    std::vector<std::string> words(argv + i, argv + argc);
    sstrace::StateWords sw;
    if (auto err = sstrace::parse_state_words(words, sw)) {
        std::fprintf(stderr, "%s\n", err->message.c_str());
        return err->exit_code;
    }
    words.erase(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(sw.consumed));
    const ParseResult r = parse(words, file, po);
    if (r.error) {
        std::fputs(r.error->message.c_str(), stderr);
        if (r.error->usage) {
            std::fputs("Usage: ss [ OPTIONS ]\n", stderr);
        }
        return r.error->exit_code;
    }
    std::printf("%s\n", r.filter.to_string().c_str());
    return 0;
}
