// SPDX-License-Identifier: GPL-2.0-only
// ss's buffered table: every field is buffered, column widths are measured over a block of
// rows (header included), then the block is rendered (compact when stdout is not a tty, spread
// over the screen width on a tty), as iproute2 6.1 does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sstrace {

// The ten columns of ss 6.1. Index 8 carries the header `Process` but receives everything after
// the peer port (users, timers, -e, -i ...); index 9 is header-less, always empty, and enabled
// never enabled in 6.1 (it disables "its" Process column, which is this one).
enum Column : int {
    kColNetid = 0,
    kColState,
    kColRecvQ,
    kColSendQ,
    kColLocalAddr,
    kColLocalPort,
    kColPeerAddr,
    kColPeerPort,
    kColExt,
    kColTail,
    kColCount,
};

struct ColumnWidths {
    std::array<int, kColCount> width{};
};

// Column widths as ss computes them. `max_len` is the longest token per column (0 for
// disabled ones), `screen_width` < 0 means compact (not a tty).
ColumnWidths compute_widths(const std::array<std::size_t, kColCount>& max_len,
                            const std::array<bool, kColCount>& disabled, int screen_width);

// The width of stdout when it is a terminal, -1 otherwise (6.1 ignores $COLUMNS).
int stdout_screen_width();

class Table {
public:
    // `chunk_bytes`: the usable size of one of ss's buffer chunks; a block is rendered once
    // kMaxChunks of them are in use (ss: 1 MiB chunks less a 16-byte header, 5 chunks).
    static constexpr std::size_t kMaxChunks = 5;
    Table(std::FILE* out, int screen_width, std::size_t chunk_bytes = (1u << 20) - 16);

    void set_disabled(Column c, bool disabled) { disabled_[c] = disabled; }
    bool disabled(Column c) const { return disabled_[c]; }

    // Buffers the header row.
    void add_header();

    // One row: the text of every column (disabled columns are ignored).
    void add_row(const std::array<std::string, kColCount>& fields);
    void add_row(const std::array<std::string_view, kColCount>& fields);

    // Renders what is buffered.
    void flush();

private:
    void push(Column c, std::string_view text);
    void store_length(std::size_t len);
    void account(std::size_t len);
    void begin_row();
    template <typename Fields>
    void add_fields(const Fields& fields);

    std::FILE* out_;
    int screen_width_;
    std::size_t chunk_bytes_;
    static constexpr std::size_t kLengthBytes = 2;  // ss's token length field
    std::size_t chunks_ = 1;
    std::size_t chunk_used_ = 0;
    std::array<bool, kColCount> disabled_{};
    std::array<std::size_t, kColCount> max_len_{};
    std::string data_;
    // One length per token (enabled columns of each row, in order); kLongToken marks a token
    // whose length is in long_lengths_.
    static constexpr std::uint16_t kLongToken = 0xFFFF;
    std::vector<std::uint16_t> lengths_;
    std::vector<std::size_t> long_lengths_;
    int pending_col_ = -1;
    std::size_t pending_len_ = 0;
    std::string out_buf_;
};

}  // namespace sstrace
