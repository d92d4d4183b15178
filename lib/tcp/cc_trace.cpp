// The congestion trace's ring, its CSV, and what a connection puts in a row.
#include "tcp/cc_trace.hpp"

#include <fmt/format.h>

#include "tcp/connection.hpp"
#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

const char* to_string(TraceEvent e) noexcept {
    switch (e) {
#define LANETCP_TRACE_EVENT_NAME(name) \
    case TraceEvent::name: return #name;
        LANETCP_TRACE_EVENTS(LANETCP_TRACE_EVENT_NAME)
#undef LANETCP_TRACE_EVENT_NAME
    }
    return "?";
}

CcTrace::CcTrace(std::uint32_t rows) : rows_(rows) {}

const char* const kTraceCsvHeader =
    "time_ns,lcore,conn,event,state,phase,cwnd,ssthresh,in_flight,srtt_us,rttvar_us,delivered,lost,retrans,snd_wnd,"
    "rcv_wnd,timeouts";

namespace {
const char* phase_name(std::uint8_t p) noexcept {
    switch (p) {
    case 0: return "open";
    case 1: return "recovery";
    case 2: return "loss";
    }
    return "?";
}
} // namespace

void write_trace_csv_row(std::FILE* f, const TraceRow& r, unsigned lcore) {
    fmt::print(f, "{},{},{}:{}-{}:{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.time, lcore,
               r.tuple.local_ip.to_string(), r.tuple.local_port, r.tuple.remote_ip.to_string(), r.tuple.remote_port,
               to_string(r.event), to_string(static_cast<State>(r.state)), phase_name(r.phase), r.cwnd, r.ssthresh,
               r.in_flight, r.srtt_us, r.rttvar_us, r.delivered, r.lost, r.retrans, r.snd_wnd, r.rcv_wnd,
               unsigned{r.timeouts});
}

std::uint64_t write_trace_csv(std::FILE* f, CcTrace& t, unsigned lcore, bool header) {
    if (header) fmt::print(f, "{}\n", kTraceCsvHeader);
    std::uint64_t n = 0;
    t.drain([&](const TraceRow& r) {
        write_trace_csv_row(f, r, lcore);
        ++n;
    });
    return n;
}

void Connection::record_trace(CcTrace& t, TimeNs now, TraceEvent e) const noexcept {
    TraceRow& r = t.next();
    r.time = now;
    r.tuple = tuple_;
    r.cwnd = cc_.cwnd();
    r.ssthresh = cc_.ssthresh();
    r.in_flight = in_network();
    r.srtt_us = static_cast<std::uint32_t>(rtt_.srtt() / 1000);
    r.rttvar_us = static_cast<std::uint32_t>(rtt_.rttvar() / 1000);
    r.delivered = static_cast<std::uint32_t>(wire::seq_diff(snd_.una, snd_.iss)) + scoreboard_.sacked_bytes();
    r.lost = rec_.lost;
    r.retrans = total_retrans_;
    r.snd_wnd = snd_.wnd;
    r.rcv_wnd = rcv_wnd();
    r.timeouts = static_cast<std::uint8_t>(std::min<std::uint32_t>(retransmits_, 0xff));
    r.event = e;
    r.phase = static_cast<std::uint8_t>(rec_.phase);
    r.state = static_cast<std::uint8_t>(state_);
}

} // namespace lanetcp::tcp
