// SPDX-License-Identifier: GPL-2.0-only
// Filters in run_listing, against the real kernel (no privileges needed: a sock_diag dump
// of the caller's own network namespace).
#include "sstrace/app/listing.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace sstrace {
namespace {

class Listener {
public:
    Listener()
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(a);
        if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
            ::listen(fd_, 7) == 0 &&
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
            port_ = ntohs(a.sin_port);
        }
    }
    ~Listener()
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    unsigned port() const { return port_; }

private:
    int fd_ = -1;
    unsigned port_ = 0;
};

// Runs run_listing with stdout redirected to a temporary file; returns (exit code, output).
std::pair<int, std::string> capture(const Options& o)
{
    std::fflush(stdout);
    std::FILE* tmp = std::tmpfile();
    const int saved = ::dup(STDOUT_FILENO);
    ::dup2(::fileno(tmp), STDOUT_FILENO);
    const int rc = run_listing(o, Environment{});
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    std::rewind(tmp);
    std::string out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), tmp)) > 0) {
        out.append(buf, n);
    }
    std::fclose(tmp);
    return {rc, out};
}

Options listening_tcp(std::vector<std::string> words)
{
    Options o;
    o.numeric = true;
    o.selection = {"-t", "-l"};
    o.listening = true;
    o.filter_words = std::move(words);
    return o;
}

TEST(DumpFilter, PortExpressionSelectsRows)
{
    Listener a;
    Listener b;
    ASSERT_NE(a.port(), 0u);
    const auto [rc, out] = capture(listening_tcp({"sport", "=", ":" + std::to_string(a.port())}));
    EXPECT_EQ(rc, 0);
    EXPECT_NE(out.find("127.0.0.1:" + std::to_string(a.port()) + " "), std::string::npos) << out;
    EXPECT_EQ(out.find(":" + std::to_string(b.port()) + " "), std::string::npos) << out;
}

TEST(DumpFilter, UserspaceOnlyExpressionSelectsRows)
{
    // `dev` is never compiled to bytecode (as in ss): the row check alone decides
    Listener a;
    Listener b;
    const auto [rc, out] = capture(listening_tcp(
        {"(", "dev", "=", "lo", "or", "sport", "=", ":" + std::to_string(a.port()), ")"}));
    EXPECT_EQ(rc, 0);
    EXPECT_NE(out.find(":" + std::to_string(a.port()) + " "), std::string::npos) << out;
    EXPECT_EQ(out.find(":" + std::to_string(b.port()) + " "), std::string::npos) << out;
}

TEST(DumpFilter, OperandErrorIsExitOne)
{
    EXPECT_EQ(capture(listening_tcp({"dst", "1.2.3.4.5"})).first, 1);
}

TEST(DumpFilter, SyntaxErrorIsExit255)
{
    EXPECT_EQ(capture(listening_tcp({"sport", "="})).first, 255);
}

TEST(DumpFilter, StateWordsAlone)
{
    Listener a;
    const auto [rc, out] = capture(listening_tcp({"state", "listening"}));
    EXPECT_EQ(rc, 0);
    EXPECT_NE(out.find(":" + std::to_string(a.port()) + " "), std::string::npos) << out;
}

}  // namespace
}  // namespace sstrace
