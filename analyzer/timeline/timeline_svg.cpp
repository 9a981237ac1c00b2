// The timeline as a self-contained SVG: presentation attributes only (no <style>, no scripts, no
// external fonts or links), so it renders the same in a browser, an image viewer or a CI
// artifact page. Axes use "nice" 1-2-5 steps in binary byte units and in ns/us/ms/s/min/h.
// Every piece of trace text (marker labels, the executable) is escaped and made valid UTF-8.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "analyzer/timeline/timeline.hpp"

namespace heapwise::analyzer {
namespace {

struct Unit {
    double size;
    const char* name;
};

struct Axis {
    Unit unit;
    double step = 1;  // in units
    double top = 1;   // in units: the axis ends here, a multiple of step
    double top_raw() const { return top * unit.size; }
};

// The smallest 1, 2 or 5 x 10^k that is >= raw.
double nice_step(double raw) {
    if (!(raw > 0)) return 1;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 5.0, 10.0}) {
        if (m * mag >= raw * (1 - 1e-9)) return m * mag;
    }
    return 10 * mag;
}

Axis make_axis(double max, Unit unit, double min_step) {
    Axis a{unit};
    const double in_units = std::max(max / unit.size, 1e-9);
    a.step = std::max(nice_step(in_units / 5), min_step);
    a.top = std::max(std::ceil(in_units / a.step - 1e-9), 1.0) * a.step;
    return a;
}

Unit byte_unit(double bytes) {
    static constexpr Unit kUnits[] = {{1, "B"}, {1024.0, "KiB"}, {1048576.0, "MiB"},
                                      {1073741824.0, "GiB"}, {1099511627776.0, "TiB"}};
    Unit u = kUnits[0];
    for (const Unit& c : kUnits) {
        if (bytes >= c.size) u = c;
    }
    return u;
}

Unit time_unit(double ns) {
    if (ns < 1e3) return {1, "ns"};
    if (ns < 1e6) return {1e3, "\u00b5s"};
    if (ns < 1e9) return {1e6, "ms"};
    if (ns < 600e9) return {1e9, "s"};
    if (ns < 36000e9) return {60e9, "min"};
    return {3600e9, "h"};
}

// "3.00 MiB", "512 B", "1.25 s": three significant digits in the best unit.
std::string human(double v, Unit u) {
    const double x = v / u.size;
    if (u.size == 1 && std::floor(x) == x) return fmt::format("{:.0f} {}", x, u.name);
    return fmt::format("{:.{}f} {}", x, x < 10 ? 2 : x < 100 ? 1 : 0, u.name);
}

std::string tick_label(double v, const char* unit) {
    return v == 0 ? std::string("0") : fmt::format("{:g} {}", v, unit);
}

// Valid UTF-8 with XML's special characters escaped; control bytes and invalid sequences become
// '?'. At most max_chars characters, then an ellipsis.
std::string xml_text(std::string_view s, std::size_t max_chars = 200) {
    std::string out;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < s.size();) {
        if (chars == max_chars) {
            out += "\u2026";
            break;
        }
        ++chars;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '<': out += "&lt;"; break;
                case '>': out += "&gt;"; break;
                case '&': out += "&amp;"; break;
                case '"': out += "&quot;"; break;
                case '\'': out += "&apos;"; break;
                default: out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
            }
            ++i;
            continue;
        }
        // Multi-byte: accept only well-formed, shortest-form sequences outside the surrogates.
        const std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        bool ok = n > 0 && i + n <= s.size() && c < 0xf5;
        std::uint32_t cp = n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
        for (std::size_t k = 1; ok && k < n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            ok = (cc & 0xc0) == 0x80;
            cp = (cp << 6) | (cc & 0x3f);
        }
        ok = ok && !(n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) &&
             !(n == 4 && (cp < 0x10000 || cp > 0x10ffff));
        if (ok) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += '?';
            ++i;
        }
    }
    return out;
}

std::string file_name(std::string_view path) {
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

std::string timeline_svg(const Timeline& t, const SvgOptions& options) {
    const double width = std::max(options.width, 320);
    const double height = std::max(options.height, 200);
    const double left = 84, right = width - 24, top = 64, bottom = height - 48;
    const double max_bytes = static_cast<double>(std::max({t.peak_bytes, t.max_rss_bytes, std::uint64_t{1}}));
    const double duration = static_cast<double>(std::max<std::uint64_t>(t.duration_ns, 1));
    const Axis y_axis = make_axis(max_bytes, byte_unit(max_bytes), 0);
    const Unit tu = time_unit(duration);
    const Axis x_axis = make_axis(duration, tu, tu.size == 1 ? 1 : 0);
    auto px = [&](std::uint64_t ns) {
        return left + static_cast<double>(ns) / x_axis.top_raw() * (right - left);
    };
    auto py = [&](std::uint64_t bytes) {
        return bottom - static_cast<double>(bytes) / y_axis.top_raw() * (bottom - top);
    };

    std::string out;
    auto put = [&out](fmt::string_view format, auto&&... args) {
        fmt::vformat_to(std::back_inserter(out), format, fmt::make_format_args(args...));
    };
    const std::string title =
        options.title.empty()
            ? fmt::format("heap over time: {} (pid {})", t.exe.empty() ? "unknown" : file_name(t.exe), t.pid)
            : options.title;
    put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    put("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n", width, height);
    put("<title>{}</title>\n", xml_text(title));
    put("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width, height);
    put("<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n", width / 2,
        xml_text(title));

    const Unit bu = byte_unit(static_cast<double>(std::max<std::uint64_t>(t.peak_bytes, 1)));
    std::string facts = fmt::format("peak {} at {}, at end {}", human(static_cast<double>(t.peak_bytes), bu),
                                    human(static_cast<double>(t.peak_time_ns), time_unit(static_cast<double>(t.peak_time_ns))),
                                    human(static_cast<double>(t.end_bytes), byte_unit(static_cast<double>(t.end_bytes))));
    if (t.rss_samples > 0) {
        facts += fmt::format(", max RSS {}", human(static_cast<double>(t.max_rss_bytes),
                                                  byte_unit(static_cast<double>(t.max_rss_bytes))));
    }
    facts += fmt::format(", {} heap events", t.heap_events);
    if (t.estimated) facts += "; sampled trace: heap sizes are estimates";
    if (t.lost_events > 0) facts += fmt::format("; {} events lost", t.lost_events);
    if (t.damaged > 0) facts += fmt::format("; {} damaged places skipped", t.damaged);
    put("<text x=\"{}\" y=\"38\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555555\">{}</text>\n",
        width / 2, xml_text(facts, 400));

    // Grid and axes.
    put("<g id=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n");
    for (double v = y_axis.step; v <= y_axis.top * (1 + 1e-9); v += y_axis.step) {
        const double y = py(static_cast<std::uint64_t>(std::llround(v * y_axis.unit.size)));
        put("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>\n", left, y, right, y);
    }
    put("</g>\n<g id=\"axes\" stroke=\"#333333\" stroke-width=\"1\" font-size=\"11\" fill=\"#333333\">\n");
    put("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", left, top, bottom);
    put("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>\n", left, bottom, right);
    for (double v = 0; v <= y_axis.top * (1 + 1e-9); v += y_axis.step) {
        const double y = bottom - v / y_axis.top * (bottom - top);
        put("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" stroke=\"none\">{}</text>\n", left - 6,
            y + 4, xml_text(tick_label(v, y_axis.unit.name)));
    }
    for (double v = 0; v <= x_axis.top * (1 + 1e-9); v += x_axis.step) {
        const double x = left + v / x_axis.top * (right - left);
        put("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", x, bottom, bottom + 4);
        put("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" stroke=\"none\">{}</text>\n", x,
            bottom + 17, xml_text(tick_label(v, x_axis.unit.name)));
    }
    put("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" stroke=\"none\">time since start</text>\n",
        (left + right) / 2, height - 8);
    put("<text x=\"16\" y=\"{0:.1f}\" text-anchor=\"middle\" stroke=\"none\" transform=\"rotate(-90 16 {0:.1f})\">"
        "bytes</text>\n</g>\n", (top + bottom) / 2);

    // Markers: every kept marker is a line; labels only where they do not overlap the last one.
    put("<g id=\"markers\" stroke=\"#7a7a7a\" stroke-width=\"1\" stroke-dasharray=\"4 3\" "
        "font-size=\"10\" fill=\"#555555\">\n");
    double last_label_x = -1e9;
    for (const TimelineMarker& m : t.markers) {
        const double x = px(m.time_ns);
        put("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", x, top, bottom);
        if (x - last_label_x < 12) continue;
        last_label_x = x;
        put("<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"end\" stroke=\"none\" "
            "transform=\"rotate(-90 {0:.1f} {1:.1f})\">{2}</text>\n", x - 3, top + 4, xml_text(m.label, 40));
    }
    put("</g>\n");

    auto polyline = [&](const char* id, const char* color, auto&& points) {
        put("<polyline id=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" stroke-linejoin=\"round\" points=\"",
            id, color);
        bool first = true;
        for (const auto& [time_ns, bytes] : points) {
            put("{}{:.1f},{:.1f}", first ? "" : " ", px(time_ns), py(bytes));
            first = false;
        }
        put("\"/>\n");
    };
    std::vector<std::pair<std::uint64_t, std::uint64_t>> rss_points;
    for (const RssSample& s : t.rss) rss_points.emplace_back(s.time_ns, s.rss_bytes);
    // The heap is drawn as steps: it holds its value until the next event changes it (a straight
    // line from the empty start to the first allocation would invent a slow rise).
    std::vector<std::pair<std::uint64_t, std::uint64_t>> heap_points;
    for (const HeapPoint& p : t.heap) {
        if (!heap_points.empty()) heap_points.emplace_back(p.time_ns, heap_points.back().second);
        heap_points.emplace_back(p.time_ns, p.heap_bytes);
    }
    if (!rss_points.empty()) polyline("rss", "#e07b00", rss_points);
    polyline("heap", "#1f5fbf", heap_points);

    // The peak: a dot and its label, kept inside the plot.
    const double peak_x = px(t.peak_time_ns);
    const double peak_y = py(t.peak_bytes);
    const bool label_left = peak_x > right - 240;
    const double label_y = peak_y - 8 < top + 12 ? peak_y + 18 : peak_y - 8;
    put("<g id=\"peak\" fill=\"#c0392b\">\n<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\"/>\n", peak_x, peak_y);
    put("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" font-size=\"12\">peak {} at {}</text>\n</g>\n",
        label_left ? peak_x - 8 : peak_x + 8, label_y, label_left ? "end" : "start",
        xml_text(human(static_cast<double>(t.peak_bytes), bu)),
        xml_text(human(static_cast<double>(t.peak_time_ns), time_unit(static_cast<double>(t.peak_time_ns)))));

    // Legend, above the plot on the left.
    put("<g id=\"legend\" font-size=\"11\">\n");
    put("<line x1=\"{0:.1f}\" y1=\"52\" x2=\"{1:.1f}\" y2=\"52\" stroke=\"#1f5fbf\" stroke-width=\"2\"/>\n", left, left + 20);
    put("<text x=\"{:.1f}\" y=\"56\">heap (live bytes{})</text>\n", left + 26,
        t.heap_bucket_ns > 1 ? ", bucket maxima" : "");
    put("<line x1=\"{0:.1f}\" y1=\"52\" x2=\"{1:.1f}\" y2=\"52\" stroke=\"#e07b00\" stroke-width=\"2\"/>\n",
        left + 220, left + 240);
    put("<text x=\"{:.1f}\" y=\"56\">{}</text>\n", left + 246,
        t.rss_samples > 0 ? "RSS (resident set)" : "RSS: no samples in the trace");
    if (t.markers_total > t.markers.size()) {
        put("<text x=\"{:.1f}\" y=\"56\" text-anchor=\"end\">first {} of {} markers shown</text>\n", right,
            t.markers.size(), t.markers_total);
    }
    put("</g>\n</svg>\n");
    return out;
}

}  // namespace heapwise::analyzer
