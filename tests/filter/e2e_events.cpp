// SPDX-License-Identifier: GPL-2.0-only
// Root-only: `sstrace -E FILTER` in a private network namespace prints only the events whose
// socket matches, and reports filter errors with ss's text and exit codes.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/require.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

struct Output {
    std::string text;
    int status = -1;
};

Output run(const std::string& cmd)
{
    Output out;
    std::FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) {
        out.text.append(buf, n);
    }
    const int st = ::pclose(p);
    out.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

const std::string kSstrace = SSTRACE_BINARY;

TEST(EventsFilter, ErrorsAsSs)
{
    SSTRACE_REQUIRE_ROOT();
    Output o = run(kSstrace + " -E 'sport = :abc' 2>&1");
    EXPECT_EQ(o.status, 1);
    EXPECT_EQ(o.text, "Error: \"abc\" does not look like a port.\nCannot parse dst/src address.\n");
    o = run(kSstrace + " -E 'sport =' 2>&1");
    EXPECT_EQ(o.status, 255);
    EXPECT_EQ(o.text.rfind("sstrace: bison bellows (while parsing filter): \"syntax error!\" Sorry.\n"
                           "Usage: ",
                           0),
              0u)
        << o.text;
    o = run(kSstrace + " -E -F /nonexistent 2>&1");
    EXPECT_EQ(o.status, 255);
    EXPECT_EQ(o.text, "fopen filter file: No such file or directory\n");
    o = run(kSstrace + " -E dev nosuchdev 2>&1");
    EXPECT_EQ(o.status, 1);
    EXPECT_EQ(o.text, "Cannot parse device.\n");
}

void connect_and_close(unsigned port)
{
    const int l = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ASSERT_EQ(::listen(l, 4), 0);
    const int c = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    const int s = ::accept(l, nullptr, nullptr);
    ::close(c);
    ::close(s);
    ::close(l);
}

TEST(EventsFilter, OnlyMatchingEventsArePrinted)
{
    SSTRACE_REQUIRE_ROOT();
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0);
    ASSERT_EQ(std::system("ip link set lo up"), 0);
    // the filter comes half from argv, half from a -F file (one stream)
    char path[] = "/tmp/sstrace-filter-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string file = "# destroyed sockets on 9999 only\nor sport = :9999\n";
    ASSERT_EQ(::write(fd, file.data(), file.size()), static_cast<ssize_t>(file.size()));
    ::close(fd);
    Output out;
    std::thread t([&] {
        out = run(kSstrace + " -E -n --duration 3 -F " + path + " dport = :9999 2>/dev/null");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    connect_and_close(9999);
    connect_and_close(9998);
    connect_and_close(9999);
    t.join();
    ::unlink(path);
    ASSERT_EQ(out.status, 0) << out.text;
    EXPECT_NE(out.text.find("127.0.0.1:9999"), std::string::npos) << out.text;
    EXPECT_EQ(out.text.find(":9998"), std::string::npos) << out.text;
    int rows = 0;
    for (std::size_t pos = 0; (pos = out.text.find(":9999", pos)) != std::string::npos; ++pos) {
        ++rows;
    }
    EXPECT_EQ(rows, 6) << out.text;  // per connection: listener, client and server ends
}

}  // namespace
