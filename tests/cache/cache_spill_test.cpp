// Disk overflow on real files: spill and reload, promotion, force_disk, the private directory's
// safety, the disk cap (oldest first), corrupt and missing files, persistent reopen, cleanup.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using namespace cachetest;

namespace {

std::string sv(const std::optional<Bytes>& b) { return b ? std::string(b->view()) : "<miss>"; }

std::vector<fs::path> spill_files(const Cache& c) { return files_in(c.spill_path()); }

// A cache that holds exactly `n` entries with 2-byte keys and 1000-byte values in memory, plus
// the index of up to 5 such entries on disk (a disk entry is charged less than a fifth of a
// memory entry, so dropping one never makes room for another in memory).
CacheOptions holding(std::size_t n, const TempDir& dir, std::size_t max_disk = 64_MiB) {
    Cache probe({.max_memory = 1_MiB, .max_disk = 0});
    const std::size_t charge = probe.entry_charge(2, 1000);
    const std::size_t on_disk = probe.disk_entry_charge(2);
    REQUIRE(5 * on_disk < charge);
    return {.max_memory = n * charge + 5 * on_disk, .max_disk = max_disk, .spill_dir = dir.str(), .shards = 1};
}

}  // namespace

TEST_CASE("evicted entries spill to disk and reload transparently, promoted back", "[cache]") {
    TempDir dir;
    Cache cache(holding(2, dir));
    for (int i = 0; i < 5; ++i) cache.set("k" + std::to_string(i), std::string_view(value_of(1000, char('a' + i))));
    auto st = cache.stats();
    REQUIRE(st.memory_items == 2);
    REQUIRE(st.disk_items == 3);
    REQUIRE(st.spills == 3);
    REQUIRE(st.evictions == 3);
    REQUIRE(st.disk_bytes == 3 * (kSpillHeader + 2 + 1000));
    REQUIRE(spill_files(cache).size() == 3);

    REQUIRE(sv(cache.get("k0")) == value_of(1000, 'a'));  // from disk, promoted
    st = cache.stats();
    REQUIRE(st.disk_hits == 1);
    REQUIRE(st.promotions == 1);
    REQUIRE(st.memory_items == 2);  // k0 in, the coldest (k3) out to disk
    REQUIRE(st.disk_items == 3);
    REQUIRE(spill_files(cache).size() == 3);
    for (int i = 0; i < 5; ++i) REQUIRE(sv(cache.get("k" + std::to_string(i))) == value_of(1000, char('a' + i)));
    REQUIRE(cache.stats().misses == 0);
    REQUIRE(cache.memory_bytes() <= cache.memory_limit());
}

TEST_CASE("force_disk writes straight to disk; oversize values go to disk", "[cache]") {
    TempDir dir;
    Cache cache(holding(2, dir));
    cache.set("f", std::string_view(value_of(1000, 'f')), {.force_disk = true});
    REQUIRE(cache.stats().disk_items == 1);
    REQUIRE(cache.stats().memory_items == 0);
    cache.set("huge", std::string_view(value_of(100000, 'h')));  // larger than the budget
    REQUIRE(cache.stats().disk_items == 2);
    Bytes out;
    Lookup l = cache.get_into("huge", {}, out);
    REQUIRE(l.found);
    REQUIRE(l.size == 100000);
    REQUIRE(out.view() == value_of(100000, 'h'));
    REQUIRE(cache.stats().disk_items == 2);  // too big to promote: stays on disk
    REQUIRE(sv(cache.get("f")) == value_of(1000, 'f'));
}

TEST_CASE("the spill directory is private and file names never come from keys", "[cache]") {
    TempDir dir;
    Cache cache(holding(30, dir));  // room for the index of a 10 KiB key
    const fs::path p = cache.spill_path();
    REQUIRE(p.parent_path() == dir.path());
    struct stat st{};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    REQUIRE(S_ISDIR(st.st_mode));
    REQUIRE((st.st_mode & 0777) == 0700);
    REQUIRE(st.st_uid == ::geteuid());
    std::vector<std::string> keys = {"../../escape", "/etc/passwd", std::string("n\0ul", 4), "..", "", std::string(10240, '/')};
    for (const auto& k : keys) cache.set(k, std::string_view(value_of(500, 'k')), {.force_disk = true});
    // <hex16>-<hex16>.spill, checked by hand: std::regex draws GCC 12 -Wmaybe-uninitialized
    // false positives from libstdc++ under ASan.
    auto is_spill_name = [](const std::string& n) {
        auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
        if (n.size() != 39 || n[16] != '-' || n.substr(33) != ".spill") return false;
        for (std::size_t i = 0; i < 33; ++i) {
            if (i != 16 && !hex(n[i])) return false;
        }
        return true;
    };
    REQUIRE(spill_files(cache).size() == keys.size());
    for (const auto& f : spill_files(cache)) REQUIRE(is_spill_name(f.filename().string()));
    REQUIRE(files_in(dir.path()) == std::vector<fs::path>{p});  // nothing escaped
    for (const auto& k : keys) REQUIRE(sv(cache.get(k)) == value_of(500, 'k'));
}

TEST_CASE("a damaged spill file is a counted miss, never wrong data", "[cache]") {
    TempDir dir;
    Cache cache(holding(2, dir));
    const std::string key = "victim";
    for (std::uint64_t offset : {kSpillHeader + 6 + 500, std::uint64_t{20}, kSpillHeader + 2}) {
        cache.set(key, std::string_view(value_of(1000, 'v')), {.force_disk = true});
        auto files = spill_files(cache);
        REQUIRE(files.size() == 1);
        flip_byte(files[0], offset);
        const auto before = cache.stats();
        REQUIRE_FALSE(cache.get(key));
        const auto after = cache.stats();
        REQUIRE(after.corrupt == before.corrupt + 1);
        REQUIRE(after.misses == before.misses + 1);
        REQUIRE(after.missing == 0);
        REQUIRE_FALSE(cache.contains(key));
        REQUIRE(spill_files(cache).empty());  // the bad file is gone
    }
    // A truncated file too.
    cache.set(key, std::string_view(value_of(1000, 'v')), {.force_disk = true});
    fs::resize_file(spill_files(cache)[0], 600);
    REQUIRE_FALSE(cache.get(key));
    REQUIRE(cache.stats().corrupt == 4);
}

TEST_CASE("a missing spill file is a counted miss", "[cache]") {
    TempDir dir;
    Cache cache(holding(2, dir));
    cache.set("gone", std::string_view(value_of(1000, 'g')), {.force_disk = true});
    fs::remove(spill_files(cache).at(0));
    REQUIRE_FALSE(cache.get("gone"));
    auto st = cache.stats();
    REQUIRE(st.missing == 1);
    REQUIRE(st.corrupt == 1);
    REQUIRE(st.misses == 1);
    REQUIRE(st.disk_items == 0);
    REQUIRE(st.disk_bytes == 0);
}

TEST_CASE("the disk cap removes the oldest files first", "[cache]") {
    TempDir dir;
    const std::size_t file = kSpillHeader + 2 + 1000;
    std::vector<std::pair<std::string, EvictCause>> events;
    CacheOptions o = holding(1, dir, 3 * file);
    o.listener = [&](const EvictionEvent& e) { events.emplace_back(std::string(e.key), e.cause); };
    Cache cache(o);
    for (int i = 0; i < 5; ++i) cache.set("d" + std::to_string(i), std::string_view(value_of(1000, 'd')), {.force_disk = true});
    auto st = cache.stats();
    REQUIRE(st.disk_items == 3);
    REQUIRE(st.disk_bytes == 3 * file);
    REQUIRE(st.disk_evictions == 2);
    REQUIRE_FALSE(cache.contains("d0"));
    REQUIRE_FALSE(cache.contains("d1"));
    for (const char* k : {"d2", "d3", "d4"}) REQUIRE(cache.contains(k));
    REQUIRE(events == std::vector<std::pair<std::string, EvictCause>>{{"d0", EvictCause::evicted}, {"d1", EvictCause::evicted}});
    REQUIRE(spill_files(cache).size() == 3);
}

TEST_CASE("cleanup and the destructor remove the spill directory", "[cache]") {
    TempDir dir;
    std::string first;
    {
        Cache cache(holding(1, dir));
        cache.set("a", std::string_view("x"), {.force_disk = true});
        first = cache.spill_path();
        REQUIRE(fs::exists(first));
        cache.cleanup();
        REQUIRE_FALSE(fs::exists(first));
        REQUIRE(cache.stats().items == 0);
        cache.set("b", std::string_view("y"), {.force_disk = true});  // still usable: a fresh directory
        REQUIRE(sv(cache.get("b")) == "y");
        first = cache.spill_path();
        REQUIRE(fs::exists(first));
    }
    REQUIRE_FALSE(fs::exists(first));
    REQUIRE(files_in(dir.path()).empty());
}

TEST_CASE("a persistent cache keeps its files and revalidates them when reopened", "[cache]") {
    TempDir dir;
    CacheOptions o = holding(2, dir);
    o.persistent = true;
    o.name = "reopen";
    {
        Cache a(o);
        for (int i = 0; i < 3; ++i) a.set("p" + std::to_string(i), std::string_view(value_of(1000, char('p' + i))), {.force_disk = true});
        a.set("mem", std::string_view(value_of(1000, 'm')));  // spilled at close
        REQUIRE_THROWS_WITH(Cache(o), Catch::Contains("another cache has it open"));
    }
    const fs::path pdir = dir.path() / "heapwise-cache.reopen";
    auto files = files_in(pdir);
    REQUIRE(files.size() == 4);
    flip_byte(files[1], kSpillHeader + 10);  // damage one entry
    { std::ofstream(pdir / "00000000000000aa-00000000000000bb.spill") << "not a spill file"; }
    { std::ofstream(pdir / "00000000000000aa-00000000000000cc.tmp") << "half written"; }
    { std::ofstream(pdir / "notes.txt") << "someone else's file"; }

    Cache b(o);
    auto st = b.stats();
    REQUIRE(st.disk_items == 3);
    REQUIRE(st.corrupt == 2);
    int found = 0;
    for (int i = 0; i < 3; ++i) {
        auto v = b.get("p" + std::to_string(i));
        if (v) {
            REQUIRE(v->view() == value_of(1000, char('p' + i)));
            ++found;
        }
    }
    auto m = b.get("mem");
    if (m) {
        REQUIRE(m->view() == value_of(1000, 'm'));
        ++found;
    }
    REQUIRE(found == 3);
    REQUIRE(fs::exists(pdir / "notes.txt"));
    REQUIRE_FALSE(fs::exists(pdir / "00000000000000aa-00000000000000cc.tmp"));
}

TEST_CASE("an unsafe persistent directory is refused", "[cache]") {
    TempDir dir;
    CacheOptions o = holding(1, dir);
    o.persistent = true;
    o.name = "unsafe";
    const fs::path p = dir.path() / "heapwise-cache.unsafe";
    TempDir elsewhere;
    fs::create_directory_symlink(elsewhere.path(), p);
    REQUIRE_THROWS_WITH(Cache(o), Catch::Contains("symbolic link"));
    fs::remove(p);
    fs::create_directory(p);
    fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    REQUIRE_THROWS_WITH(Cache(o), Catch::Contains("mode 0755"));
    fs::permissions(p, fs::perms::owner_all);
    if (::geteuid() == 0) {
        REQUIRE(::chown(p.c_str(), 65534, 65534) == 0);
        try {
            Cache c(o);
            FAIL("accepted a directory owned by another user");
        } catch (const CacheError& e) {
            REQUIRE(e.code() == CacheError::Code::spill_dir);
            REQUIRE_THAT(e.what(), Catch::Contains("owned by uid 65534"));
        }
        REQUIRE(::chown(p.c_str(), 0, 0) == 0);
    }
    Cache ok(o);
    REQUIRE(ok.spill_path() == p.string());
}

TEST_CASE("values on both sides of the inline limit spill, reload and are charged exactly", "[cache]") {
    // Values up to 2 KiB share the key's block; larger ones have their own (a caller's Bytes is
    // taken over). Every shape must round-trip through disk and back, and memory_bytes() must
    // be exactly the charges: in memory entry_charge, on disk disk_entry_charge.
    TempDir dir;
    Cache cache({.max_memory = 4_MiB, .spill_dir = dir.str(), .shards = 2});
    const std::vector<std::size_t> sizes = {0, 1, 2047, 2048, 2049, 5000, 70000};
    std::size_t in_memory = 0, on_disk = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const std::string v = value_of(sizes[i], char('a' + i));
        cache.set("s" + std::to_string(i), std::string_view(v));     // copied from a view
        cache.set("b" + std::to_string(i), Bytes(std::string_view(v)));  // a caller's buffer
        in_memory += 2 * cache.entry_charge(2, sizes[i]);
        on_disk += 2 * cache.disk_entry_charge(2);
    }
    REQUIRE(cache.memory_bytes() == in_memory);
    cache.spill_all("test");
    REQUIRE(cache.stats().memory_items == 0);
    REQUIRE(cache.stats().disk_items == 2 * sizes.size());
    REQUIRE(cache.memory_bytes() == on_disk);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        for (const char* p : {"s", "b"}) {
            const std::string key = p + std::to_string(i);
            REQUIRE(sv(cache.get(key)) == value_of(sizes[i], char('a' + i)));  // reloaded, promoted
            std::string buf(sizes[i] + 1, '\0');
            Lookup l = cache.get_into(key, std::as_writable_bytes(std::span<char>(buf)));
            REQUIRE(l.found);
            REQUIRE(l.size == sizes[i]);
            REQUIRE(buf.substr(0, sizes[i]) == value_of(sizes[i], char('a' + i)));
        }
    }
    REQUIRE(cache.stats().promotions == 2 * sizes.size());
    REQUIRE(cache.memory_bytes() == in_memory);  // promoted copies are charged like fresh sets
}
