# SPDX-License-Identifier: GPL-2.0-only
# sstrace_add_bpf_skeleton(<target> NAME <skel_name> SOURCES <a.bpf.c> ... [LIGHT])
#
# Compiles each .bpf.c with clang (-g for BTF/CO-RE), links the objects with
# `bpftool gen object`, generates `<bin>/gen/sstrace/<skel_name>.skel.h` and exposes it as the
# INTERFACE library <target> (SYSTEM include, links libbpf). LIGHT generates a light skeleton
# (`bpftool gen skeleton -L`, `<skel_name>.lskel.h`, C only) instead: a loader program applies
# the CO-RE relocations in the kernel, so userspace never parses the kernel's BTF.
# Header dependencies of every BPF
# source (the ABI header included) are tracked through clang depfiles, so editing
# include/sstrace/abi/events.h rebuilds the object.

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
    set(SSTRACE_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set(SSTRACE_BPF_ARCH arm64)
else()
    message(FATAL_ERROR "sstrace: unsupported architecture ${CMAKE_SYSTEM_PROCESSOR}")
endif()

set(SSTRACE_VMLINUX_DIR "${PROJECT_SOURCE_DIR}/vmlinux/${SSTRACE_BPF_ARCH}"
    CACHE PATH "directory holding the vmlinux.h the BPF programs are compiled against")
if(NOT EXISTS "${SSTRACE_VMLINUX_DIR}/vmlinux.h")
    message(FATAL_ERROR "sstrace: no vmlinux.h in ${SSTRACE_VMLINUX_DIR} (scripts/gen-vmlinux.sh makes one)")
endif()

find_program(SSTRACE_CLANG NAMES clang-14 clang REQUIRED)
find_program(SSTRACE_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

execute_process(COMMAND ${SSTRACE_CLANG} -dumpversion OUTPUT_VARIABLE _clang_ver
                OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REGEX MATCH "^[0-9]+" _clang_major "${_clang_ver}")
if(_clang_major LESS 14)
    message(FATAL_ERROR "sstrace: clang >= 14 is needed for BPF (found ${_clang_ver})")
endif()
execute_process(COMMAND ${SSTRACE_BPFTOOL} version OUTPUT_VARIABLE _bpftool_ver
                ERROR_QUIET)
if(NOT _bpftool_ver MATCHES "libbpf v1\\.1")
    message(WARNING "sstrace: bpftool is not built with libbpf v1.1: ${_bpftool_ver}")
endif()

function(sstrace_add_bpf_skeleton target)
    cmake_parse_arguments(ARG "LIGHT" "NAME" "SOURCES" ${ARGN})
    set(bpf_dir "${CMAKE_CURRENT_BINARY_DIR}/bpf")
    set(gen_dir "${CMAKE_CURRENT_BINARY_DIR}/gen")
    file(MAKE_DIRECTORY "${bpf_dir}" "${gen_dir}/sstrace")

    get_target_property(_libbpf_inc PkgConfig::LIBBPF INTERFACE_INCLUDE_DIRECTORIES)
    set(_isystem "")
    foreach(dir IN LISTS _libbpf_inc)
        if(dir)  # empty when libbpf's headers sit in the default /usr/include
            list(APPEND _isystem -isystem "${dir}")
        endif()
    endforeach()

    set(objs "")
    foreach(src IN LISTS ARG_SOURCES)
        get_filename_component(base "${src}" NAME_WE)
        set(obj "${bpf_dir}/${base}.tmp.bpf.o")
        add_custom_command(
            OUTPUT "${obj}"
            COMMAND ${SSTRACE_CLANG} -g -O2 -target bpf -mcpu=v3
                    -D__TARGET_ARCH_${SSTRACE_BPF_ARCH} -Wall -Werror
                    -I${SSTRACE_VMLINUX_DIR} -I${PROJECT_SOURCE_DIR}/include
                    -I${PROJECT_SOURCE_DIR}/bpf ${_isystem}
                    -MD -MF "${obj}.d" -c "${src}" -o "${obj}"
            DEPENDS "${src}"
            DEPFILE "${obj}.d"
            COMMENT "BPF ${base}.bpf.c"
            VERBATIM COMMAND_EXPAND_LISTS)
        list(APPEND objs "${obj}")
    endforeach()

    set(linked "${bpf_dir}/${ARG_NAME}.bpf.o")
    set(skel "${gen_dir}/sstrace/${ARG_NAME}.skel.h")
    set(light "")
    if(ARG_LIGHT)
        set(skel "${gen_dir}/sstrace/${ARG_NAME}.lskel.h")
        set(light "-L")
    endif()
    add_custom_command(
        OUTPUT "${linked}"
        COMMAND ${SSTRACE_BPFTOOL} gen object "${linked}" ${objs}
        DEPENDS ${objs}
        COMMENT "BPF link ${ARG_NAME}.bpf.o"
        VERBATIM COMMAND_EXPAND_LISTS)
    add_custom_command(
        OUTPUT "${skel}"
        COMMAND ${SSTRACE_BPFTOOL} gen skeleton ${light} "${linked}" name ${ARG_NAME} > "${skel}"
        DEPENDS "${linked}"
        COMMENT "BPF skeleton ${ARG_NAME}.skel.h")
    add_custom_target(${target}_gen DEPENDS "${skel}")

    add_library(${target} INTERFACE)
    target_include_directories(${target} SYSTEM INTERFACE "${gen_dir}")
    target_link_libraries(${target} INTERFACE PkgConfig::LIBBPF)
    add_dependencies(${target} ${target}_gen)
endfunction()
