// SPDX-License-Identifier: GPL-2.0-only
// Fatal errors and the documented exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace sstrace {

// Exit codes (documented in --help, the README and the man page).
enum ExitCode : int {
    kExitOk = 0,
    kExitFailure = 1,         // a runtime failure (netlink, BPF attach, I/O), or a filter error
    kExitNotImplemented = 2,  // an ss option or mode sstrace does not implement yet
    kExitNoPrivilege = 3,     // not root / missing CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN
    kExitNoKernelSupport = 4, // the kernel lacks BTF or a required hook
    kExitBpfLoad = 5,         // the BPF programs failed to load (verifier); -v shows the reason
    kExitDamaged = 6,         // a capture file is truncated or corrupt (records before it were read)
    kExitListen = 7,          // --metrics cannot listen on its address (in use, not local, denied)
    kExitUsage = 255,         // bad options or arguments, as ss exits
};

// Thrown for unrecoverable errors; caught once in main, printed as
// `sstrace: <op>: <reason> (<hint>)` on one line.
class Error : public std::runtime_error {
public:
    Error(std::string op, std::string reason, int exit_code = kExitFailure, std::string hint = {})
        : std::runtime_error(op + ": " + reason),
          op_(std::move(op)),
          hint_(std::move(hint)),
          exit_code_(exit_code)
    {
    }

    // From an errno value (positive or negative).
    static Error from_errno(std::string op, int err, int exit_code = kExitFailure,
                            std::string hint = {});

    const std::string& op() const { return op_; }
    const std::string& hint() const { return hint_; }
    int exit_code() const { return exit_code_; }

private:
    std::string op_;
    std::string hint_;
    int exit_code_;
};

}  // namespace sstrace
