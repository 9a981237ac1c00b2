// A persistent spill directory written before this build reopens: spill files are made byte by
// byte from the format (api/spill_format.hpp) and named with key hashes printed by hash_key at
// 2d30f37, not computed by the code under test, so a change to the hash that names files (or to
// the check SpillStore::recover makes of it) fails here instead of silently dropping every
// persistent cache users already have on disk.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "cache_crc.hpp"
#include "cache_test_util.hpp"
#include "spill_format.hpp"

using namespace cachetest;
using heapwise::Cache;
using heapwise::CacheOptions;

namespace {

// One spill file as the format defines it: header, key, value.
void write_spill_file(const fs::path& dir, std::uint64_t name_hash, std::uint64_t seq,
                      std::string_view key, std::string_view value) {
    namespace spill = heapwise::api::spill;
    spill::FileHeader h{};
    h.magic = spill::kMagic;
    h.version = spill::kVersion;
    h.key_len = static_cast<std::uint32_t>(key.size());
    h.value_len = value.size();
    h.seq = seq;
    h.payload_crc = heapwise::api::crc32c(value.data(), value.size(),
                                          heapwise::api::crc32c(key.data(), key.size()));
    h.header_crc = heapwise::api::crc32c(&h, spill::kHeaderCrcSpan);
    std::ofstream out(dir / spill::file_name(name_hash, seq), std::ios::binary);
    out.write(reinterpret_cast<const char*>(&h), sizeof h);
    out.write(key.data(), static_cast<std::streamsize>(key.size()));
    out.write(value.data(), static_cast<std::streamsize>(value.size()));
    REQUIRE(out.good());
}

}  // namespace

TEST_CASE("a persistent directory named with the earlier key hashes reopens with every entry",
          "[cache][hash]") {
    TempDir dir;
    const fs::path pdir = dir.path() / "heapwise-cache.compat";
    REQUIRE(::mkdir(pdir.c_str(), 0700) == 0);
    // Key, hash_key(key) at 2d30f37 (as pinned in cache_hash_test.cpp), value.
    struct Old {
        std::string_view key;
        std::uint64_t hash;
        std::string value;
    };
    const Old old[] = {
        {"https://shop.example.com/item/42", 0x121b5403c494d061ull, std::string(128, 'v')},
        {"abc", 0xaae62443fe1b97e3ull, std::string(5000, 'w')},
        {"12345678", 0xdc7143e0cfc76ffeull, "x"},
        {"", 0x82d6de9c0781ef39ull, "empty key"},
    };
    std::uint64_t seq = 1;
    for (const Old& o : old) write_spill_file(pdir, o.hash, seq++, o.key, o.value);
    // A file whose name carries another hash than its key's is dropped, as before.
    write_spill_file(pdir, 0x121b5403c494d062ull, seq++, "https://shop.example.com/item/43", "y");

    CacheOptions o{.max_memory = std::size_t{1} << 20, .max_disk = std::size_t{1} << 20,
                   .spill_dir = dir.str()};
    o.persistent = true;
    o.name = "compat";
    Cache cache(o);
    const auto st = cache.stats();
    REQUIRE(st.disk_items == 4);
    REQUIRE(st.corrupt == 1);
    for (const Old& e : old) {
        INFO(e.key);
        REQUIRE(cache.contains(e.key));
        auto v = cache.get(e.key);
        REQUIRE(v.has_value());
        REQUIRE(v->view() == e.value);
    }
    REQUIRE_FALSE(cache.contains("https://shop.example.com/item/43"));
    REQUIRE(cache.stats().disk_hits == 4);
}
