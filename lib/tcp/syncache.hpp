// Half-open passive connections as compact request entries (Linux's
// request_sock, FreeBSD's syncache): a SYN to a listener takes one small
// entry, not a control block, and only the ACK that completes the handshake
// makes a Connection of it. The table is preallocated and fixed in size
// (TcpConfig::syncache_entries per lcore), and each listener holds at most
// its backlog of entries; past either bound the listener answers with SYN
// cookies (syncookie.hpp) or, with them off, drops the SYN.
//
// This file is the table; the handshake it runs (SYN-ACK, its retransmission
// on the lcore's timer wheel, the checks on what the peer sends while the
// entry lives) is TcpLayer's, in syncache_input.cpp.
#pragma once

#include "tcp/timer_kinds.hpp"

#include <boost/intrusive/list.hpp>
#include <boost/intrusive/unordered_set.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "tcp/four_tuple.hpp"
#include "timer/timer_wheel.hpp"
#include "wire/seq.hpp"

namespace lanetcp::tcp {

struct Listener;

// What a SYN told us and what we answered: enough to resend the SYN-ACK and
// to build the connection when the handshake completes.
struct SynRequest {
    SynRequest() noexcept : timer(this, kSynAckRetransmit) {}
    SynRequest(const SynRequest&) = delete;
    SynRequest& operator=(const SynRequest&) = delete;

    FourTuple tuple{};
    wire::SeqNum iss{};
    wire::SeqNum irs{};
    Listener* listener = nullptr;
    TimeNs synack_sent = 0;       // the first SYN-ACK, to time the handshake (Karn: not if resent)
    std::uint32_t ts_recent = 0;  // the peer's TSval, echoed in our SYN-ACK (RFC 7323 4.3)
    std::uint16_t peer_mss = 0;   // 0: the SYN offered none
    std::uint16_t peer_window = 0;
    std::uint8_t peer_wscale = 0;
    bool wscale_ok = false;       // the SYN offered window scaling and we accept it
    bool sack_ok = false;
    bool ts_ok = false;
    bool ecn_ok = false;          // an ECN-setup SYN we accept (ecn_accept_syn): ECE on our SYN-ACK
    bool resent = false;          // a SYN-ACK went again for a repeated SYN (Karn; timer resends: retransmits)
    std::uint8_t retransmits = 0; // SYN-ACKs resent on timeout
    Timer timer;                  // SYN-ACK retransmission

    boost::intrusive::unordered_set_member_hook<> table_hook;
    boost::intrusive::list_member_hook<> free_hook;
};

class Syncache {
public:
    Syncache(std::uint32_t capacity, const TupleHasher& hasher);
    ~Syncache();
    Syncache(const Syncache&) = delete;
    Syncache& operator=(const Syncache&) = delete;

    SynRequest* find(const FourTuple& t) noexcept;
    // A free entry for `t`, in the table; null when all are taken.
    SynRequest* insert(const FourTuple& t) noexcept;
    // Back to the free list. The caller has cancelled its timer (the wheel is the caller's).
    void erase(SynRequest& r) noexcept;

    std::size_t size() const noexcept { return table_.size(); }
    std::uint32_t capacity() const noexcept { return capacity_; }
    template <class F>
    void for_each(F&& fn) {
        for (auto it = table_.begin(); it != table_.end();) fn(*it++); // fn may erase
    }

private:
    struct Hash {
        TupleHasher hasher;
        std::size_t operator()(const FourTuple& t) const noexcept { return hasher(t); }
        std::size_t operator()(const SynRequest& r) const noexcept { return hasher(r.tuple); }
    };
    struct Equal {
        bool operator()(const FourTuple& t, const SynRequest& r) const noexcept { return t == r.tuple; }
        bool operator()(const SynRequest& a, const SynRequest& b) const noexcept { return a.tuple == b.tuple; }
    };
    using Table = boost::intrusive::unordered_set<
        SynRequest,
        boost::intrusive::member_hook<SynRequest, boost::intrusive::unordered_set_member_hook<>,
                                      &SynRequest::table_hook>,
        boost::intrusive::hash<Hash>, boost::intrusive::equal<Equal>, boost::intrusive::constant_time_size<true>,
        boost::intrusive::power_2_buckets<true>>;
    using FreeList = boost::intrusive::list<
        SynRequest,
        boost::intrusive::member_hook<SynRequest, boost::intrusive::list_member_hook<>, &SynRequest::free_hook>,
        boost::intrusive::constant_time_size<false>>;

    std::uint32_t capacity_;
    std::unique_ptr<SynRequest[]> entries_;
    std::vector<Table::bucket_type> buckets_;
    Table table_;
    FreeList free_;
};

} // namespace lanetcp::tcp
