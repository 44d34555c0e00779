// SPDX-License-Identifier: GPL-2.0-only
// Pieces the ss row files share (internal to src/sinks).
#pragma once

#include <cstdint>
#include <string>

namespace sstrace {

// ` <->`, ` -->`, ...: which directions of the socket are shut down.
void append_shutdown(std::string& out, std::uint8_t mask);

}  // namespace sstrace
