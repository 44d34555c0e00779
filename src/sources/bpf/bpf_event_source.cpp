// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/bpf_event_source.hpp"

#include "sstrace/core/error.hpp"
#include "sstrace/sources/bpf_record.hpp"

#include <cerrno>

namespace sstrace {

BpfEventSource::BpfEventSource(BpfSession& session) : session_(session)
{
    session_.set_handler([this](const void* data, std::size_t size) {
        if (!decode_record({static_cast<const std::byte*>(data), size}, event_)) {
            ++malformed_;
            return;
        }
        ++delivered_;
        (*deliver_)(event_);
    });
}

int BpfEventSource::fd() const { return session_.epoll_fd(); }

std::size_t BpfEventSource::drain(const Deliver& deliver)
{
    deliver_ = &deliver;
    delivered_ = 0;
    const int got = session_.consume();
    deliver_ = nullptr;
    if (got < 0 && got != -EINTR) {
        throw Error::from_errno("consuming the ring buffer", got);
    }
    return delivered_;
}

}  // namespace sstrace
