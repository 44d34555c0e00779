// SPDX-License-Identifier: GPL-2.0-only
// Root-only end-to-end test: in a private network namespace, build a small socket zoo, dump it
// through NETLINK_SOCK_DIAG with our compiled INET_DIAG_REQ_BYTECODE, apply the userspace
// filter as ss does, and compare the rows with what the real `ss -tanH FILTER` prints in the
// same namespace. Also proves the kernel accepts every program we compile.
#include "sstrace/filter/filter.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/require.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace sstrace::filter;

struct Fd {
    int fd = -1;
    explicit Fd(int f = -1) : fd(f) {}
    ~Fd()
    {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd& operator=(Fd&&) = delete;
};

bool lo_up()
{
    Fd s(::socket(AF_INET, SOCK_DGRAM, 0));
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s.fd, SIOCGIFFLAGS, &ifr) != 0) {
        return false;
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    return ::ioctl(s.fd, SIOCSIFFLAGS, &ifr) == 0;
}

sockaddr_storage endpoint(const char* host, unsigned port, socklen_t& len)
{
    sockaddr_storage ss{};
    if (std::strchr(host, ':') != nullptr) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<std::uint16_t>(port));
        inet_pton(AF_INET6, host, &a->sin6_addr);
        len = sizeof(*a);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<std::uint16_t>(port));
        inet_pton(AF_INET, host, &a->sin_addr);
        len = sizeof(*a);
    }
    return ss;
}

class Zoo {
public:
    bool build()
    {
        return listen_on("127.0.0.1", 8080) && listen_on("0.0.0.0", 22) &&
               listen_on("::1", 8443) && listen_on("::", 9000, false) &&
               listen_on("127.0.0.1", 7000, true, "lo") && connect_to("127.0.0.1", 8080, 0x2a) &&
               connect_to("127.0.0.1", 8080, 0) && connect_to("::1", 8443, 0) &&
               connect_to("127.0.0.1", 9000, 0) && connect_to("127.0.0.1", 22, 7);
    }

private:
    bool listen_on(const char* host, unsigned port, bool v6only = true, const char* dev = nullptr)
    {
        socklen_t len = 0;
        sockaddr_storage a = endpoint(host, port, len);
        Fd s(::socket(a.ss_family, SOCK_STREAM, 0));
        const int one = 1;
        const int v6 = v6only ? 1 : 0;
        ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (a.ss_family == AF_INET6) {
            ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6));
        }
        if (dev != nullptr &&
            ::setsockopt(s.fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
                         static_cast<socklen_t>(std::strlen(dev))) != 0) {
            return false;
        }
        if (::bind(s.fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(s.fd, 16) != 0) {
            return false;
        }
        listeners_.emplace_back(std::move(s));
        return true;
    }

    bool connect_to(const char* host, unsigned port, std::uint32_t mark)
    {
        socklen_t len = 0;
        sockaddr_storage a = endpoint(host, port, len);
        Fd c(::socket(a.ss_family, SOCK_STREAM, 0));
        if (mark != 0 && ::setsockopt(c.fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
            return false;
        }
        if (::connect(c.fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
            return false;
        }
        socks_.emplace_back(std::move(c));
        return true;
    }

    std::vector<Fd> listeners_;
    std::vector<Fd> socks_;
};

std::string endpoint_text(int family, const std::uint32_t* addr, unsigned port)
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, addr, buf, sizeof(buf));
    const std::string host = family == AF_INET6 ? "[" + std::string(buf) + "]" : buf;
    return host + ":" + (port == 0 ? std::string("*") : std::to_string(port));
}

// One sock_diag TCP dump of `family` with an optional bytecode. Returns -errno on failure.
int dump(int family, const std::optional<std::vector<std::uint8_t>>& bc, const Filter& f,
         std::vector<std::string>& rows)
{
    Fd nl(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (nl.fd < 0) {
        return -errno;
    }
    std::vector<std::uint8_t> msg(NLMSG_LENGTH(sizeof(inet_diag_req_v2)));
    auto* nlh = reinterpret_cast<nlmsghdr*>(msg.data());
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = 1;
    auto* req = reinterpret_cast<inet_diag_req_v2*>(NLMSG_DATA(nlh));
    req->sdiag_family = static_cast<std::uint8_t>(family);
    req->sdiag_protocol = IPPROTO_TCP;
    req->idiag_states = 0xfff;
    if (bc) {
        const std::size_t alen = RTA_LENGTH(bc->size());
        const std::size_t off = msg.size();
        msg.resize(off + RTA_ALIGN(alen));
        auto* rta = reinterpret_cast<rtattr*>(msg.data() + off);
        rta->rta_type = INET_DIAG_REQ_BYTECODE;
        rta->rta_len = static_cast<unsigned short>(alen);
        std::memcpy(RTA_DATA(rta), bc->data(), bc->size());
    }
    nlh = reinterpret_cast<nlmsghdr*>(msg.data());
    nlh->nlmsg_len = static_cast<std::uint32_t>(msg.size());
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(nl.fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof(kernel)) < 0) {
        return -errno;
    }
    std::vector<char> buf(1 << 16);
    for (;;) {
        const ssize_t n = ::recv(nl.fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            return -errno;
        }
        const auto total = static_cast<std::size_t>(n);
        for (std::size_t off = 0; off + sizeof(nlmsghdr) <= total;) {
            const auto* h = reinterpret_cast<const nlmsghdr*>(buf.data() + off);
            if (h->nlmsg_len < sizeof(nlmsghdr) || off + h->nlmsg_len > total) {
                return -EPROTO;
            }
            off += NLMSG_ALIGN(h->nlmsg_len);
            if (h->nlmsg_type == NLMSG_DONE) {
                return 0;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                return reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
            }
            const auto* m = reinterpret_cast<const inet_diag_msg*>(NLMSG_DATA(h));
            SockView v = make_inet_view(m->idiag_family,
                                        reinterpret_cast<const std::uint8_t*>(m->id.idiag_src),
                                        ntohs(m->id.idiag_sport),
                                        reinterpret_cast<const std::uint8_t*>(m->id.idiag_dst),
                                        ntohs(m->id.idiag_dport));
            v.ifindex = m->id.idiag_if;
            const auto* base = reinterpret_cast<const std::uint8_t*>(m + 1);
            const std::size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
            for (std::size_t a = 0; a + sizeof(rtattr) <= alen;) {
                const auto* rta = reinterpret_cast<const rtattr*>(base + a);
                if (rta->rta_len < sizeof(rtattr) || a + rta->rta_len > alen) {
                    break;
                }
                const auto* payload = base + a + RTA_LENGTH(0);
                if (rta->rta_type == INET_DIAG_MARK) {
                    std::memcpy(&v.mark, payload, 4);
                } else if (rta->rta_type == INET_DIAG_CGROUP_ID) {
                    std::memcpy(&v.cgroup_id, payload, 8);
                }
                a += RTA_ALIGN(rta->rta_len);
            }
            if (f.matches(v)) {  // every row is filtered again in userspace, as ss does
                rows.push_back(endpoint_text(m->idiag_family, m->id.idiag_src,
                                             ntohs(m->id.idiag_sport)) +
                               " " +
                               endpoint_text(m->idiag_family, m->id.idiag_dst,
                                             ntohs(m->id.idiag_dport)));
            }
        }
    }
}

std::string shell_quote(const std::string& s)
{
    std::string out = "'";
    for (char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

// `ss -tanH WORDS` rows as "local peer", normalised like endpoint_text.
bool run_ss(const std::vector<std::string>& words, std::vector<std::string>& rows, int& status)
{
    std::string cmd = "ss -tanH";
    for (const auto& w : words) {
        cmd += " " + shell_quote(w);
    }
    cmd += " 2>/dev/null";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return false;
    }
    char line[1024];
    auto norm = [](std::string ep) {
        const std::size_t colon = ep.rfind(':');
        std::string host = ep.substr(0, colon);
        if (const std::size_t pct = host.find('%'); pct != std::string::npos) {
            host.erase(pct);
        }
        if (host == "*") {
            host = "[::]";
        }
        return host + ep.substr(colon);
    };
    while (std::fgets(line, sizeof(line), p) != nullptr) {
        std::istringstream in(line);
        std::string state, rq, sq, local, peer;
        if (in >> state >> rq >> sq >> local >> peer) {
            rows.push_back(norm(local) + " " + norm(peer));
        }
    }
    status = ::pclose(p);
    return true;
}

class SockDiagE2E : public ::testing::Test {
protected:
    void SetUp() override
    {
        SSTRACE_REQUIRE(::geteuid() == 0, "needs root (unshare CLONE_NEWNET, SO_MARK)");
        SSTRACE_REQUIRE(std::system("ss -V >/dev/null 2>&1") == 0, "no ss to compare with");
        static bool entered = false;
        if (!entered) {
            ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
            ASSERT_TRUE(lo_up());
            entered = true;
        }
        zoo_ = std::make_unique<Zoo>();
        ASSERT_TRUE(zoo_->build()) << std::strerror(errno);
    }

    std::unique_ptr<Zoo> zoo_;
};

const char* const kFilters[] = {
    "",
    "sport = :8080",
    "dst 127.0.0.1",
    "src [::1]",
    "src [::1]:8443",
    "sport >= :8000",
    "sport > :8000 and sport < :9001",
    "dport gt :1024",
    "dport le :80",
    "autobound",
    "not autobound",
    "fwmark 0x2a",
    "fwmark = 0x2/0x2",
    "fwmark != 0x2a",
    "fwmark 7 or fwmark 0x2a",
    "not sport = :22",
    "! ( sport = :22 )",
    "src 127.0.0.1/8",
    "dst [::ffff:127.0.0.1]",
    "src 127.0.0.1:9000",
    "dst *:8080",
    "dst *",
    "src :8080",
    "sport = :http-alt or sport = :ssh",
    "sport = :22 or sport = :8080 and dport = :0",
    "dport = :0 and sport = :8080 or sport = :22",
    "( src :22 && dport = :0 ) || dst [::1]",
    "dev lo",
    "dev != lo",
    "dev lo or sport = :22",
    "cgroup /",
    "cgroup != /",
    "sport = :",
    "sport = :-1",
    "sport = :65536",
    "src 0.0.0.0/0",
    "src ::/0",
    "src 0.0.0.0",
    "src localhost:8443",
};

// Our rows (kernel bytecode, then the userspace filter) against ss's for one expression.
void compare_with_ss(const std::string& text)
{
    SCOPED_TRACE(text);
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string w; in >> w;) {
        words.push_back(w);
    }
    {
        ParseOptions po;
        po.udp = false;  // -t
        const ParseResult r = parse(words, nullptr, po);
        ASSERT_FALSE(r.error) << r.error->message;
        const auto bc = compile_bytecode(r.filter);
        if (bc) {
            ASSERT_EQ(audit_bytecode(*bc), 0);
        }
        std::vector<std::string> ours;
        ASSERT_EQ(dump(AF_INET, bc, r.filter, ours), 0) << "kernel refused the bytecode";
        ASSERT_EQ(dump(AF_INET6, bc, r.filter, ours), 0) << "kernel refused the bytecode";
        std::vector<std::string> theirs;
        int status = 0;
        ASSERT_TRUE(run_ss(words, theirs, status));
        ASSERT_EQ(status, 0);
        if (std::string(text).empty()) {
            ASSERT_EQ(ours.size(), 15u);  // 5 listeners, 5 connections with two ends each
        }
        std::sort(ours.begin(), ours.end());
        std::sort(theirs.begin(), theirs.end());
        EXPECT_EQ(ours, theirs) << "bytecode: " << (bc ? "yes" : "none") << ", tree "
                                << r.filter.to_string();
    }
}

TEST_F(SockDiagE2E, KernelAcceptsOurBytecodeAndRowsMatchSs)
{
    for (const char* text : kFilters) {
        compare_with_ss(text);
    }
}

std::string random_expr(std::mt19937& rng, int depth)
{
    static const char* const kAtoms[] = {
        "src 127.0.0.1",   "dst 127.0.0.1:8080", "src [::1]",      "dst [::1]:8443",
        "src *:22",        "dport = :9000",      "sport != :8080", "sport >= :8000",
        "dport < :1024",   "sport gt :30000",    "dport le :0",    "autobound",
        "fwmark 0x2a",     "fwmark 7/0xf",       "dev lo",         "dev != lo",
        "cgroup != /",     "src 0.0.0.0",        "dst 0.0.0.0/0",  "src ::/0",
        "dst [::ffff:127.0.0.1]", "src 127.0.0.0/8", "sport = :",  "dport = :-1",
        "sport >= :",      "sport < :65536",     "dst :0",         "src localhost",
    };
    std::uniform_int_distribution<int> d(0, 9);
    const int k = d(rng);
    if (depth <= 0 || k < 4) {
        return kAtoms[std::uniform_int_distribution<std::size_t>(0, std::size(kAtoms) - 1)(rng)];
    }
    if (k == 4) {
        return "! " + random_expr(rng, depth - 1);
    }
    if (k == 5) {
        return "( " + random_expr(rng, depth - 1) + " )";
    }
    static const char* const kJoin[] = {" and ", " or ", " "};
    std::string out = random_expr(rng, depth - 1);
    for (int i = std::uniform_int_distribution<int>(1, 3)(rng); i > 0; --i) {
        out += kJoin[std::uniform_int_distribution<std::size_t>(0, 2)(rng)] +
               random_expr(rng, depth - 1);
    }
    return out;
}

// Random expressions, including the operands where ss's kernel and userspace tests differ
// (family checks, out-of-range ports): the combination must still give ss's rows.
TEST_F(SockDiagE2E, RandomExpressionsMatchSs)
{
    std::mt19937 rng(424242);
    for (int i = 0; i < 150 && !HasFailure(); ++i) {
        compare_with_ss(random_expr(rng, 3));
    }
}

}  // namespace

namespace {

// A host name with an IPv4 and an IPv6 address becomes a jump chain mixing both families; the
// kernel must accept it and give the union of the two single-address filters.
TEST_F(SockDiagE2E, MultiAddressHostChainInTheKernel)
{
    ParseOptions po;
    po.udp = false;
    po.resolvers.host = [](const std::string& name, int family) {
        std::vector<HostAddr> out;
        if (name == "both") {
            HostAddr a;
            a.family = family;
            a.bits = family == AF_INET ? 32 : 128;
            inet_pton(family, family == AF_INET ? "127.0.0.1" : "::1", a.bytes.data());
            out.push_back(a);
        }
        return out;
    };
    for (const char* port : {"8443", "8080", "*"}) {
        const std::string text = std::string("src both:") + port;
        SCOPED_TRACE(text);
        const ParseResult r = parse(std::vector<std::string>{"src", text.substr(4)}, nullptr, po);
        ASSERT_FALSE(r.error) << r.error->message;
        const auto bc = compile_bytecode(r.filter);
        ASSERT_TRUE(bc);
        std::vector<std::string> ours;
        ASSERT_EQ(dump(AF_INET, bc, Filter{}, ours), 0);  // kernel filtering only
        ASSERT_EQ(dump(AF_INET6, bc, Filter{}, ours), 0);
        std::vector<std::string> theirs;
        int status = 0;
        ASSERT_TRUE(run_ss({"src", std::string("127.0.0.1:") + port, "or", "src",
                            std::string("[::1]:") + port},
                           theirs, status));
        std::sort(ours.begin(), ours.end());
        std::sort(theirs.begin(), theirs.end());
        EXPECT_FALSE(ours.empty());
        EXPECT_EQ(ours, theirs);
    }
}

}  // namespace
