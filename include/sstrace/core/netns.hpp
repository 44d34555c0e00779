// SPDX-License-Identifier: GPL-2.0-only
// Network namespaces: entering one by its `ip netns` name (ss -N), and the mount namespace ss
// sets up after that.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sstrace/core/unique.hpp"

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

// Every network namespace sstrace can reach: its own, those `ip netns` names (/var/run/netns)
// and those a process is in (/proc/*/ns/net), each once, opened (for setns). In that order:
// its own first, then by name, then by inode.
struct NetnsHandle {
    UniqueFd fd;
    std::uint32_t ino = 0;
};
std::vector<NetnsHandle> open_every_netns();

// The names `ip netns` gives network namespaces (the files in /var/run/netns, each bound to a
// namespace whose inode it has), for the Netns column of --all-netns. A namespace named after
// the start is found on its first unknown inode (the directory is read again at most once a
// second).
class NetnsNames {
public:
    explicit NetnsNames(std::string dir = "/var/run/netns");

    // The namespace's name, or its inode in decimal when it has none.
    const std::string& label(std::uint32_t ino);
    // The longest name known now (0: none).
    std::size_t longest() const;

private:
    void rescan();

    std::string dir_;
    std::unordered_map<std::uint32_t, std::string> names_;
    std::unordered_map<std::uint32_t, std::string> numbers_;  // inodes without a name
    std::chrono::steady_clock::time_point scanned_{};
};

}  // namespace sstrace
