// Parsing of the facts the test programs print (see facts.hpp and programs/report.h).
#include "facts.hpp"

#include <charconv>
#include <sstream>
#include <stdexcept>

namespace heapwise::e2e {

std::uint64_t parse_u64(std::string_view s) {
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        s.remove_prefix(2);
        base = 16;
    }
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) {
        throw std::runtime_error("not a number: '" + std::string(s) + "'");
    }
    return v;
}

Facts::Facts(std::string_view out) {
    std::istringstream in{std::string(out)};
    std::string line;
    while (std::getline(in, line)) {
        const auto sp = line.find(' ');
        std::string key = line.substr(0, sp);
        std::string rest = sp == std::string::npos ? std::string() : line.substr(sp + 1);
        ordered_.emplace_back(key, rest);
        lines_.emplace(std::move(key), std::move(rest));
    }
}

std::vector<std::string> Facts::all(std::string_view key) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : ordered_) {
        if (k == key) out.push_back(v);
    }
    return out;
}

std::string Facts::one(std::string_view key) const {
    const auto v = all(key);
    if (v.size() != 1) {
        throw std::runtime_error("expected one line '" + std::string(key) + " ...', found " +
                                 std::to_string(v.size()));
    }
    return v.front();
}

std::uint64_t Facts::num(std::string_view key) const { return parse_u64(one(key)); }

std::vector<std::uint64_t> Facts::ptrs(std::string_view name) const {
    std::vector<std::uint64_t> out;
    for (const auto& v : all("ptr")) {
        const auto sp = v.find(' ');
        if (sp != std::string::npos && std::string_view(v).substr(0, sp) == name) {
            out.push_back(parse_u64(v.substr(sp + 1)));
        }
    }
    return out;
}

std::uint64_t Facts::ptr(std::string_view name) const {
    const auto v = ptrs(name);
    if (v.size() != 1) {
        throw std::runtime_error("expected one line 'ptr " + std::string(name) + " ...', found " +
                                 std::to_string(v.size()));
    }
    return v.front();
}

AddrRange Facts::range(std::string_view function) const {
    for (const auto& v : all("range")) {
        std::istringstream s(v);
        std::string name, lo, hi;
        s >> name >> lo >> hi;
        if (name == function) return {parse_u64(lo), parse_u64(hi)};
    }
    throw std::runtime_error("no line 'range " + std::string(function) + " ...'");
}

std::vector<AddrRange> Facts::exe() const {
    std::vector<AddrRange> out;
    for (const auto& v : all("exe")) {
        std::istringstream s(v);
        std::string lo, hi;
        s >> lo >> hi;
        out.push_back({parse_u64(lo), parse_u64(hi)});
    }
    if (out.empty()) throw std::runtime_error("no line 'exe ...'");
    return out;
}

}  // namespace heapwise::e2e
