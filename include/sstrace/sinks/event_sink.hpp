// SPDX-License-Identifier: GPL-2.0-only
// Where a stream's events go: ss rows, JSON lines, capture files; metrics and the live table
// later. The stream hands every event that passed its filter to each sink, asks them to flush
// after each batch, and to finish at the end.
#pragma once

#include "sstrace/model/event.hpp"
#include "sstrace/model/loss.hpp"

namespace sstrace {

class EventSink {
public:
    virtual ~EventSink() = default;

    virtual void event(const SocketEvent& ev) = 0;
    // After each batch of events (and on a terminal, after each event).
    virtual void flush() {}
    // Events lost since the previous call (about once a second while some are): sinks whose
    // output can say so (a capture file, JSON lines) record it in place.
    virtual void loss(const EventLoss& /*lost*/) {}
};

}  // namespace sstrace
