#include "wire/tcp_options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "captured_frames.hpp"
#include "test_util.hpp"
#include "wire/tcp.hpp"

namespace lanetcp::wire {
namespace {

using test::ExactCopy;

// The option bytes of a captured TCP frame.
std::vector<std::uint8_t> options_of(bytes frame) {
    auto tcp = TcpView::parse(test::l3_of(frame).l4);
    if (!tcp) return {};
    return {tcp->options().begin(), tcp->options().end()};
}

Parsed<TcpOptions> parse_exact(bytes b) {
    // Parsed<TcpOptions> holds values, not views, so the copy may go.
    ExactCopy exact{b};
    return TcpOptions::parse(exact.view());
}

Parsed<TcpOptions> parse_exact(std::initializer_list<std::uint8_t> b) {
    std::vector<std::uint8_t> v(b);
    return parse_exact(bytes{v});
}

void expect_same(const TcpOptions& got, const TcpOptions& want) {
    EXPECT_EQ(got.mss, want.mss);
    EXPECT_EQ(got.window_scale, want.window_scale);
    EXPECT_EQ(got.sack_permitted, want.sack_permitted);
    EXPECT_EQ(got.timestamps, want.timestamps);
    ASSERT_EQ(got.sacks().size(), want.sacks().size());
    for (std::size_t i = 0; i < got.sacks().size(); ++i) EXPECT_EQ(got.sacks()[i], want.sacks()[i]) << i;
}

TcpOptions linux_syn_options() {
    TcpOptions o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamps = TcpTimestamps{732429059u, 0};
    o.window_scale = 10;
    return o;
}

TcpOptions captured_sack3_options() {
    TcpOptions o;
    o.timestamps = TcpTimestamps{4266986542u, 3963573460u};
    o.sack_block_count = 3;
    o.sack_blocks[0] = SackBlock{SeqNum{209406975u}, SeqNum{209408423u}};
    o.sack_blocks[1] = SackBlock{SeqNum{209402631u}, SeqNum{209405527u}};
    o.sack_blocks[2] = SackBlock{SeqNum{209393943u}, SeqNum{209401183u}};
    return o;
}

TEST(TcpOptions, ParsesCapturedSyn) {
    auto o = parse_exact(bytes{options_of(test::kTcpSyn)});
    ASSERT_TRUE(o) << to_string(o.error);
    expect_same(o.value, linux_syn_options());
}

TEST(TcpOptions, ParsesCapturedSynAck) {
    auto o = parse_exact(bytes{options_of(test::kTcpSynAck)});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->mss, 1460);
    EXPECT_TRUE(o->sack_permitted);
    EXPECT_EQ(o->timestamps, (TcpTimestamps{3356760846u, 732429059u}));
    EXPECT_EQ(o->window_scale, 10);
    EXPECT_TRUE(o->sacks().empty());
}

TEST(TcpOptions, ParsesCapturedDataTimestamps) {
    auto o = parse_exact(bytes{options_of(test::kTcpData)});
    ASSERT_TRUE(o);
    TcpOptions want;
    want.timestamps = TcpTimestamps{732429060u, 3356760846u};
    expect_same(o.value, want);
}

TEST(TcpOptions, ParsesCapturedSackBlocks) {
    auto one = parse_exact(bytes{options_of(test::kTcpSack1)});
    ASSERT_TRUE(one);
    ASSERT_EQ(one->sacks().size(), 1u);
    EXPECT_EQ(one->sacks()[0], (SackBlock{SeqNum{209393943u}, SeqNum{209395391u}}));
    EXPECT_EQ(one->timestamps, (TcpTimestamps{4266986542u, 3963573460u}));

    auto three = parse_exact(bytes{options_of(test::kTcpSack3)});
    ASSERT_TRUE(three);
    expect_same(three.value, captured_sack3_options());
}

TEST(TcpOptions, RstHasNoOptions) {
    auto o = parse_exact(bytes{options_of(test::kTcpRst)});
    ASSERT_TRUE(o);
    expect_same(o.value, TcpOptions{});
}

struct Truncation {
    const char* name;
    bytes frame;
    std::vector<std::size_t> boundaries; // prefix lengths that end between options
};

TEST(TcpOptions, EveryTruncatedPrefixFailsUnlessItEndsBetweenOptions) {
    const Truncation cases[] = {
        {"syn", test::kTcpSyn, {0, 4, 6, 16, 17, 20}},     // MSS | SACK-perm | TS | NOP | WS
        {"data", test::kTcpData, {0, 1, 2, 12}},           // NOP NOP TS
        {"sack3", test::kTcpSack3, {0, 1, 2, 12, 13, 14, 40}}, // NOP NOP TS NOP NOP SACK
    };
    for (const Truncation& c : cases) {
        auto full = options_of(c.frame);
        ASSERT_EQ(full.size(), c.boundaries.back()) << c.name;
        for (std::size_t n = 0; n < full.size(); ++n) {
            auto o = parse_exact(bytes{full}.first(n));
            bool boundary = std::find(c.boundaries.begin(), c.boundaries.end(), n) != c.boundaries.end();
            EXPECT_EQ(o.error, boundary ? ParseError::ok : ParseError::bad_option) << c.name << " prefix " << n;
        }
    }
}

TEST(TcpOptions, PrefixAtABoundaryHoldsOnlyTheOptionsBeforeIt) {
    auto full = options_of(test::kTcpSyn);
    auto o = parse_exact(bytes{full}.first(6));
    ASSERT_TRUE(o);
    EXPECT_EQ(o->mss, 1460);
    EXPECT_TRUE(o->sack_permitted);
    EXPECT_FALSE(o->timestamps);
    EXPECT_FALSE(o->window_scale);
}

struct Malformed {
    const char* what;
    std::vector<std::uint8_t> bytes;
};

class TcpOptionsMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(TcpOptionsMalformed, IsBadOption) {
    const Malformed& m = GetParam();
    EXPECT_EQ(parse_exact(bytes{m.bytes}).error, ParseError::bad_option) << m.what;
}

std::vector<std::uint8_t> sack_option(std::uint8_t len) {
    std::vector<std::uint8_t> v{tcpopt::sack, len};
    v.resize(len, 0x11);
    return v;
}

INSTANTIATE_TEST_SUITE_P(
    Lengths, TcpOptionsMalformed,
    ::testing::Values(
        Malformed{"mss without length byte", {2}},
        Malformed{"nop then mss without length byte", {1, 1, 1, 2}},
        Malformed{"unknown kind without length byte", {1, 1, 1, 254}},
        Malformed{"length 0", {2, 0, 1, 1}},
        Malformed{"length 1", {2, 1, 1, 1}},
        Malformed{"unknown kind length 0", {30, 0, 0, 0}},
        Malformed{"unknown kind length 1", {30, 1, 0, 0}},
        Malformed{"mss running past the end", {2, 4, 5}},
        Malformed{"timestamps running past the end", {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0}},
        Malformed{"unknown running past the end", {1, 30, 6, 0, 0, 0}},
        Malformed{"mss length 3", {2, 3, 5, 0}},
        Malformed{"mss length 5", {2, 5, 5, 0xb4, 0, 0, 0, 0}},
        Malformed{"window scale length 2", {1, 3, 2, 1}},
        Malformed{"window scale length 4", {3, 4, 7, 0}},
        Malformed{"sack-permitted length 3", {4, 3, 0, 0}},
        Malformed{"sack-permitted length 4", {4, 4, 0, 0}},
        Malformed{"timestamps length 8", {8, 8, 0, 0, 0, 1, 0, 0}},
        Malformed{"timestamps length 12", {8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}},
        Malformed{"sack with no block", sack_option(2)},
        Malformed{"sack length 9", sack_option(9)},
        Malformed{"sack length 11", sack_option(11)},
        Malformed{"sack length 33", sack_option(33)},
        Malformed{"sack with 5 blocks", sack_option(42)},
        Malformed{"good options then a bad one", {2, 4, 5, 0xb4, 1, 3, 3}}));

TEST(TcpOptions, EmptyAndPaddingOnly) {
    EXPECT_TRUE(parse_exact(bytes{}));
    auto nops = parse_exact({1, 1, 1, 1});
    ASSERT_TRUE(nops);
    expect_same(nops.value, TcpOptions{});
    EXPECT_TRUE(parse_exact({0, 0, 0, 0}));
}

TEST(TcpOptions, EndOfListStopsParsing) {
    // Whatever follows EOL is padding, even if it looks like a bad option.
    auto o = parse_exact({2, 4, 5, 0xb4, 0, 2, 0xff, 3});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->mss, 1460);
    auto later = parse_exact({0, 2, 4, 5, 0xb4});
    ASSERT_TRUE(later);
    EXPECT_FALSE(later->mss);
}

TEST(TcpOptions, UnknownOptionsAreSkippedByLength) {
    // TCP-MD5 (19, 18 bytes), then a fast-open cookie (34, 10), then MSS.
    std::vector<std::uint8_t> b{19, 18};
    b.resize(18, 0xaa);
    b.insert(b.end(), {34, 10, 2, 4, 5, 0, 0, 0, 0, 0});
    b.insert(b.end(), {2, 4, 0x05, 0xb4});
    auto o = parse_exact(bytes{b});
    ASSERT_TRUE(o) << to_string(o.error);
    // The bytes 2,4,5,0 inside the cookie must not have been read as an MSS.
    EXPECT_EQ(o->mss, 1460);
    EXPECT_FALSE(o->window_scale);
    EXPECT_FALSE(o->timestamps);
    // A length-2 unknown option is legal and empty.
    EXPECT_TRUE(parse_exact({99, 2, 1, 1}));
}

TEST(TcpOptions, ZeroMssIsIgnoredLikeLinux) {
    auto o = parse_exact({2, 4, 0, 0});
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->mss);
}

TEST(TcpOptions, WindowScaleAboveFourteenIsClamped) {
    for (std::uint8_t shift : {0, 7, 14}) {
        auto o = parse_exact({1, 3, 3, shift});
        ASSERT_TRUE(o);
        EXPECT_EQ(o->window_scale, shift);
    }
    for (std::uint8_t shift : {15, 16, 255}) {
        auto o = parse_exact({1, 3, 3, shift});
        ASSERT_TRUE(o);
        EXPECT_EQ(o->window_scale, kTcpMaxWindowScale) << int{shift};
    }
}

TEST(TcpOptions, RepeatedOptionLastOneWins) {
    auto o = parse_exact({2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->mss, 536);
}

TEST(TcpOptions, FourSackBlocksFitWithoutTimestamps) {
    std::vector<std::uint8_t> b{1, 1, tcpopt::sack, 34};
    for (std::uint32_t i = 0; i < 8; ++i) {
        b.resize(b.size() + 4);
        store_be32(b.data() + b.size() - 4, 1000 * (i + 1));
    }
    auto o = parse_exact(bytes{b});
    ASSERT_TRUE(o);
    ASSERT_EQ(o->sacks().size(), 4u);
    EXPECT_EQ(o->sacks()[3], (SackBlock{SeqNum{7000}, SeqNum{8000}}));
}

TEST(TcpOptions, SacksViewNeverExceedsTheArray) {
    TcpOptions o;
    o.sack_block_count = 200;
    EXPECT_EQ(o.sacks().size(), kTcpMaxSackBlocks);
}

// --- emission ---

std::vector<std::uint8_t> emit(const TcpOptions& o) {
    std::array<std::uint8_t, 64> buf{};
    buf.fill(0xee);
    std::size_t n = emit_tcp_options(buf.data(), o);
    EXPECT_TRUE(std::all_of(buf.begin() + static_cast<std::ptrdiff_t>(n), buf.end(),
                            [](std::uint8_t b) { return b == 0xee; }))
        << "wrote past the returned length " << n;
    return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(TcpOptionsEmit, ReproducesLinuxSyn) {
    EXPECT_EQ(emit(linux_syn_options()), options_of(test::kTcpSyn));
    EXPECT_EQ(tcp_options_length(linux_syn_options()), 20u);
}

TEST(TcpOptionsEmit, ReproducesLinuxSynAck) {
    TcpOptions o = linux_syn_options();
    o.timestamps = TcpTimestamps{3356760846u, 732429059u};
    EXPECT_EQ(emit(o), options_of(test::kTcpSynAck));
}

TEST(TcpOptionsEmit, ReproducesLinuxDataSegments) {
    TcpOptions ts;
    ts.timestamps = TcpTimestamps{732429060u, 3356760846u};
    EXPECT_EQ(emit(ts), options_of(test::kTcpData));

    TcpOptions one;
    one.timestamps = TcpTimestamps{4266986542u, 3963573460u};
    one.sack_block_count = 1;
    one.sack_blocks[0] = SackBlock{SeqNum{209393943u}, SeqNum{209395391u}};
    EXPECT_EQ(emit(one), options_of(test::kTcpSack1));

    EXPECT_EQ(emit(captured_sack3_options()), options_of(test::kTcpSack3));
    EXPECT_EQ(tcp_options_length(captured_sack3_options()), 40u);
}

TEST(TcpOptionsEmit, SingleOptionLayouts) {
    TcpOptions mss;
    mss.mss = 0x1234;
    EXPECT_EQ(emit(mss), (std::vector<std::uint8_t>{2, 4, 0x12, 0x34}));
    TcpOptions ws;
    ws.window_scale = 7;
    EXPECT_EQ(emit(ws), (std::vector<std::uint8_t>{1, 3, 3, 7}));
    TcpOptions sp;
    sp.sack_permitted = true;
    EXPECT_EQ(emit(sp), (std::vector<std::uint8_t>{1, 1, 4, 2}));
    TcpOptions ts;
    ts.timestamps = TcpTimestamps{0x01020304, 0x0a0b0c0d};
    EXPECT_EQ(emit(ts), (std::vector<std::uint8_t>{1, 1, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13}));
    EXPECT_TRUE(emit(TcpOptions{}).empty());
}

TEST(TcpOptionsEmit, SackBlocksThatDoNotFitAreDroppedFromTheEnd) {
    TcpOptions o;
    o.sack_block_count = 4;
    for (std::uint32_t i = 0; i < 4; ++i) o.sack_blocks[i] = SackBlock{SeqNum{i * 100}, SeqNum{i * 100 + 50}};

    auto no_ts = TcpOptions::parse(emit(o));
    ASSERT_TRUE(no_ts);
    EXPECT_EQ(no_ts->sacks().size(), 4u);
    EXPECT_EQ(tcp_options_length(o), 36u);

    o.timestamps = TcpTimestamps{1, 2}; // 12 + 4 + 3*8 = 40: like Linux, 3 blocks
    auto with_ts = TcpOptions::parse(emit(o));
    ASSERT_TRUE(with_ts);
    ASSERT_EQ(with_ts->sacks().size(), 3u);
    EXPECT_EQ(with_ts->sacks()[2], o.sack_blocks[2]);
    EXPECT_EQ(tcp_options_length(o), 40u);

    o.mss = 1460;
    o.window_scale = 3; // 4 + 12 + 4 = 20 used: room for 2
    auto full = TcpOptions::parse(emit(o));
    ASSERT_TRUE(full);
    EXPECT_EQ(full->sacks().size(), 2u);
    EXPECT_EQ(full->sacks()[0], o.sack_blocks[0]);
}

TEST(TcpOptionsEmit, EveryCombinationRoundTrips) {
    for (unsigned mask = 0; mask < 16; ++mask) {
        for (std::uint8_t blocks = 0; blocks <= kTcpMaxSackBlocks; ++blocks) {
            TcpOptions o;
            if (mask & 1) o.mss = static_cast<std::uint16_t>(536 + mask);
            if (mask & 2) o.window_scale = static_cast<std::uint8_t>(mask % 15);
            if (mask & 4) o.sack_permitted = true;
            if (mask & 8) o.timestamps = TcpTimestamps{0xfffffff0u + mask, blocks};
            o.sack_block_count = blocks;
            for (std::uint32_t i = 0; i < blocks; ++i)
                o.sack_blocks[i] = SackBlock{SeqNum{0xffffff00u + i * 16}, SeqNum{0xffffff08u + i * 16}};

            auto wire = emit(o);
            EXPECT_EQ(wire.size(), tcp_options_length(o)) << mask << "/" << int{blocks};
            EXPECT_EQ(wire.size() % 4, 0u) << mask << "/" << int{blocks};
            EXPECT_LE(wire.size(), kTcpMaxOptionsLen) << mask << "/" << int{blocks};

            auto back = parse_exact(bytes{wire});
            ASSERT_TRUE(back) << mask << "/" << int{blocks};
            TcpOptions want = o;
            want.sack_block_count = static_cast<std::uint8_t>(back->sacks().size());
            EXPECT_LE(want.sack_block_count, blocks);
            // Blocks are dropped only when they do not fit.
            if (want.sack_block_count < blocks) {
                EXPECT_GT(wire.size() + 8, kTcpMaxOptionsLen);
            }
            expect_same(back.value, want);
        }
    }
}

} // namespace
} // namespace lanetcp::wire
