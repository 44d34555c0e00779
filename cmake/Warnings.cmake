# SPDX-License-Identifier: GPL-2.0-only
# -Wnull-dereference is left out: with g++ 12 at -O2 it fires inside libstdc++'s
# basic_string when CLI11 is inlined (a false positive), and CI builds with -Werror.
# The last three are GCC's only (the fuzzer build compiles the lower layers with clang).
add_library(sstrace_warnings INTERFACE)
target_compile_options(sstrace_warnings INTERFACE
    -Wall -Wextra -Wshadow -Wcast-align -Wunused
    $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor> $<$<COMPILE_LANGUAGE:CXX>:-Woverloaded-virtual>
    -Wpedantic -Wconversion -Wsign-conversion -Wdouble-promotion
    -Wformat=2 -Wimplicit-fallthrough -Wmisleading-indentation
    $<$<CXX_COMPILER_ID:GNU>:-Wduplicated-cond> $<$<CXX_COMPILER_ID:GNU>:-Wduplicated-branches>
    $<$<CXX_COMPILER_ID:GNU>:-Wlogical-op>)
option(SSTRACE_WERROR "treat warnings as errors" OFF)
if(SSTRACE_WERROR)
    target_compile_options(sstrace_warnings INTERFACE -Werror)
endif()
