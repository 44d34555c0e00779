// SPDX-License-Identifier: GPL-2.0-only
// --user NAME: a long-running stream gives up root once its programs are attached and its
// outputs are open, so that what it runs from then on (the HTTP endpoint of --metrics, the
// --post-rotate command) never runs as root.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sstrace {

struct RunAs {
    std::string name;  // as given
    uid_t uid = 0;
    gid_t gid = 0;
};

// NAME, or a number (a uid without a passwd entry runs with the group of the same number).
// Throws Error (exit 255) for an unknown name.
RunAs resolve_user(const std::string& name);

// Every thread becomes the user, with its group and no supplementary groups; the calling thread
// keeps the capabilities `keep` (CAP_* numbers) effective and permitted, every other thread and
// every program it starts keeps none. Throws Error (exit 1) when a step fails.
void drop_privileges(const RunAs& who, const std::vector<int>& keep);

}  // namespace sstrace
