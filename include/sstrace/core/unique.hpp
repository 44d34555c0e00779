// SPDX-License-Identifier: GPL-2.0-only
// One owner type for the handles sstrace opens: file descriptors, FILE streams, directories
// (and, through their own traits, library handles such as a libmnl socket).
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

namespace sstrace {

// Owns one handle and releases it once. `Traits` names the handle type, its empty value and
// how to release it.
template <typename Traits>
class Unique {
public:
    using Handle = typename Traits::Handle;

    Unique() = default;
    explicit Unique(Handle h) : h_(h) {}
    ~Unique() { reset(); }
    Unique(const Unique&) = delete;
    Unique& operator=(const Unique&) = delete;
    Unique(Unique&& o) noexcept : h_(o.release()) {}
    Unique& operator=(Unique&& o) noexcept
    {
        reset(o.release());
        return *this;
    }

    Handle get() const { return h_; }
    explicit operator bool() const { return h_ != Traits::kEmpty; }

    Handle release() { return std::exchange(h_, Traits::kEmpty); }
    void reset(Handle h = Traits::kEmpty)
    {
        if (h_ != Traits::kEmpty) {
            Traits::close(h_);
        }
        h_ = h;
    }

private:
    Handle h_ = Traits::kEmpty;
};

struct FdTraits {
    using Handle = int;
    static constexpr int kEmpty = -1;
    static void close(int fd) { ::close(fd); }
};

struct FileTraits {
    using Handle = std::FILE*;
    static constexpr std::FILE* kEmpty = nullptr;
    static void close(std::FILE* f) { std::fclose(f); }
};

struct DirTraits {
    using Handle = DIR*;
    static constexpr DIR* kEmpty = nullptr;
    static void close(DIR* d) { ::closedir(d); }
};

using UniqueFd = Unique<FdTraits>;
using UniqueFile = Unique<FileTraits>;
using UniqueDir = Unique<DirTraits>;

}  // namespace sstrace
