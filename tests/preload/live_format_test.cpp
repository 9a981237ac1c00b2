// The kInternalStack extension record (format 1.1): the encoder's bytes are the documented ones
// (docs/trace-format.md 4.8), the analyzer's decoder reports it through on_internal_stack, skips
// fields a later minor might append inside len, and treats a bad length or id as damage.
#include <catch2/catch.hpp>
#include <vector>

#include "analyzer/record_decoder.hpp"
#include "encoder.hpp"

namespace hp = heapwise::preload;
namespace hwa = heapwise::analyzer;
namespace fmt = heapwise::format;

namespace {

struct Collect : hwa::EventVisitor {
    std::vector<std::uint32_t> internal;
    std::vector<std::uint64_t> rss;
    void on_internal_stack(const hwa::InternalStack& e) override { internal.push_back(static_cast<std::uint32_t>(e.stack)); }
    void on_rss(const hwa::Rss& e) override { rss.push_back(e.rss_bytes); }
};

Collect decode(const std::vector<std::uint8_t>& bytes) {
    hwa::DecodeState state;
    Collect c;
    hwa::decode_block(bytes, 0, state, c);
    return c;
}

}  // namespace

TEST_CASE("kInternalStack bytes are as documented and decode", "[preload][live][format]") {
    hp::BlockEncoder enc;
    enc.internal_stack(5);
    const auto b = enc.bytes();
    CHECK(std::vector<std::uint8_t>(b.begin(), b.end()) == std::vector<std::uint8_t>{0x81, 0x01, 0x05});
    CHECK(fmt::kVersionMinor >= 1);  // kInternalStack is a 1.1 addition
    enc.internal_stack(300);  // a two-byte id: len 2
    enc.rss(0, 4096);
    const auto all = enc.bytes();
    const Collect c = decode({all.begin(), all.end()});
    CHECK(c.internal == std::vector<std::uint32_t>{5, 300});
    CHECK(c.rss == std::vector<std::uint64_t>{4096});
    CHECK(std::string(hwa::record_kind_name(129)) == "internal_stack");
}

TEST_CASE("kInternalStack: appended fields are skipped, bad ones are damage", "[preload][live][format]") {
    // len 3: the id, then two bytes a later minor might add; then an rss record that must decode.
    const Collect c = decode({0x81, 0x03, 0x07, 0xAA, 0xBB, 0x0C, 0x00, 0x10});
    CHECK(c.internal == std::vector<std::uint32_t>{7});
    CHECK(c.rss == std::vector<std::uint64_t>{16});
    CHECK_THROWS_AS(decode({0x81, 0x05, 0x07}), hwa::TraceError);        // len past the block
    CHECK_THROWS_AS(decode({0x81, 0x01, 0x00}), hwa::TraceError);        // id 0 is reserved
    CHECK_THROWS_AS(decode({0x81, 0x01, 0x81, 0x01}), hwa::TraceError);  // id longer than len
}
