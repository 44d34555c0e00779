// SPDX-License-Identifier: GPL-2.0-only
#pragma once

namespace sstrace {

// ss 6.1's usage text, ending with a newline.
const char* ss_usage_text();

}  // namespace sstrace
