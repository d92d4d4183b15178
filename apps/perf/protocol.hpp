// The lanetcp-perf wire protocol, shared by lanetcp-perf (on the lanetcp
// stack) and lanetcp-perf-linux (POSIX sockets): one server serves every
// mode, told which by a 24-byte header the client sends first on each
// connection. See apps/perf/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace lanetcp::perf {

enum class Mode : std::uint8_t { bulk = 1, rr = 2, crr = 3 };

inline const char* to_string(Mode m) noexcept {
    switch (m) {
    case Mode::bulk: return "bulk";
    case Mode::rr: return "rr";
    case Mode::crr: return "crr";
    }
    return "?";
}

inline std::optional<Mode> parse_mode(std::string_view s) noexcept {
    if (s == "bulk") return Mode::bulk;
    if (s == "rr") return Mode::rr;
    if (s == "crr") return Mode::crr;
    return std::nullopt;
}

inline constexpr std::uint32_t kMagic = 0x4c545046; // "LTPF"
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 24;
inline constexpr std::size_t kBulkTrailerSize = 8; // bulk: the server's count of payload bytes received
inline constexpr std::uint32_t kMaxMessage = 1u << 30;

//  0  magic "LTPF"           4  version (1)   5  mode (1 bulk, 2 rr, 3 crr)
//  6  reserved (0, 2 bytes)  8  request size  12 response size
//  16 reserved (0, 8 bytes)
// All integers big-endian.
struct Header {
    Mode mode = Mode::bulk;
    std::uint32_t request_size = 0;
    std::uint32_t response_size = 0;
};

inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
    store_be32(p, static_cast<std::uint32_t>(v >> 32));
    store_be32(p + 4, static_cast<std::uint32_t>(v));
}
inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
    return static_cast<std::uint64_t>(load_be32(p)) << 32 | load_be32(p + 4);
}

inline void encode(const Header& h, std::uint8_t* out) noexcept {
    std::memset(out, 0, kHeaderSize);
    store_be32(out, kMagic);
    out[4] = kVersion;
    out[5] = static_cast<std::uint8_t>(h.mode);
    store_be32(out + 8, h.request_size);
    store_be32(out + 12, h.response_size);
}

inline std::optional<Header> decode(const std::uint8_t* in) noexcept {
    if (load_be32(in) != kMagic || in[4] != kVersion) return std::nullopt;
    Header h;
    if (in[5] < 1 || in[5] > 3) return std::nullopt;
    h.mode = static_cast<Mode>(in[5]);
    h.request_size = load_be32(in + 8);
    h.response_size = load_be32(in + 12);
    if (h.mode != Mode::bulk && (h.request_size == 0 || h.request_size > kMaxMessage || h.response_size == 0 ||
                                 h.response_size > kMaxMessage))
        return std::nullopt;
    return h;
}

// What a server connection does with the bytes it receives: the same for
// both implementations. Feed it bytes; it says how much to send back.
class ServerProtocol {
public:
    enum class Event { none, bad_header, respond };

    // Consumes `len` bytes at `data`; returns after the first event. `used`
    // tells how many bytes were taken (the rest is fed again).
    Event feed(const std::uint8_t* data, std::size_t len, std::size_t& used) noexcept {
        used = 0;
        if (!have_header_) {
            const std::size_t n = len < kHeaderSize - got_ ? len : kHeaderSize - got_;
            std::memcpy(header_bytes_ + got_, data, n);
            got_ += n;
            used = n;
            if (got_ < kHeaderSize) return Event::none;
            auto h = decode(header_bytes_);
            if (!h) return Event::bad_header;
            header_ = *h;
            have_header_ = true;
            got_ = 0;
        }
        const std::size_t rest = len - used;
        if (header_.mode == Mode::bulk) {
            payload_ += rest;
            used = len;
            return Event::none;
        }
        const std::size_t need = header_.request_size - got_;
        const std::size_t n = rest < need ? rest : need;
        got_ += n;
        used += n;
        payload_ += n;
        if (got_ < header_.request_size) return Event::none;
        got_ = 0;
        ++requests_;
        return Event::respond;
    }

    bool have_header() const noexcept { return have_header_; }
    const Header& header() const noexcept { return header_; }
    std::uint64_t payload_bytes() const noexcept { return payload_; }
    std::uint64_t requests() const noexcept { return requests_; }

private:
    std::uint8_t header_bytes_[kHeaderSize]{};
    std::size_t got_ = 0;
    bool have_header_ = false;
    Header header_{};
    std::uint64_t payload_ = 0;
    std::uint64_t requests_ = 0;
};

// The bytes every sender sends: a fixed pattern, never compressible.
inline constexpr std::size_t kPatternSize = 1 << 16;
const std::uint8_t* pattern() noexcept;

} // namespace lanetcp::perf
