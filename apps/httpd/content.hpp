// What lanetcp-httpd serves, built once before the stack starts and read
// only afterwards (shared by every lcore): either one fixed body for every
// path, or the regular files under a directory, loaded into memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lanetcp::httpd {

struct Resource {
    std::string_view body;
    std::string_view content_type;
};

class Content {
public:
    // Every path answers `size` bytes of 'a'..'z' repeated, as text/plain.
    static Content fixed(std::size_t size);
    // Every regular file under `root` (symbolic links and special files are
    // left out), at "/relative/path". Throws std::runtime_error with one line
    // when the directory cannot be read or holds more than `max_bytes`.
    static Content directory(const std::string& root, std::uint64_t max_bytes);

    // The resource at a decoded, normalized path (decode_target); a path
    // ending in '/' means its index.html. False when there is none.
    bool find(std::string_view path, Resource& out) const noexcept;

    bool is_fixed() const noexcept { return fixed_; }
    std::size_t files() const noexcept { return files_.size(); }
    std::uint64_t total_bytes() const noexcept { return total_bytes_; }

private:
    static constexpr std::size_t kMaxPathForIndex = 1024;
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    struct File {
        std::string data;
        std::string_view content_type; // static storage (content_type_for)
    };

    bool fixed_ = false;
    std::string fixed_body_;
    std::unordered_map<std::string, File, Hash, std::equal_to<>> files_;
    std::uint64_t total_bytes_ = 0;
};

} // namespace lanetcp::httpd
