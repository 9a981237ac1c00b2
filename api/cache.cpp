// heapwise::Cache, the public face: validates options and keys (clear std::invalid_argument
// messages), registers the cache for shrink_all_caches and forwards to CacheCore.
#include "heapwise/cache.hpp"

#include <cstdlib>
#include <limits>

#include "cache_core.hpp"
#include "cache_registry.hpp"

namespace heapwise {
namespace {

// Sizes above this are almost surely negative numbers converted to size_t.
constexpr std::size_t kMaxSaneSize = std::size_t{1} << 62;

[[noreturn]] void bad_option(const std::string& what) {
    throw std::invalid_argument("heapwise::Cache: " + what);
}

void check_size(const char* name, std::size_t v, bool zero_ok) {
    if (v == 0 && !zero_ok) bad_option(std::string(name) + " must be greater than 0");
    if (v > kMaxSaneSize) {
        bad_option(std::string(name) + " is " + std::to_string(v) +
                   " bytes: a negative number converted to an unsigned size?");
    }
}

CacheOptions validated(CacheOptions o) {
    check_size("max_memory", o.max_memory, false);
    check_size("max_disk", o.max_disk, true);
    if (o.shards > 4096) bad_option("shards must be at most 4096 (0 = automatic)");
    if (o.default_ttl.count() < 0) bad_option("default_ttl must not be negative");
    if (o.spill_dir.find('\0') != std::string::npos) bad_option("spill_dir contains a NUL byte");
    if (o.spill_dir.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        o.spill_dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    if (o.persistent) {
        if (o.max_disk == 0) bad_option("persistent needs max_disk > 0");
        bool ok = !o.name.empty() && o.name.size() <= 64 && o.name != "." && o.name != "..";
        for (char c : o.name) {
            ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
        }
        if (!ok) bad_option("name '" + o.name + "' must be 1-64 characters of [A-Za-z0-9._-]");
    }
    return o;
}

void check_key(std::string_view key) {
    if (key.size() > api::kMaxKey) {
        throw std::invalid_argument("heapwise::Cache: key of " + std::to_string(key.size()) +
                                    " bytes is not shorter than 2 GiB");
    }
}

}  // namespace

std::string_view to_string(EvictCause cause) noexcept {
    switch (cause) {
        case EvictCause::evicted: return "evicted";
        case EvictCause::spilled: return "spilled";
        case EvictCause::expired: return "expired";
        case EvictCause::removed: return "removed";
        case EvictCause::replaced: return "replaced";
        case EvictCause::pressure: return "pressure";
    }
    return "unknown";
}

Cache::Cache(CacheOptions options)
    : core_(std::make_shared<api::CacheCore>(validated(std::move(options)))) {
    api::register_cache(core_);
}

Cache::~Cache() {
    if (!core_) return;  // moved from
    api::unregister_cache(core_.get());
    core_->close();
}

Cache::Cache(Cache&&) noexcept = default;

Cache& Cache::operator=(Cache&& other) noexcept {
    if (this != &other) {
        if (core_) {
            api::unregister_cache(core_.get());
            core_->close();
        }
        core_ = std::move(other.core_);
    }
    return *this;
}

void Cache::set(std::string_view key, Bytes value, SetOptions options) {
    check_key(key);
    if (options.ttl.count() < 0) throw std::invalid_argument("heapwise::Cache::set: negative ttl");
    core_->set(key, value.span(), &value, options);
}

// Small values are copied straight into the entry's block: no intermediate buffer.
void Cache::set(std::string_view key, std::span<const std::byte> value, SetOptions options) {
    check_key(key);
    if (options.ttl.count() < 0) throw std::invalid_argument("heapwise::Cache::set: negative ttl");
    core_->set(key, value, nullptr, options);
}

void Cache::set(std::string_view key, std::string_view value, SetOptions options) {
    set(key, std::as_bytes(std::span<const char>(value.data(), value.size())), options);
}

std::optional<Bytes> Cache::get(std::string_view key) { return core_->get(key); }
std::optional<SharedBytes> Cache::get_shared(std::string_view key) {
    return core_->get_shared(key);
}

Lookup Cache::get_into(std::string_view key, std::span<std::byte> buf) {
    return core_->get_into(key, buf, nullptr);
}

Lookup Cache::get_into(std::string_view key, std::span<std::byte> buf, Bytes& overflow) {
    return core_->get_into(key, buf, &overflow);
}

Bytes Cache::get_or_load(std::string_view key, const std::function<Bytes()>& loader) {
    check_key(key);
    return core_->get_or_load(key, loader);
}

bool Cache::erase(std::string_view key) { return core_->erase(key); }
bool Cache::contains(std::string_view key) { return core_->contains(key); }
void Cache::clear() { core_->clear(); }
void Cache::cleanup() { core_->cleanup(); }
std::size_t Cache::purge_expired() { return core_->purge_expired(); }
CacheStats Cache::stats() const { return core_->stats(); }

std::size_t Cache::set_memory_limit(std::size_t bytes, std::string_view reason) {
    return core_->set_memory_limit(bytes, reason);
}
std::size_t Cache::memory_limit() const noexcept { return core_->memory_limit(); }
std::size_t Cache::max_memory() const noexcept { return core_->max_memory(); }
std::size_t Cache::memory_bytes() const noexcept { return core_->memory_bytes(); }
std::size_t Cache::spill_coldest(double fraction, std::string_view reason) {
    return core_->spill_coldest(fraction, reason);
}
std::size_t Cache::spill_all(std::string_view reason) { return core_->spill_all(reason); }
void Cache::set_listener(EvictionListener listener) { core_->set_listener(std::move(listener)); }
std::string Cache::spill_path() const { return core_->spill_path(); }
std::size_t Cache::entry_charge(std::size_t key_size, std::size_t value_size) const noexcept {
    return core_->entry_charge(key_size, value_size);
}
std::size_t Cache::disk_entry_charge(std::size_t key_size) const noexcept {
    return core_->disk_entry_charge(key_size);
}

}  // namespace heapwise
