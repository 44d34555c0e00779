// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/error.hpp"

#include <cstring>

namespace sstrace {

Error Error::from_errno(std::string op, int err, int exit_code, std::string hint)
{
    const int e = err < 0 ? -err : err;
    return Error(std::move(op), std::strerror(e), exit_code, std::move(hint));
}

}  // namespace sstrace
