// Codecs for heapwise::TypedCache<T>: a codec turns a T into Bytes and back. Provided: strings,
// Bytes themselves, and trivially copyable types (stored as their object representation).
// A user codec is any type with static `encode(const T&) -> Bytes` and
// `decode(std::span<const std::byte>) -> T` (decode may throw on malformed input).
#pragma once

#include <concepts>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "heapwise/bytes.hpp"

namespace heapwise {

template <class C, class T>
concept CodecFor = requires(const T& value, std::span<const std::byte> data) {
    { C::encode(value) } -> std::convertible_to<Bytes>;
    { C::decode(data) } -> std::convertible_to<T>;
};

template <class T>
struct Codec;  // specialise for your own T, or pass a codec type to TypedCache

template <>
struct Codec<std::string> {
    static Bytes encode(const std::string& s) { return Bytes(std::string_view(s)); }
    static std::string decode(std::span<const std::byte> d) {
        return std::string(reinterpret_cast<const char*>(d.data()), d.size());
    }
};

template <>
struct Codec<Bytes> {
    static Bytes encode(const Bytes& b) { return b; }
    static Bytes decode(std::span<const std::byte> d) { return Bytes(d); }
};

// Object representation, same process layout only (a persistent cache read by another build of
// the program must use a real serialisation instead).
template <class T>
    requires std::is_trivially_copyable_v<T>
struct Codec<T> {
    static Bytes encode(const T& v) {
        return Bytes(std::span<const std::byte>(reinterpret_cast<const std::byte*>(&v), sizeof v));
    }
    static T decode(std::span<const std::byte> d) {
        if (d.size() != sizeof(T)) {
            throw std::invalid_argument("heapwise::Codec: stored value has " +
                                        std::to_string(d.size()) + " bytes, the type needs " +
                                        std::to_string(sizeof(T)));
        }
        T v;
        std::memcpy(&v, d.data(), sizeof v);
        return v;
    }
};

}  // namespace heapwise
