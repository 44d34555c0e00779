// SPDX-License-Identifier: GPL-2.0-only
// The BPF session as an event source: ring-buffer records decoded into SocketEvents.
#pragma once

#include "sstrace/sources/bpf_session.hpp"
#include "sstrace/sources/event_source.hpp"

#include <cstdint>

namespace sstrace {

class BpfEventSource : public EventSource {
public:
    explicit BpfEventSource(BpfSession& session);

    int fd() const override;
    std::size_t drain(const Deliver& deliver) override;

    // Records that failed to decode (never expected: the programs and this decoder share the
    // ABI header).
    std::uint64_t malformed() const { return malformed_; }

private:
    BpfSession& session_;
    SocketEvent event_;  // reused for every record
    const Deliver* deliver_ = nullptr;
    std::size_t delivered_ = 0;
    std::uint64_t malformed_ = 0;
};

}  // namespace sstrace
