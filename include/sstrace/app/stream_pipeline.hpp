// SPDX-License-Identifier: GPL-2.0-only
// A stream's pipeline: sources hand events over; observers see every event; the filter
// expression, the gates and the row limit (-c) decide which reach the sinks. A source, a gate or
// a sink is one registration.
#pragma once

#include "sstrace/app/event_loop.hpp"
#include "sstrace/filter/filter.hpp"
#include "sstrace/sinks/event_sink.hpp"
#include "sstrace/sources/event_source.hpp"

#include <cstdint>
#include <vector>

namespace sstrace {

// Decides, after the filter, whether an event reaches the sinks (a watch's live table).
class EventGate {
public:
    virtual ~EventGate() = default;
    // May annotate the event (the time it spent in the state it leaves).
    virtual bool pass(SocketEvent& ev) = 0;
};

class StreamPipeline {
public:
    // `limit`: how many events reach the sinks at the most (0: no limit).
    StreamPipeline(const filter::Filter& expr, std::uint64_t limit);

    // Drained after every wake-up of `loop` (its descriptor wakes the loop).
    void add_source(EventSource& source, EventLoop& loop);
    // Sees every event, before the filter and the limit (the kernel-counter comparison).
    void add_observer(EventSink& sink);
    // Sees every event the filter passes, in order; one that a gate refuses stops there.
    void add_gate(EventGate& gate);
    // Receives the events that pass the filter and the gates, up to the limit.
    void add_sink(EventSink& sink);

    // Hands every event the sources have over, then flushes the sinks.
    void drain();
    // The last drain: also what the sources held back (EventSource::finish).
    void finish();

    bool limit_reached() const { return limit_ != 0 && delivered_ >= limit_; }

private:
    void deliver(SocketEvent& ev);

    const filter::Filter& expr_;
    std::uint64_t limit_;
    std::uint64_t delivered_ = 0;
    std::vector<EventSource*> sources_;
    std::vector<EventSink*> observers_;
    std::vector<EventGate*> gates_;
    std::vector<EventSink*> sinks_;
    EventSource::Deliver deliver_;
};

}  // namespace sstrace
