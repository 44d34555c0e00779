// SPDX-License-Identifier: GPL-2.0-only
// Where a stream's events go: ss rows today; JSON, capture files, metrics and the live table
// later. The stream hands every event that passed its filter to each sink, asks them to flush
// after each batch, and to finish at the end.
#pragma once

#include "sstrace/model/event.hpp"

namespace sstrace {

class EventSink {
public:
    virtual ~EventSink() = default;

    virtual void event(const SocketEvent& ev) = 0;
    // After each batch of events (and on a terminal, after each event).
    virtual void flush() {}
};

}  // namespace sstrace
