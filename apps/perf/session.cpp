#include "perf/session.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace lanetcp::perf {

std::uint64_t bulk_budget(std::uint64_t bytes, std::uint64_t n, std::uint64_t i) noexcept {
    return bytes > 0 ? bytes / n + (i < bytes % n ? 1 : 0) : ~std::uint64_t{0};
}

bool claim_transaction(bool stopping, std::uint64_t limit, std::uint64_t& issued) noexcept {
    if (stopping) return false;
    if (limit != 0 && issued >= limit) return false;
    ++issued;
    return true;
}

bool fin_ok(Mode mode, const FinState& s, std::uint64_t& confirmed) noexcept {
    if (mode != Mode::bulk) return !s.in_transaction;
    if (s.trailer_got != kBulkTrailerSize) return false;
    const std::uint64_t count = load_be64(s.trailer);
    confirmed += count;
    return s.shut && count == s.sent;
}

ServerFeed feed_server(ServerProtocol& proto, const std::uint8_t* p, std::size_t len) noexcept {
    ServerFeed f;
    while (len > 0) {
        std::size_t used = 0;
        const auto event = proto.feed(p, len, used);
        p += used;
        len -= used;
        if (event == ServerProtocol::Event::bad_header) {
            f.bad = true;
            break;
        }
        if (event == ServerProtocol::Event::respond) {
            f.response_bytes += proto.header().response_size;
            ++f.requests;
            if (proto.header().mode == Mode::crr) f.close = true;
        }
    }
    return f;
}

Results client_results(const char* stack, const ClientOptions& o, std::uint32_t connections, double seconds,
                       const ClientCounts& counts, const Histogram& latency, bool complete) {
    const bool bulk = o.mode == Mode::bulk;
    return Results{.stack = stack, .mode = o.mode, .connections = connections,
                   .request_size = bulk ? 0 : o.request_size, .response_size = bulk ? 0 : o.response_size,
                   .seconds = seconds, .bytes = counts.confirmed, .bytes_sent = counts.sent,
                   .transactions = counts.completed, .connections_opened = counts.opened, .errors = counts.errors,
                   .mss = counts.mss, .congestion_control = {}, .latency = latency, .complete = complete};
}

std::optional<ClientOptions> client_options_or_complain(const char* name, const CommonFlags& flags) {
    try {
        return client_options(flags);
    } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "{}: error: {}\n", name, e.what());
        return std::nullopt;
    }
}

int write_json_or_complain(const char* name, const std::string& path, const nlohmann::json& doc) {
    if (path.empty()) return 0;
    if (!write_json(path, doc)) {
        fmt::print(stderr, "{}: error: cannot write {}: {}\n", name, path, std::strerror(errno));
        return 1;
    }
    return 0;
}

int report_server(const char* name, const char* stack, std::uint64_t connections, std::uint64_t bytes,
                  std::uint64_t requests, std::uint64_t bad, const std::string& json) {
    fmt::print("{}: server: accepted {} connection(s), received {} bytes, answered {} request(s), {} bad "
               "header(s)\n",
               name, connections, bytes, requests, bad);
    return write_json_or_complain(name, json,
                                  nlohmann::json{{"stack", stack},
                                                 {"role", "server"},
                                                 {"connections", connections},
                                                 {"bytes", bytes},
                                                 {"requests", requests},
                                                 {"bad_headers", bad}});
}

int report_client(const char* name, const Results& r, const std::string& json) {
    fmt::print("{}\n", format_summary(r));
    int rc = write_json_or_complain(name, json, to_json(r));
    if (!r.complete) {
        fmt::print(stderr, "{}: error: the run did not complete ({} error(s))\n", name, r.errors);
        rc = 1;
    }
    return rc;
}

} // namespace lanetcp::perf
