#pragma once
// Reading what `veil init` prints: the Veil ID and the recovery phrase. Free of Catch, so
// benchmarks use it too (tests use person.hpp). No <regex>: GCC 12 warns inside it under the
// sanitizers.
#include <algorithm>
#include <sstream>
#include <string>

namespace veil::test {

/// The first Veil ID ("05" and 64 lower-case hex digits, standing alone) in `text`, or "".
inline std::string veil_id_in(const std::string& text) {
    auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    for (std::size_t at = text.find("05"); at != std::string::npos; at = text.find("05", at + 1)) {
        if (at + 66 > text.size()) break;
        auto first = text.begin() + static_cast<std::ptrdiff_t>(at);
        if ((at == 0 || !hex(text[at - 1])) && std::all_of(first, first + 66, hex) &&
            (at + 66 == text.size() || !hex(text[at + 66])))
            return text.substr(at, 66);
    }
    return {};
}

/// The recovery phrase (the line of 24 words) in `veil init`'s output, or "".
inline std::string recovery_phrase_in(const std::string& text) {
    std::istringstream lines(text);
    std::string line, phrase;
    while (std::getline(lines, line)) {
        if (std::count(line.begin(), line.end(), ' ') >= 23) phrase = line.substr(line.find_first_not_of(' '));
    }
    return phrase;
}

}  // namespace veil::test
