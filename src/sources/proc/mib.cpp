// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/mib.hpp"

#include "sstrace/core/parse.hpp"

#include <fstream>
#include <sstream>

namespace sstrace {

std::map<std::string, std::int64_t> read_mib_counters(const std::string& path)
{
    std::map<std::string, std::int64_t> out;
    std::ifstream in(path);
    std::string names;
    std::string values;
    while (std::getline(in, names) && std::getline(in, values)) {
        std::istringstream ns(names);
        std::istringstream vs(values);
        std::string prefix;
        std::string vprefix;
        ns >> prefix;
        vs >> vprefix;
        if (prefix != vprefix || prefix.empty() || prefix.back() != ':') {
            continue;
        }
        prefix.pop_back();
        std::string name;
        std::string value;
        while (ns >> name && vs >> value) {
            if (const auto v = parse_number<std::int64_t>(value)) {
                out[prefix + name] = *v;
            }
        }
    }
    return out;
}

}  // namespace sstrace
