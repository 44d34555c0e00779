// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target for the capture reader: the preamble and JSON header, the zstd frames and
// the record framing, and the payload parsers. The input is a whole capture file. Invariants:
// no crash, hang, leak or undefined behaviour; errors only as sstrace::Error; a file that reads
// without damage and without an end record is impossible (the reader must say where it ends);
// every record returned has a payload inside the limits.
#include "sstrace/capture/format.hpp"
#include "sstrace/capture/reader.hpp"
#include "sstrace/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sstrace::capture;
    try {
        Reader r(std::as_bytes(std::span(data, size)), "fuzz");
        Record rec;
        std::size_t records = 0;
        while (r.next(rec)) {
            if (rec.payload.size() + kRecordHeaderBytes > kMaxRecordBytes) {
                std::abort();
            }
            switch (rec.type) {
            case RecordType::Clock: (void)parse_clock(rec.payload); break;
            case RecordType::Loss: (void)parse_loss(rec.payload); break;
            case RecordType::End: (void)parse_end(rec.payload); break;
            case RecordType::Table:
                if (const auto t = parse_table(rec.payload);
                    t && (t->event.data() < rec.payload.data() ||
                          t->event.data() + t->event.size() >
                              rec.payload.data() + rec.payload.size())) {
                    std::abort();  // the row must lie inside the payload
                }
                break;
            default: break;
            }
            ++records;
        }
        if (!r.damage() && !r.end()) {
            std::abort();  // a clean end needs the end record
        }
        (void)records;
    } catch (const sstrace::Error&) {
        // not a capture, a newer version, a damaged header: one error line in sstrace
    }
    return 0;
}
