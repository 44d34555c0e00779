// SPDX-License-Identifier: GPL-2.0-only
// Private pieces shared by the filter sources.
#pragma once

#include "sstrace/filter/filter.hpp"

#include <optional>
#include <string>

namespace sstrace::filter::detail {

// Operand parsers. On failure they return nullopt and append the lines ss prints before its
// generic message (possibly none) to `err`.
// `preferred_family` is ss's preferred_family at that point: an operand with a family (a prefix
// such as `inet6:`, or the family in force) sets `family_reset`, and ss then parses every later
// operand with that family too.
std::optional<HostCond> parse_hostcond(const std::string& tok, bool is_port, int preferred_family,
                                       const ParseOptions& opts, std::string& err,
                                       std::optional<int>& family_reset);
std::optional<unsigned> parse_devcond(const std::string& tok, const ParseOptions& opts);
std::optional<std::pair<std::uint32_t, std::uint32_t>> parse_markmask(const std::string& tok);
std::optional<std::uint64_t> parse_cgroupcond(const std::string& tok, const ParseOptions& opts,
                                              std::string& err);

// Text of a host condition for Filter::to_string().
std::string hostcond_text(const HostCond& h);

}  // namespace sstrace::filter::detail
