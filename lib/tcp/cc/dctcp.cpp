#include "tcp/cc/dctcp.hpp"

namespace lanetcp::tcp::cc {

void Dctcp::init(Window& w, TimeNs now) noexcept {
    reno_.init(w, now);
    alpha_ = kAlphaOne;
    bytes_acked_ = 0;
    bytes_marked_ = 0;
    window_open_ = false;
}

void Dctcp::on_ack(Window& w, const AckEvent& e) noexcept {
    // RFC 8257 3.3: count the bytes acknowledged, and those whose ACKs
    // carried ECE, over one window of data (until SND.UNA passes what
    // SND.NXT was when the window began); then fold the marked fraction into
    // alpha with gain g. This goes on during recovery too.
    if (!window_open_) {
        window_end_ = e.snd_nxt;
        window_open_ = true;
    }
    bytes_acked_ += e.acked;
    bytes_marked_ += std::min(e.ece_acked, e.acked);
    if (wire::seq_gt(e.snd_una, window_end_)) {
        std::uint64_t fraction = 0;
        if (bytes_acked_ > 0) fraction = (bytes_marked_ << kAlphaShift) / bytes_acked_;
        alpha_ = static_cast<std::uint32_t>(alpha_ - (alpha_ >> kGShift) + (fraction >> kGShift));
        alpha_ = std::min(alpha_, kAlphaOne);
        window_end_ = e.snd_nxt;
        bytes_acked_ = 0;
        bytes_marked_ = 0;
    }
    reno_.on_ack(w, e);
}

void Dctcp::on_ece(Window& w, std::uint32_t, TimeNs) noexcept {
    const std::uint64_t cut = (std::uint64_t{w.cwnd} * alpha_) >> (kAlphaShift + 1);
    w.ssthresh = w.at_least_two(w.cwnd - cut);
    w.cwnd = std::min(w.cwnd, w.ssthresh);
}

} // namespace lanetcp::tcp::cc
