// SPDX-License-Identifier: GPL-2.0-only
// The filter's view of an eBPF event record (sstrace -E); src/bpf/event_view.cpp. The filter
// library itself does not know the record layout.
#pragma once

#include "sstrace/filter/filter.hpp"

struct sstrace_event;

namespace sstrace::filter {

// Family, addresses, ports, bound device, mark, cgroup and the bind-port lock of a record.
SockView make_event_view(const ::sstrace_event& ev);

}  // namespace sstrace::filter
