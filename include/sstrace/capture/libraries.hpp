// SPDX-License-Identifier: GPL-2.0-only
// libzstd (compressed captures) and libisal (every record's CRC-32), opened when a capture is
// written or read rather than linked (core/shared_library.hpp: listings and streams without a
// capture never map them).
#pragma once

#include <zstd.h>

namespace sstrace::capture {

// The zstd functions the writer and the reader call.
struct Zstd {
    decltype(&ZSTD_createCCtx) createCCtx = nullptr;
    decltype(&ZSTD_freeCCtx) freeCCtx = nullptr;
    decltype(&ZSTD_CCtx_setParameter) CCtx_setParameter = nullptr;
    decltype(&ZSTD_CCtx_reset) CCtx_reset = nullptr;
    decltype(&ZSTD_CStreamOutSize) CStreamOutSize = nullptr;
    decltype(&ZSTD_compressBound) compressBound = nullptr;
    decltype(&ZSTD_compressStream2) compressStream2 = nullptr;
    decltype(&ZSTD_createDCtx) createDCtx = nullptr;
    decltype(&ZSTD_freeDCtx) freeDCtx = nullptr;
    decltype(&ZSTD_DCtx_setParameter) DCtx_setParameter = nullptr;
    decltype(&ZSTD_DStreamOutSize) DStreamOutSize = nullptr;
    decltype(&ZSTD_decompressStream) decompressStream = nullptr;
    decltype(&ZSTD_isError) isError = nullptr;
    decltype(&ZSTD_getErrorName) getErrorName = nullptr;
};

// libzstd.so.1, opened by the first call; throws Error (exit 1) when it does not load.
const Zstd& zstd();

// Opens both libraries a capture needs (libzstd only if `compressed`), so that a missing one
// stops a run before it attaches or writes anything; throws Error (exit 1).
void open_capture_libraries(bool compressed);

}  // namespace sstrace::capture
