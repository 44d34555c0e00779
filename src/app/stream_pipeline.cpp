// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/stream_pipeline.hpp"

namespace sstrace {

StreamPipeline::StreamPipeline(const filter::Filter& expr, std::uint64_t limit)
    : expr_(expr), limit_(limit), deliver_([this](SocketEvent& ev) { deliver(ev); })
{
}

void StreamPipeline::add_source(EventSource& source, EventLoop& loop)
{
    sources_.push_back(&source);
    if (source.fd() >= 0) {
        loop.watch(source.fd(), [] {});  // drained after the wake-up, with every other source
    }
}

void StreamPipeline::add_observer(EventSink& sink) { observers_.push_back(&sink); }

void StreamPipeline::add_gate(EventGate& gate) { gates_.push_back(&gate); }

void StreamPipeline::add_sink(EventSink& sink) { sinks_.push_back(&sink); }

void StreamPipeline::deliver(SocketEvent& ev)
{
    for (EventSink* o : observers_) {
        o->event(ev);
    }
    if (limit_reached() || (!expr_.empty() && !expr_.matches(ev))) {
        return;
    }
    for (EventGate* g : gates_) {
        if (!g->pass(ev)) {
            return;
        }
    }
    ++delivered_;
    for (EventSink* s : sinks_) {
        s->event(ev);
    }
}

void StreamPipeline::finish()
{
    for (EventSource* src : sources_) {
        src->drain(deliver_);
        src->finish(deliver_);
    }
    for (EventSink* s : sinks_) {
        s->flush();
    }
}

void StreamPipeline::drain()
{
    for (EventSource* src : sources_) {
        src->drain(deliver_);
    }
    for (EventSink* s : sinks_) {
        s->flush();
    }
}

}  // namespace sstrace
