// SPDX-License-Identifier: GPL-2.0-only
// The BPF programs' ring-buffer records (include/sstrace/abi/events.h) as SocketEvents.
#pragma once

#include "sstrace/model/event.hpp"

#include <cstddef>
#include <optional>
#include <span>

namespace sstrace {

// Checks a raw record and decodes it. A record may be longer than the layout this build knows
// (fields added at its end by a newer producer): what is known is read, the rest ignored.
// nullopt for a record shorter than its type's layout, a size that disagrees with its header,
// or an unknown type (raw bytes are never cast).
std::optional<SocketEvent> decode_record(std::span<const std::byte> record);
// The same into an existing event (the stream reuses one: a Socket is over a kilobyte). Sets
// every field a record carries; false, with `out` unspecified, where the other returns nullopt.
bool decode_record(std::span<const std::byte> record, SocketEvent& out);

}  // namespace sstrace
