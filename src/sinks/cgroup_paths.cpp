// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/cgroup_paths.hpp"

#include "sstrace/core/unique.hpp"
#include "sstrace/ss/messages.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <mntent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace sstrace {

namespace {

struct MountTableTraits {
    using Handle = std::FILE*;
    static constexpr std::FILE* kEmpty = nullptr;
    static void close(std::FILE* f) { ::endmntent(f); }
};

}  // namespace

void CgroupPaths::walk()
{
    walked_ = true;
    const Unique<MountTableTraits> mounts(::setmntent("/proc/mounts", "r"));
    if (!mounts) {
        ss_text::put(ss_text::kNoCgroup2Mount);
        return;
    }
    while (const mntent* m = ::getmntent(mounts.get())) {
        if (std::strcmp(m->mnt_type, "cgroup2") == 0) {
            mount_ = m->mnt_dir;
            break;
        }
    }
    if (mount_.empty()) {
        // ss looks for the mount once to build its id cache, then again for every lookup.
        ss_text::put(ss_text::kNoCgroup2Mount);
        return;
    }
    // Depth-first walk; a cgroup's id is its kernfs inode number.
    std::vector<std::string> stack{""};
    while (!stack.empty()) {
        const std::string rel = std::move(stack.back());
        stack.pop_back();
        const std::string full = mount_ + rel;
        struct stat st{};
        if (::stat(full.c_str(), &st) != 0) {
            continue;
        }
        paths_.emplace(static_cast<std::uint64_t>(st.st_ino), rel.empty() ? "/" : rel);
        const UniqueDir dir(::opendir(full.c_str()));
        if (!dir) {
            continue;
        }
        while (dirent* e = ::readdir(dir.get())) {
            if (e->d_type != DT_DIR || std::strcmp(e->d_name, ".") == 0 ||
                std::strcmp(e->d_name, "..") == 0) {
                continue;
            }
            stack.push_back(rel + "/" + e->d_name);
        }
    }
}

const std::string& CgroupPaths::path(std::uint64_t id)
{
    if (!walked_) {
        walk();
    }
    const auto it = paths_.find(id);
    if (it != paths_.end()) {
        return it->second;
    }
    if (mount_.empty()) {
        ss_text::put(ss_text::kNoCgroup2Mount);
    }
    scratch_ = fmt::format("unreachable:{:x}", id);
    return scratch_;
}

}  // namespace sstrace
