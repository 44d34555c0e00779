// SPDX-License-Identifier: GPL-2.0-only
// Network namespaces: entering one by its `ip netns` name (ss -N), and the mount namespace ss
// sets up after that.
#pragma once

#include <cstdint>
#include <string>

namespace sstrace {

// Switches to the network namespace `ip netns` knows as `name` (/var/run/netns/NAME).
// Throws Error with ss's wording.
void enter_named_netns(const std::string& name);

// After enter_named_netns(): a private mount namespace, a fresh /sys that describes the new
// network namespace, and /etc/netns/NAME/* bound over /etc, as ss -N (and `ip netns exec`) do.
// Returns 0, or -1 after printing ss's message.
int netns_private_mounts(const std::string& name);

// Inode of the calling thread's network namespace.
std::uint32_t current_netns_inode();

}  // namespace sstrace
