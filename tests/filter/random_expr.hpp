// SPDX-License-Identifier: GPL-2.0-only
// Random filter expressions for the differential tests: atoms from a test's own list, joined
// by and/or (spelled every way ss takes), negated and parenthesised, to a given depth.
#pragma once

#include <iterator>
#include <random>
#include <span>
#include <string>

namespace zoo {

inline std::string random_expr(std::mt19937& rng, std::span<const char* const> atoms, int depth)
{
    std::uniform_int_distribution<int> d(0, 9);
    const int k = d(rng);
    if (depth <= 0 || k < 4) {
        std::uniform_int_distribution<std::size_t> pick(0, atoms.size() - 1);
        return atoms[pick(rng)];
    }
    if (k == 4) {
        return "! " + random_expr(rng, atoms, depth - 1);
    }
    if (k == 5) {
        return "( " + random_expr(rng, atoms, depth - 1) + " )";
    }
    static const char* const kJoin[] = {"and", "or", "&", "||", ""};
    std::uniform_int_distribution<std::size_t> j(0, std::size(kJoin) - 1);
    std::string out = random_expr(rng, atoms, depth - 1);
    std::uniform_int_distribution<int> len(1, 3);
    for (int i = len(rng); i > 0; --i) {
        const std::string joiner = kJoin[j(rng)];
        out += (joiner.empty() ? " " : " " + joiner + " ") + random_expr(rng, atoms, depth - 1);
    }
    return out;
}

}  // namespace zoo
