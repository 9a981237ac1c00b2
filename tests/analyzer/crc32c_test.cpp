// CRC-32C variants against the bytewise definition: the SSE4.2 instruction (when this CPU has it),
// slicing-by-8 and the dispatching crc32c(), on random bytes of many lengths, start alignments
// and initial values. The tracer writes with crc32c(), so any difference would orphan old traces.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "heapwise/crc32c.hpp"
#include "heapwise/trace_format.hpp"

using namespace heapwise;

namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

// Every variant this build and CPU can run, on data[0, n) from initial crc.
void check_all_agree(const std::uint8_t* data, std::size_t n, std::uint32_t crc) {
    const std::uint32_t want = format::crc32c_bytewise(data, n, crc);
    CHECK(format::crc32c_portable(data, n, crc) == want);
    CHECK(format::crc32c(data, n, crc) == want);
#if defined(__x86_64__)
    if (format::crc32c_have_sse42()) CHECK(format::crc32c_sse42(data, n, crc) == want);
#endif
}

}  // namespace

TEST_CASE("crc32c: the check value of every variant", "[reader][crc32c]") {
    const char* digits = "123456789";
    CHECK(format::crc32c_bytewise(digits, 9) == 0xE3069283u);
    CHECK(format::crc32c_portable(digits, 9) == 0xE3069283u);
    CHECK(format::crc32c(digits, 9) == 0xE3069283u);
#if defined(__x86_64__)
    if (format::crc32c_have_sse42()) CHECK(format::crc32c_sse42(digits, 9) == 0xE3069283u);
#endif
    CHECK(format::crc32c(digits, 0) == 0u);
    CHECK(format::crc32c(digits, 0, 0xDEADBEEFu) == 0xDEADBEEFu);
}

TEST_CASE("crc32c: variants agree on every length 0..300 at every alignment", "[reader][crc32c]") {
    const auto buf = random_bytes(300 + 8, 1);
    std::mt19937 rng(2);
    for (std::size_t align = 0; align < 8; ++align) {
        for (std::size_t n = 0; n + align <= buf.size() && n <= 300; ++n) {
            check_all_agree(buf.data() + align, n, 0);
            check_all_agree(buf.data() + align, n, static_cast<std::uint32_t>(rng()));
        }
    }
}

TEST_CASE("crc32c: variants agree on block-sized buffers", "[reader][crc32c]") {
    // Trace payloads are up to format::kMaxBlockRawSize; a few sizes around 64 KiB and 1 MiB.
    for (const std::size_t n : {std::size_t{65536}, std::size_t{65537 + 6}, std::size_t{1} << 20}) {
        const auto buf = random_bytes(n + 3, n);
        check_all_agree(buf.data(), n, 0);
        check_all_agree(buf.data() + 3, n, 0x12345678u);
    }
}

TEST_CASE("crc32c: a crc continued over a split equals the crc of the whole", "[reader][crc32c]") {
    const auto buf = random_bytes(1000, 3);
    const std::uint32_t whole = format::crc32c(buf.data(), buf.size());
    for (const std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8},
                                  std::size_t{333}, std::size_t{999}, std::size_t{1000}}) {
        const std::uint32_t first = format::crc32c(buf.data(), cut);
        CHECK(format::crc32c(buf.data() + cut, buf.size() - cut, first) == whole);
        CHECK(format::crc32c_portable(buf.data() + cut, buf.size() - cut,
                                      format::crc32c_bytewise(buf.data(), cut)) == whole);
    }
}

TEST_CASE("crc32c: a block header crc is the crc of its first 20 bytes", "[reader][crc32c]") {
    format::BlockHeader h{};
    h.magic = format::kBlockMagic;
    h.flags = 1;
    h.stored_size = 1234;
    h.raw_size = 5678;
    h.payload_crc = 0xCAFEF00Du;
    const auto* p = reinterpret_cast<const std::uint8_t*>(&h);
    CHECK(format::block_header_crc(h) == format::crc32c_bytewise(p, 20));
}
