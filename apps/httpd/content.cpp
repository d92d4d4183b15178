#include "httpd/content.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "httpd/http_response.hpp"

namespace lanetcp::httpd {

namespace fs = std::filesystem;

Content Content::fixed(std::size_t size) {
    Content c;
    c.fixed_ = true;
    c.fixed_body_.resize(size);
    for (std::size_t i = 0; i < size; ++i) c.fixed_body_[i] = static_cast<char>('a' + i % 26);
    c.total_bytes_ = size;
    return c;
}

Content Content::directory(const std::string& root, std::uint64_t max_bytes) {
    Content c;
    std::error_code ec;
    if (!fs::is_directory(root, ec))
        throw std::runtime_error(fmt::format("--root {}: {}", root, ec ? ec.message() : "not a directory"));
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    if (ec) throw std::runtime_error(fmt::format("--root {}: {}", root, ec.message()));
    for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
        if (ec) throw std::runtime_error(fmt::format("--root {}: {}", root, ec.message()));
        const fs::directory_entry& e = *it;
        // Only regular files: no symbolic links (which could point outside
        // the root), devices or FIFOs.
        if (!e.is_regular_file(ec) || e.is_symlink(ec)) continue;
        const fs::path rel = e.path().lexically_relative(root);
        std::string key = "/" + rel.generic_string();
        std::ifstream f(e.path(), std::ios::binary);
        if (!f) throw std::runtime_error(fmt::format("{}: {}", e.path().string(), std::strerror(errno)));
        File file;
        file.data.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        if (f.bad()) throw std::runtime_error(fmt::format("{}: read error", e.path().string()));
        c.total_bytes_ += file.data.size();
        if (c.total_bytes_ > max_bytes)
            throw std::runtime_error(
                fmt::format("--root {}: more than {} MB of files (everything is loaded into memory)", root,
                            max_bytes >> 20));
        file.content_type = content_type_for(key);
        c.files_.emplace(std::move(key), std::move(file));
    }
    return c;
}

bool Content::find(std::string_view path, Resource& out) const noexcept {
    if (fixed_) {
        out = Resource{fixed_body_, "text/plain; charset=utf-8"};
        return true;
    }
    auto it = files_.end();
    if (!path.empty() && path.back() == '/') {
        // "<dir>/index.html" without building a string: the key is looked up
        // in a small stack buffer.
        constexpr std::string_view kIndex = "index.html";
        char key[kMaxPathForIndex];
        if (path.size() + kIndex.size() > sizeof key) return false;
        std::memcpy(key, path.data(), path.size());
        std::memcpy(key + path.size(), kIndex.data(), kIndex.size());
        it = files_.find(std::string_view(key, path.size() + kIndex.size()));
    } else {
        it = files_.find(path);
    }
    if (it == files_.end()) return false;
    out = Resource{it->second.data, it->second.content_type};
    return true;
}

} // namespace lanetcp::httpd
