// One line per connection for people chasing a stall: the fields `ss -tin`
// shows on Linux, in its spirit. Off the data path (SIGUSR1, tests).
#include <fmt/format.h>

#include "tcp/connection.hpp"

namespace lanetcp::tcp {

namespace {
std::string timer_text(const char* name, bool armed, TimeNs deadline, TimeNs now) {
    if (!armed) return {};
    const double ms = deadline > now ? static_cast<double>(deadline - now) / kNsPerMs : 0.0;
    return fmt::format(" {}:{:.0f}ms", name, ms);
}
} // namespace

std::string Connection::describe(TimeNs now) const {
    const auto rel = [](SeqNum s, SeqNum base) { return static_cast<std::uint32_t>(wire::seq_diff(s, base)); };
    const SeqNum isn = snd_.iss;
    std::string s = fmt::format(
        "{}:{} {}:{} {} snd_una={} snd_nxt={} snd_max={} unsent={} snd_wnd={} cwnd={} ssthresh={} mss={} "
        "rcv_nxt={} rcv_wnd={} unconsumed={} held={} sacked={} rto={:.0f}ms backoff={} retrans={} phase={}{}{}",
        tuple_.local_ip.to_string(), tuple_.local_port, tuple_.remote_ip.to_string(), tuple_.remote_port,
        to_string(state_), rel(snd_.una, isn), rel(snd_.nxt, isn), rel(snd_.max, isn), unsent_bytes(), snd_.wnd,
        cwnd(), ssthresh(), snd_.mss, rel(rcv_.nxt, rcv_.irs), rcv_wnd(), rcv_.unconsumed, reassembly_.segments(),
        scoreboard_.sacked_bytes(), static_cast<double>(rto()) / kNsPerMs, backoff_, retransmits_,
        rec_.phase == Phase::open ? "open" : rec_.phase == Phase::recovery ? "recovery" : "loss",
        sack_ok_ ? " sack" : "", snd_.fin_sent ? " fin_sent" : "");
    s += fmt::format(" cc={}", cc::name(cc_.algorithm())); // as `ss -tin` names it
    // ECN (ecn.hpp): agreed; echoing a CE; a CWR waiting for new data.
    if (ecn_.ok) s += fmt::format(" ecn{}{}", ecn_.demand_cwr ? " ece" : "", ecn_.queue_cwr ? " cwr_queued" : "");
    s += timer_text("rtx", rtx_timer_.armed(), rtx_timer_.deadline(), now);
    s += timer_text("delack", delack_timer_.armed(), delack_timer_.deadline(), now);
    s += timer_text("persist", persist_timer_.armed(), persist_timer_.deadline(), now);
    s += timer_text("keepalive", keepalive_timer_.armed(), keepalive_timer_.deadline(), now);
    s += timer_text("timewait", time_wait_timer_.armed(), time_wait_timer_.deadline(), now);
    return s;
}

} // namespace lanetcp::tcp
