// SPDX-License-Identifier: GPL-2.0-only
// core: the environment snapshot, whole-string number parsing, the handle owner, the program's
// name.
#include "sstrace/core/env.hpp"
#include "sstrace/core/parse.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/core/unique.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>

namespace sstrace {
namespace {

Environment env_of(std::map<std::string, std::string> vars)
{
    return Environment::from([&vars](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    });
}

TEST(Environment, NothingSetMeansProcAndSockDiag)
{
    const Environment env;
    EXPECT_EQ(env.proc_path(ProcFile::Tcp6), "/proc/net/tcp6");
    EXPECT_EQ(env.proc_path(ProcFile::LocalPortRange), "/proc/sys/net/ipv4/ip_local_port_range");
    EXPECT_FALSE(env.proc_forced(ProcFile::Tcp));
    EXPECT_FALSE(env.has_proc_root());
    EXPECT_EQ(env.proc_dir(), "/proc");
    EXPECT_FALSE(env.tcpdiag_file());
}

TEST(Environment, ProcRootMovesEveryFileAndForcesEveryTable)
{
    const Environment env = env_of({{"PROC_ROOT", "/tmp/fake"}});
    EXPECT_EQ(env.proc_path(ProcFile::Unix), "/tmp/fake/net/unix");
    EXPECT_EQ(env.proc_dir(), "/tmp/fake");
    EXPECT_TRUE(env.proc_forced(ProcFile::Netlink));
    EXPECT_TRUE(env.has_proc_root());
}

TEST(Environment, OwnVariableWinsAndForcesOnlyItsTable)
{
    const Environment env =
        env_of({{"PROC_NET_TCP", "/x/tcp"}, {"PROC_ROOT", "/r"}, {"TCPDIAG_FILE", "/d"},
                {"SSTRACE_LOG_LEVEL", "debug"}});
    EXPECT_EQ(env.proc_path(ProcFile::Tcp), "/x/tcp");
    EXPECT_EQ(env.proc_path(ProcFile::Tcp6), "/r/net/tcp6");
    EXPECT_EQ(env.tcpdiag_file(), "/d");
    EXPECT_EQ(env.log_level(), "debug");

    const Environment only_tcp = env_of({{"PROC_NET_TCP", "/x/tcp"}});
    EXPECT_TRUE(only_tcp.proc_forced(ProcFile::Tcp));
    EXPECT_FALSE(only_tcp.proc_forced(ProcFile::Udp));
}

TEST(ParseNumber, WholeStringOnly)
{
    EXPECT_EQ(parse_number<unsigned>("0A", 16), 10u);
    EXPECT_EQ(parse_number<int>("1234"), 1234);
    EXPECT_EQ(parse_number<unsigned long long>("FFFFFFFFFFFFFFFF", 16), ~0ULL);
    EXPECT_FALSE(parse_number<int>(""));
    EXPECT_FALSE(parse_number<int>("12x"));
    EXPECT_FALSE(parse_number<int>(" 12"));
    EXPECT_FALSE(parse_number<unsigned>("-1"));
    EXPECT_FALSE(parse_number<std::uint8_t>("256"));
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

TEST(Unique, ClosesOnceAndMoves)
{
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    {
        UniqueFd a(fds[0]);
        UniqueFd b(std::move(a));
        EXPECT_FALSE(a);
        EXPECT_EQ(b.get(), fds[0]);
        UniqueFd c;
        c = std::move(b);
        EXPECT_TRUE(is_open(fds[0]));
    }
    EXPECT_FALSE(is_open(fds[0]));
    UniqueFd d(fds[1]);
    EXPECT_EQ(d.release(), fds[1]);
    EXPECT_FALSE(d);
    EXPECT_TRUE(is_open(fds[1]));
    ::close(fds[1]);
}

TEST(ProgramName, TheBasenameOfArgv0AsInvoked)
{
    set_program_name("/usr/sbin/ss");
    EXPECT_EQ(program_name(), "ss");
    set_program_name("./build/sstrace");
    EXPECT_EQ(program_name(), "sstrace");
    set_program_name("ss-copy");
    EXPECT_EQ(program_name(), "ss-copy");
    set_program_name("");
    EXPECT_EQ(program_name(), "sstrace");
    set_program_name("dir/");
    EXPECT_EQ(program_name(), "sstrace");
}

}  // namespace
}  // namespace sstrace
