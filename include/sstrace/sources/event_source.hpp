// SPDX-License-Identifier: GPL-2.0-only
// Where a stream's events come from: the BPF session today; a capture reader and the live table
// later. A source has a descriptor the event loop watches and hands over what it has when asked.
#pragma once

#include "sstrace/model/event.hpp"

#include <cstddef>
#include <functional>

namespace sstrace {

class EventSource {
public:
    // The event may be annotated on its way (a live table sets how long a state lasted).
    using Deliver = std::function<void(SocketEvent&)>;

    virtual ~EventSource() = default;

    // A descriptor that becomes readable when events wait (-1: none; drain on a timer).
    virtual int fd() const = 0;
    // Delivers every event available now; returns how many.
    virtual std::size_t drain(const Deliver& deliver) = 0;
    // At the end of a stream: delivers what the source still holds back (events waiting for a
    // later one to tell what they are).
    virtual void finish(const Deliver& /*deliver*/) {}
};

}  // namespace sstrace
