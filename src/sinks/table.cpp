// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/table.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace sstrace {

namespace {

struct ColumnSpec {
    std::string_view header;
    bool align_right;
    std::string_view ldelim;
};

constexpr std::array<ColumnSpec, kColCount> kColumns{{
    {"Netid", false, ""},
    {"State", false, " "},
    {"Recv-Q", false, " "},
    {"Send-Q", false, " "},
    {"Local Address:", true, " "},
    {"Port", false, ""},
    {"Peer Address:", true, " "},
    {"Port", false, ""},
    {"Process", false, ""},
    {"", false, ""},
}};

}  // namespace

ColumnWidths compute_widths(const std::array<std::size_t, kColCount>& max_len,
                            const std::array<bool, kColCount>& disabled, int screen_width)
{
    ColumnWidths w;
    const bool compact = screen_width < 0;
    const int screen = compact ? INT_MAX : screen_width;
    bool first = true;
    for (int c = 0; c < kColCount; ++c) {
        if (disabled[static_cast<std::size_t>(c)]) {
            continue;
        }
        const auto ml = static_cast<int>(max_len[static_cast<std::size_t>(c)]);
        int width = ml;
        if (!first && ml != 0) {
            width = ml + static_cast<int>(kColumns[static_cast<std::size_t>(c)].ldelim.size());
        }
        width = std::min(width, screen);
        w.width[static_cast<std::size_t>(c)] = width;
        if (width != 0) {
            first = false;
        }
    }
    if (compact) {
        return w;
    }
    // Spread the free space of each screen line over the columns of that line; the remainder
    // goes one character per column from the rightmost column of the line leftwards.
    auto spread = [&](int from, int to, int pad, int cols) {
        if (cols <= 0 || pad <= 0) {
            return;
        }
        const int spacing = pad / cols;
        int rem = pad % cols;
        for (int t = to; t >= from; --t) {
            if (disabled[static_cast<std::size_t>(t)] || w.width[static_cast<std::size_t>(t)] == 0) {
                continue;
            }
            w.width[static_cast<std::size_t>(t)] += spacing;
            if (rem > 0) {
                ++w.width[static_cast<std::size_t>(t)];
                --rem;
            }
        }
    };
    int len = 0;
    int linecols = 0;
    int line_start = 0;
    for (int c = 0; c < kColCount; ++c) {
        if (disabled[static_cast<std::size_t>(c)]) {
            continue;
        }
        const int cw = w.width[static_cast<std::size_t>(c)];
        if (cw == 0) {
            continue;  // empty columns take no share of the spare space
        }
        if (len + cw > screen) {
            spread(line_start, c - 1, screen - len, linecols);
            line_start = c;
            len = 0;
            linecols = 0;
        }
        len += cw;
        ++linecols;
    }
    spread(line_start, kColCount - 1, screen - len, linecols);
    return w;
}

int stdout_screen_width()
{
    if (::isatty(STDOUT_FILENO) == 0) {
        return -1;
    }
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) {
        return -1;
    }
    return ws.ws_col;
}

Table::Table(std::FILE* out, int screen_width, std::size_t chunk_bytes)
    : out_(out), screen_width_(screen_width), chunk_bytes_(chunk_bytes)
{
    // Reserved, not touched: no doubling copies (and no RSS peak) while a block fills up.
    data_.reserve(chunk_bytes_ * kMaxChunks);
    lengths_.reserve(chunk_bytes_ * kMaxChunks / 8);
}

// ss stores each token as a 2-byte length plus the text, padded to an even size, in 1 MiB
// chunks (16 bytes of which are the chunk header); it renders once 5 chunks are in use when the
// next row starts. The text is printed with vsnprintf limited to the chunk's tail room, so it
// fits only with one byte to spare (for the NUL); otherwise the token moves to a new chunk. An
// even-length token that would end exactly at the chunk's end therefore starts the next chunk,
// and can move the end of a block by one row. The header-less tail column stores an empty token
// in every row.
void Table::account(std::size_t len)
{
    const std::size_t room = kLengthBytes + (len == 0 ? 0 : len + 1);
    if (chunk_used_ + room > chunk_bytes_) {
        ++chunks_;
        chunk_used_ = 0;
    }
    chunk_used_ += kLengthBytes + len + (len & 1);
}

void Table::store_length(std::size_t len)
{
    account(len);
    if (len < kLongToken) {
        lengths_.push_back(static_cast<std::uint16_t>(len));
    } else {
        lengths_.push_back(kLongToken);
        long_lengths_.push_back(len);
    }
}

void Table::push(Column c, std::string_view text)
{
    if (disabled_[c]) {
        return;
    }
    data_.append(text);
    store_length(text.size());
    max_len_[c] = std::max(max_len_[c], text.size());
}

// ss measures a field when the next one starts. The last field of a row (the Ext text unless
// the Process tail column is enabled by -p) is therefore measured only when the following row
// begins, and that of the very last row never is.
void Table::begin_row()
{
    if (pending_col_ >= 0) {
        auto& ml = max_len_[static_cast<std::size_t>(pending_col_)];
        ml = std::max(ml, pending_len_);
        pending_col_ = -1;
    }
    if (chunks_ >= kMaxChunks) {
        flush();
    }
}

void Table::add_header()
{
    begin_row();
    for (int c = 0; c < kColCount; ++c) {
        push(static_cast<Column>(c), kColumns[static_cast<std::size_t>(c)].header);
    }
    if (disabled_[kColTail]) {
        account(0);
    }
}

template <typename Fields>
void Table::add_fields(const Fields& fields)
{
    begin_row();
    int last = kColCount - 1;
    while (last > 0 && disabled_[static_cast<std::size_t>(last)]) {
        --last;
    }
    for (int c = 0; c < kColCount; ++c) {
        if (c == last) {
            const std::string_view text = fields[static_cast<std::size_t>(c)];
            data_.append(text);
            store_length(text.size());
            pending_col_ = c;
            pending_len_ = text.size();
            continue;
        }
        push(static_cast<Column>(c), fields[static_cast<std::size_t>(c)]);
    }
    if (disabled_[kColTail]) {
        account(0);
    }
}

void Table::add_row(const std::array<std::string, kColCount>& fields) { add_fields(fields); }

void Table::add_row(const std::array<std::string_view, kColCount>& fields) { add_fields(fields); }

void Table::flush()
{
    if (lengths_.empty()) {
        return;
    }
    const ColumnWidths w = compute_widths(max_len_, disabled_, screen_width_);
    std::vector<int> enabled;
    for (int c = 0; c < kColCount; ++c) {
        if (!disabled_[static_cast<std::size_t>(c)]) {
            enabled.push_back(c);
        }
    }
    out_buf_.clear();
    std::size_t pos = 0;
    std::size_t col_i = 0;
    auto pad = [&](int n) {
        if (n > 0) {
            out_buf_.append(static_cast<std::size_t>(n), ' ');
        }
    };
    std::size_t long_i = 0;
    for (const std::uint16_t short_len : lengths_) {
        const std::size_t len = short_len == kLongToken ? long_lengths_[long_i++] : short_len;
        const int c = enabled[col_i];
        const ColumnSpec& spec = kColumns[static_cast<std::size_t>(c)];
        const int width = w.width[static_cast<std::size_t>(c)];
        int printed = 0;
        if (col_i != 0) {
            out_buf_.append(spec.ldelim);
            printed = static_cast<int>(spec.ldelim.size());
        }
        if (spec.align_right) {
            const int left = width - static_cast<int>(len) - printed;
            pad(left);
            printed += std::max(left, 0);
        }
        out_buf_.append(data_, pos, len);
        printed += static_cast<int>(len);
        if (!spec.align_right) {
            pad(width - printed);
        }
        pos += len;
        if (++col_i == enabled.size()) {
            col_i = 0;
            out_buf_.push_back('\n');
        }
        if (out_buf_.size() >= (1u << 16)) {
            std::fwrite(out_buf_.data(), 1, out_buf_.size(), out_);
            out_buf_.clear();
        }
    }
    std::fwrite(out_buf_.data(), 1, out_buf_.size(), out_);
    out_buf_.clear();
    data_.clear();
    lengths_.clear();
    long_lengths_.clear();
    chunks_ = 1;
    chunk_used_ = 0;
    // Column widths only grow: ss keeps the measured lengths across blocks.
    pending_col_ = -1;
}

}  // namespace sstrace
