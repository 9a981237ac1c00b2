// The spill file format: one file per entry, named "<key hash:16 hex>-<seq:16 hex>.spill",
// holding a fixed little-endian header, the key, then the value. The header carries its own
// CRC-32C and one over key+value, so a damaged, truncated or foreign file is never served.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace heapwise::api::spill {

inline constexpr std::uint32_t kMagic = 0x50535748;  // "HWSP" read as little-endian bytes
inline constexpr std::uint16_t kVersion = 1;

struct FileHeader {
    std::uint32_t magic;
    std::uint16_t version;
    std::uint16_t flags;          // 0
    std::uint32_t key_len;
    std::uint32_t reserved;       // 0
    std::uint64_t value_len;
    std::uint64_t seq;            // equals the seq in the file name
    std::int64_t expiry_unix_ns;  // 0 = no expiry; CLOCK_REALTIME so it survives restarts
    std::uint32_t payload_crc;    // crc32c of key then value
    std::uint32_t header_crc;     // crc32c of the 44 bytes above
};
static_assert(sizeof(FileHeader) == 48);
static_assert(std::is_trivially_copyable_v<FileHeader>);
inline constexpr std::size_t kHeaderCrcSpan = offsetof(FileHeader, header_crc);

inline std::string file_name(std::uint64_t hash, std::uint64_t seq, bool temporary = false) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%016llx-%016llx.%s", static_cast<unsigned long long>(hash),
                  static_cast<unsigned long long>(seq), temporary ? "tmp" : "spill");
    return buf;
}

struct ParsedName {
    std::uint64_t hash;
    std::uint64_t seq;
};

// Recognises exactly the names file_name() makes (not temporaries).
inline std::optional<ParsedName> parse_name(std::string_view name) {
    constexpr std::string_view kSuffix = ".spill";
    if (name.size() != 16 + 1 + 16 + kSuffix.size() || name[16] != '-' ||
        name.substr(33) != kSuffix) {
        return std::nullopt;
    }
    auto hex = [](std::string_view s, std::uint64_t& out) {
        out = 0;
        for (char c : s) {
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) return false;
            out = out << 4 | static_cast<std::uint64_t>(d);
        }
        return true;
    };
    ParsedName p{};
    if (!hex(name.substr(0, 16), p.hash) || !hex(name.substr(17, 16), p.seq)) return std::nullopt;
    return p;
}

}  // namespace heapwise::api::spill
