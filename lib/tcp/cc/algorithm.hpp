// Which congestion-control module a connection runs: the closed set, its
// names in the configuration, and the conversions between the two. One list
// (LANETCP_CC_ALGORITHMS) drives the enum, the names, the parser and the
// dispatch in congestion.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

// X(enumerator, module class, configuration name)
#define LANETCP_CC_ALGORITHMS(X)   \
    X(newreno, NewReno, "newreno") \
    X(cubic, Cubic, "cubic")       \
    X(dctcp, Dctcp, "dctcp")

namespace lanetcp::tcp::cc {

enum class Algorithm : std::uint8_t {
#define LANETCP_CC_ENUM(e, cls, name) e,
    LANETCP_CC_ALGORITHMS(LANETCP_CC_ENUM)
#undef LANETCP_CC_ENUM
};

inline constexpr std::size_t kAlgorithmCount = 0
#define LANETCP_CC_COUNT(e, cls, name) +1
    LANETCP_CC_ALGORITHMS(LANETCP_CC_COUNT)
#undef LANETCP_CC_COUNT
    ;

// The configuration name ("cubic"); "?" for a value outside the set.
constexpr std::string_view name(Algorithm a) noexcept {
    switch (a) {
#define LANETCP_CC_NAME(e, cls, text) \
    case Algorithm::e: return text;
        LANETCP_CC_ALGORITHMS(LANETCP_CC_NAME)
#undef LANETCP_CC_NAME
    }
    return "?";
}

// The algorithm a configuration name stands for, exactly as name() spells it.
constexpr std::optional<Algorithm> parse_algorithm(std::string_view text) noexcept {
#define LANETCP_CC_PARSE(e, cls, name) \
    if (text == name) return Algorithm::e;
    LANETCP_CC_ALGORITHMS(LANETCP_CC_PARSE)
#undef LANETCP_CC_PARSE
    return std::nullopt;
}

constexpr bool valid(Algorithm a) noexcept { return static_cast<std::size_t>(a) < kAlgorithmCount; }

} // namespace lanetcp::tcp::cc
