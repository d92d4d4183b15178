#include "stack/trace_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "stack/lcore.hpp"
#include "tcp/cc_trace.hpp"

namespace lanetcp {

TraceFileSummary write_trace_file(const std::string& path, const std::vector<Lcore*>& lcores) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error(fmt::format("--trace {}: {}", path, std::strerror(errno)));
    TraceFileSummary s;
    bool header = true;
    for (Lcore* lc : lcores) {
        tcp::CcTrace& t = lc->tcp().cc_trace();
        s.dropped += t.dropped();
        s.rows += tcp::write_trace_csv(f, t, lc->lcore_id(), header);
        header = false;
    }
    if (header) fmt::print(f, "{}\n", tcp::kTraceCsvHeader);
    const bool failed = std::ferror(f) != 0;
    if (std::fclose(f) != 0 || failed) throw std::runtime_error(fmt::format("--trace {}: write failed", path));
    return s;
}

std::string describe_trace_file(const std::string& path, const TraceFileSummary& s) {
    std::string text = fmt::format("lanetcp: trace: {} row(s) to {}", s.rows, path);
    if (s.dropped != 0)
        text += fmt::format(" ({} older row(s) overwritten: the ring was full; raise tcp.trace_rows)", s.dropped);
    return text;
}

} // namespace lanetcp
