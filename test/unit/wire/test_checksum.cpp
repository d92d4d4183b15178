#include "wire/checksum.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "test_util.hpp"

namespace lanetcp::wire {
namespace {

using test::ExactCopy;

// RFC 1071 4.1, written the obvious way: big-endian 16-bit words, odd byte
// padded with zero, carries folded back until none is left.
std::uint16_t reference_sum(const std::uint8_t* p, std::size_t len, std::uint32_t sum = 0) {
    while (len > 1) {
        sum += std::uint32_t{p[0]} << 8 | p[1];
        p += 2;
        len -= 2;
        if (sum > 0xffffu) sum = (sum & 0xffffu) + (sum >> 16);
    }
    if (len == 1) sum += std::uint32_t{p[0]} << 8;
    while (sum > 0xffffu) sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

std::vector<std::uint8_t> random_bytes(std::mt19937& rng, std::size_t n) {
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(byte(rng));
    return v;
}

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 3: these eight bytes sum to ddf2 (before the complement).
    const std::array<std::uint8_t, 8> data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(checksum_fold(checksum_partial(data.data(), data.size())), 0xddf2);
    EXPECT_EQ(internet_checksum(data.data(), data.size()), 0x220d);
}

TEST(Checksum, EmptyAndSingleByte) {
    EXPECT_EQ(checksum_fold(checksum_partial(nullptr, 0)), 0);
    EXPECT_EQ(internet_checksum(nullptr, 0), 0xffff);
    const std::uint8_t one = 0xab;
    // A lone byte is the high half of a zero-padded word.
    EXPECT_EQ(checksum_fold(checksum_partial(&one, 1)), 0xab00);
}

TEST(Checksum, CarriesWrapAround) {
    const std::array<std::uint8_t, 4> data{0xff, 0xff, 0x00, 0x01};
    // ffff + 0001 = 1_0000, end-around carry gives 0001.
    EXPECT_EQ(checksum_fold(checksum_partial(data.data(), data.size())), 0x0001);
    const std::vector<std::uint8_t> ones(4096, 0xff);
    EXPECT_EQ(checksum_fold(checksum_partial(ones.data(), ones.size())), 0xffff);
}

TEST(Checksum, FoldHandlesEveryCarry) {
    EXPECT_EQ(checksum_fold(0), 0);
    EXPECT_EQ(checksum_fold(0xffff), 0xffff);
    EXPECT_EQ(checksum_fold(0x10000), 1);
    EXPECT_EQ(checksum_fold(0xffffffffffffffffull), 0xffff);
    EXPECT_EQ(checksum_fold(0x0001000000000000ull), 1);
    EXPECT_EQ(checksum_fold(0x00000001fffffffeull), 0xffff);
}

TEST(Checksum, MatchesReferenceForEveryLengthAndAlignment) {
    std::mt19937 rng(1071);
    auto pool = random_bytes(rng, 2048 + 16);
    for (std::size_t len = 0; len <= 2048; ++len) {
        for (std::size_t offset = 0; offset < 8; ++offset) {
            const std::uint8_t* p = pool.data() + offset + (len % 7);
            ASSERT_EQ(checksum_fold(checksum_partial(p, len)), reference_sum(p, len))
                << "len " << len << " offset " << offset;
        }
    }
}

TEST(Checksum, ExactBuffersAreNotOverread) {
    // Under ASan this catches a wide load running past the last byte.
    std::mt19937 rng(7);
    for (std::size_t len = 0; len <= 80; ++len) {
        auto data = random_bytes(rng, len);
        ExactCopy exact{bytes{data}};
        EXPECT_EQ(checksum_fold(checksum_partial(exact.data(), len)), reference_sum(data.data(), len)) << len;
    }
}

TEST(Checksum, AllOnesAndAllZeroPatterns) {
    for (std::size_t len : {1u, 2u, 3u, 31u, 32u, 33u, 1500u}) {
        std::vector<std::uint8_t> ff(len, 0xff), zero(len, 0);
        EXPECT_EQ(checksum_fold(checksum_partial(ff.data(), len)), reference_sum(ff.data(), len)) << len;
        EXPECT_EQ(checksum_fold(checksum_partial(zero.data(), len)), 0) << len;
    }
}

TEST(Checksum, ChainedEvenPiecesEqualOneSum) {
    std::mt19937 rng(1624);
    for (int round = 0; round < 300; ++round) {
        std::size_t len = std::uniform_int_distribution<std::size_t>(0, 1600)(rng);
        auto data = random_bytes(rng, len);
        std::uint64_t initial = std::uniform_int_distribution<std::uint64_t>(0, 0xffffffffu)(rng);
        std::uint64_t sum = initial;
        std::size_t at = 0;
        while (at < len) {
            std::size_t piece = std::uniform_int_distribution<std::size_t>(0, 90)(rng) * 2;
            if (piece >= len - at) piece = len - at; // the last piece may be odd
            sum = checksum_partial(data.data() + at, piece, sum);
            at += piece;
        }
        std::uint32_t reference_initial = checksum_fold(initial);
        EXPECT_EQ(checksum_fold(sum), reference_sum(data.data(), len, reference_initial)) << "round " << round;
    }
}

TEST(Checksum, EmbeddedChecksumVerifiesToZero) {
    std::mt19937 rng(3);
    for (std::size_t len : {2u, 20u, 21u, 64u, 999u}) {
        auto data = random_bytes(rng, len);
        data[0] = data[1] = 0;
        std::uint16_t c = internet_checksum(data.data(), len);
        store_be16(data.data(), c);
        EXPECT_EQ(internet_checksum(data.data(), len), 0) << len;
        data[len - 1] ^= 0x01;
        EXPECT_NE(internet_checksum(data.data(), len), 0) << len;
    }
}

TEST(Checksum, PseudoHeaderSumMatchesSerialisedPseudoHeader) {
    // RFC 9293 3.1: src, dst, zero, protocol, TCP length.
    Ipv4Addr src{0x0a4d0001}, dst{0xc0a8fffe};
    std::array<std::uint8_t, 12> ph{};
    src.store(ph.data());
    dst.store(ph.data() + 4);
    ph[9] = 6;
    store_be16(ph.data() + 10, 1480);
    EXPECT_EQ(checksum_fold(pseudo_header_sum(src, dst, 6, 1480)), reference_sum(ph.data(), ph.size()));
}

TEST(Checksum, IncrementalUpdateMatchesRecomputation) {
    std::mt19937 rng(1141);
    for (int round = 0; round < 500; ++round) {
        auto data = random_bytes(rng, 40);
        data[10] = data[11] = 0;
        store_be16(data.data() + 10, internet_checksum(data.data(), data.size()));
        std::size_t word = std::uniform_int_distribution<std::size_t>(0, 19)(rng) * 2;
        if (word == 10) continue;
        std::uint16_t old_word = load_be16(data.data() + word);
        std::uint16_t new_word = static_cast<std::uint16_t>(rng());
        store_be16(data.data() + word, new_word);
        std::uint16_t updated = checksum_update16(load_be16(data.data() + 10), old_word, new_word);
        store_be16(data.data() + 10, updated);
        EXPECT_EQ(internet_checksum(data.data(), data.size()), 0) << "round " << round;
    }
}

} // namespace
} // namespace lanetcp::wire
