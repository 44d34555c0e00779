// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/app.hpp"

int main(int argc, char** argv) { return sstrace::run_main(argc, argv); }
