// SPDX-License-Identifier: GPL-2.0-only
// A shared library that only some modes use, opened with dlopen() the first time one of them
// runs instead of being linked: a linked library is mapped and relocated by every run, a listing
// of ten sockets included (doc/dump.md, "Start-up"). The package still depends on each one
// (CMakeLists.txt), so a library that does not load is a broken installation, reported in one
// line with exit status 1 (kExitFailure):
//   sstrace: --top: libncurses.so.6 does not load: <dlerror> (install the package libncurses6)
#pragma once

namespace sstrace {

class SharedLibrary {
public:
    // Opens `soname` (RTLD_NOW | RTLD_LOCAL; never closed, the process's until it exits) or
    // throws Error: `needed_by` is the option that needs it, `package` the Debian package that
    // ships it.
    SharedLibrary(const char* soname, const char* needed_by, const char* package);

    // Sets `fn` to the library's function `name`; throws Error if it has none.
    template <class F>
    void bind(F*& fn, const char* name) const
    {
        fn = reinterpret_cast<F*>(find(name));
    }

    // The library's variable `name` (ncurses' stdscr, LINES, COLS); throws Error if it has none.
    template <class T>
    T& variable(const char* name) const
    {
        return *static_cast<T*>(find(name));
    }

private:
    void* find(const char* name) const;

    void* handle_ = nullptr;
    const char* soname_;
    const char* needed_by_;
    const char* package_;
};

}  // namespace sstrace
