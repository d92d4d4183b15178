#include "client/client_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "api/tcp_api.hpp"
#include "stack/stack.hpp"

namespace lanetcp::apps {

namespace {

constexpr std::size_t kPatternBytes = 1 << 16;
constexpr std::size_t kSendStep = 1 << 16;

std::string hex_digest(crypto_hash_sha256_state& st) {
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, out);
    std::string s;
    for (unsigned char b : out) s += fmt::format("{:02x}", b);
    return s;
}

const char* error_name(int e) {
    switch (e) {
    case ECONNREFUSED: return "connection refused";
    case ECONNRESET: return "connection reset by peer";
    case ETIMEDOUT: return "connection timed out";
    default: return "error";
    }
}

} // namespace

const tcp::ConnectionHandler ClientSession::kHandler{
    .on_established = &ClientSession::on_established,
    .on_data = &ClientSession::on_data,
    .on_peer_fin = &ClientSession::on_peer_fin,
    .on_writable = &ClientSession::on_writable,
    .on_closed = &ClientSession::on_closed,
};

ClientSession::ClientSession(Lcore& lcore, const ClientOptions& options) : lcore_(lcore), options_(options) {
    if (!options_.file.empty()) options_.bytes = options_.file.size();
    if (options_.mode == ClientMode::receive) options_.bytes = 0;
    // A fixed pseudo-random pattern: compressible by nothing, same every run.
    pattern_.resize(kPatternBytes);
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (auto& b : pattern_) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    crypto_hash_sha256_init(&sent_hash_);
    crypto_hash_sha256_init(&received_hash_);
    started_ = lcore_.clock().now();
    int error = 0;
    conn_ = lcore_.tcp().connect(options_.remote, options_.port, &kHandler, this, started_, &error);
    if (conn_ == nullptr) throw std::runtime_error(fmt::format("cannot connect: error {}", -error));
}

ClientSession::~ClientSession() {
    if (conn_ != nullptr) conn_->abort();
}

const std::uint8_t* ClientSession::source(std::uint64_t offset, std::size_t& len) const noexcept {
    if (!options_.file.empty()) {
        len = std::min<std::size_t>(len, options_.file.size() - offset);
        return options_.file.data() + offset;
    }
    const std::size_t at = offset % kPatternBytes;
    len = std::min(len, kPatternBytes - at);
    return pattern_.data() + at;
}

void ClientSession::fill(tcp::Connection& c) {
    while (sent_ < options_.bytes) {
        std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(kSendStep, options_.bytes - sent_));
        const std::uint8_t* p = source(sent_, len);
        long n = api::send_bytes(c, lcore_.pool(), p, len);
        if (n <= 0) return; // full: on_writable calls again
        crypto_hash_sha256_update(&sent_hash_, p, static_cast<unsigned long long>(n));
        sent_ += static_cast<std::uint64_t>(n);
    }
    c.shutdown(); // everything is queued: FIN after it
}

void ClientSession::on_established(tcp::Connection& c, void* self) {
    auto& s = *static_cast<ClientSession*>(self);
    s.established_at_ = s.lcore_.clock().now();
    s.fill(c);
}

void ClientSession::on_writable(tcp::Connection& c, void* self) {
    auto& s = *static_cast<ClientSession*>(self);
    if (s.sent_ < s.options_.bytes) s.fill(c);
}

void ClientSession::on_data(tcp::Connection& c, tcp::Chunk data, void* self) {
    auto& s = *static_cast<ClientSession*>(self);
    crypto_hash_sha256_update(&s.received_hash_, data.data, data.length);
    s.received_ += data.length;
    c.consumed(data.length);
    data.release();
}

void ClientSession::on_peer_fin(tcp::Connection& c, void* self) {
    auto& s = *static_cast<ClientSession*>(self);
    s.sent_digest_ = hex_digest(s.sent_hash_);
    s.received_digest_ = hex_digest(s.received_hash_);
    bool ok = true;
    std::string why = "done";
    if (s.sent_ < s.options_.bytes) {
        ok = false;
        why = fmt::format("peer closed after {} of {} bytes were sent", s.sent_, s.options_.bytes);
    } else if (s.options_.mode == ClientMode::echo &&
               (s.received_ != s.sent_ || s.received_digest_ != s.sent_digest_)) {
        ok = false;
        why = "echoed bytes differ from those sent";
    }
    c.close();
    s.conn_ = nullptr;
    s.finish(ok, why);
}

void ClientSession::on_closed(tcp::Connection&, int error, void* self) {
    auto& s = *static_cast<ClientSession*>(self);
    s.conn_ = nullptr;
    s.sent_digest_ = hex_digest(s.sent_hash_);
    s.received_digest_ = hex_digest(s.received_hash_);
    if (error == 0) return s.finish(true, "done");
    s.finish(false, error_name(error));
}

void ClientSession::finish(bool ok, std::string why) {
    finished_ = lcore_.clock().now();
    done_ = true;
    succeeded_ = ok;
    outcome_ = std::move(why);
    stop_requested().store(true, std::memory_order_relaxed);
}

std::string ClientSession::summary() const {
    const double secs = static_cast<double>((finished_ ? finished_ : lcore_.clock().now()) - started_) / kNsPerSec;
    const double mbits = secs > 0 ? static_cast<double>(sent_ + received_) * 8 / secs / 1e6 : 0;
    return fmt::format("{}: sent {} bytes (sha256 {}), received {} bytes (sha256 {}), {:.3f} s, {:.1f} Mbit/s",
                       outcome_.empty() ? "unfinished" : outcome_, sent_, sent_digest_.empty() ? "-" : sent_digest_,
                       received_, received_digest_.empty() ? "-" : received_digest_, secs, mbits);
}

} // namespace lanetcp::apps
