// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/log.hpp"

#include "sstrace/core/program.hpp"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace sstrace {

void setup_logging(int verbosity, const std::optional<std::string>& level_name)
{
    auto logger = spdlog::stderr_color_mt("sstrace");
    std::string prefix;  // the program's name, '%' escaped from spdlog's pattern flags
    for (const char c : program_name()) {
        prefix += c == '%' ? "%%" : std::string(1, c);
    }
    logger->set_pattern(prefix + ": %^%l%$: %v");
    spdlog::set_default_logger(logger);
    spdlog::level::level_enum level = spdlog::level::warn;
    if (verbosity == 1) {
        level = spdlog::level::info;
    } else if (verbosity == 2) {
        level = spdlog::level::debug;
    } else if (verbosity >= 3) {
        level = spdlog::level::trace;
    }
    if (level_name) {
        level = spdlog::level::from_str(*level_name);
    }
    spdlog::set_level(level);
}

namespace {

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args)
{
    // One level down from libbpf's own: a failed load is reported by sstrace in one line, and
    // libbpf's warnings (the verifier log among them) appear from -v on.
    spdlog::level::level_enum lvl = spdlog::level::trace;
    if (level == LIBBPF_WARN) {
        lvl = spdlog::level::info;
    } else if (level == LIBBPF_INFO) {
        lvl = spdlog::level::debug;
    }
    if (!spdlog::should_log(lvl)) {
        return 0;
    }
    // the whole message: a verifier log runs to many kilobytes, and its reason is at its end
    va_list again;
    va_copy(again, args);
    const int n = std::vsnprintf(nullptr, 0, format, again);
    va_end(again);
    std::string msg(n < 0 ? 0 : static_cast<std::size_t>(n) + 1, '\0');
    if (n > 0) {
        std::vsnprintf(msg.data(), msg.size(), format, args);
        msg.resize(static_cast<std::size_t>(n));
    }
    while (!msg.empty() && msg.back() == '\n') {
        msg.pop_back();
    }
    spdlog::log(lvl, "libbpf: {}", msg);
    return 0;
}

}  // namespace

void bridge_libbpf_logging() { libbpf_set_print(libbpf_print); }

}  // namespace sstrace
