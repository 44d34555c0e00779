// SPDX-License-Identifier: GPL-2.0-only
// The name sstrace gives itself in messages and in its usage text: the basename of argv[0], as
// invoked. A copy installed as `ss` says `ss: ...` where ss does; `sstrace` says `sstrace: ...`.
#pragma once

#include <string_view>

namespace sstrace {

// "sstrace" until set_program_name() is called (main does, before anything is printed).
std::string_view program_name();

// Keeps the basename of `argv0`; an empty one (or one ending in '/') leaves "sstrace".
void set_program_name(std::string_view argv0);

}  // namespace sstrace
