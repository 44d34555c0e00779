// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/privileges.hpp"

#include "sstrace/core/error.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace sstrace {

RunAs resolve_user(const std::string& name)
{
    RunAs who;
    who.name = name;
    if (const passwd* pw = ::getpwnam(name.c_str())) {
        who.uid = pw->pw_uid;
        who.gid = pw->pw_gid;
        return who;
    }
    unsigned long number = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (ec != std::errc() || end != name.data() + name.size() || number > 0xfffffffeul) {
        throw Error("--user", fmt::format("no such user '{}'", name), kExitUsage);
    }
    who.uid = static_cast<uid_t>(number);
    const passwd* pw = ::getpwuid(who.uid);
    who.gid = pw != nullptr ? pw->pw_gid : static_cast<gid_t>(number);
    return who;
}

void drop_privileges(const RunAs& who, const std::vector<int>& keep)
{
    auto fail = [&](const char* step) {
        throw Error::from_errno(fmt::format("--user {}: {}", who.name, step), errno);
    };
    // the capabilities stay permitted across the change of user on this thread only
    if (::prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
        fail("keeping capabilities");
    }
    const gid_t groups[] = {who.gid};
    if (::setgroups(1, groups) != 0) {
        fail("setgroups");
    }
    // glibc applies these to every thread of the process
    if (::setresgid(who.gid, who.gid, who.gid) != 0) {
        fail("setresgid");
    }
    if (::setresuid(who.uid, who.uid, who.uid) != 0) {
        fail("setresuid");
    }
    __user_cap_header_struct hdr{};
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    __user_cap_data_struct data[2]{};
    for (const int cap : keep) {
        const auto bit = 1u << (static_cast<unsigned>(cap) % 32);
        data[cap / 32].effective |= bit;
        data[cap / 32].permitted |= bit;
    }
    if (::syscall(SYS_capset, &hdr, data) != 0) {
        fail("keeping CAP_BPF and CAP_PERFMON");
    }
    ::prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
}

}  // namespace sstrace
