# SPDX-License-Identifier: GPL-2.0-only
add_library(sstrace_warnings INTERFACE)
target_compile_options(sstrace_warnings INTERFACE
    -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
    -Wpedantic -Wconversion -Wsign-conversion -Wnull-dereference -Wdouble-promotion
    -Wformat=2 -Wimplicit-fallthrough -Wmisleading-indentation -Wduplicated-cond
    -Wduplicated-branches -Wlogical-op)
option(SSTRACE_WERROR "treat warnings as errors" OFF)
if(SSTRACE_WERROR)
    target_compile_options(sstrace_warnings INTERFACE -Werror)
endif()
