// The effective memory limit of this process's cgroup: find the cgroup (/proc/self/cgroup), find
// where its hierarchy is mounted (/proc/self/mountinfo), then walk from the process's cgroup up
// to the mount's root taking the smallest memory.max / memory.high (v2) or
// memory.limit_in_bytes (v1). On the sampling path: stack buffers only, never allocates or throws.
#include <cstring>
#include <mutex>

#include "cgroup.hpp"
#include "heapwise/memory.hpp"
#include "memory_read.hpp"

namespace heapwise {

using api::PathBuf;

namespace {

// Splits off the next space-separated field of a mountinfo line.
std::string_view next_field(std::string_view& s) {
    std::size_t b = s.find_first_not_of(' ');
    if (b == std::string_view::npos) {
        s = {};
        return {};
    }
    s.remove_prefix(b);
    std::size_t e = s.find(' ');
    std::string_view f = s.substr(0, e);
    s = e == std::string_view::npos ? std::string_view{} : s.substr(e);
    return f;
}

bool has_item(std::string_view list, std::string_view item) {
    while (!list.empty()) {
        std::size_t c = list.find(',');
        if (list.substr(0, c) == item) return true;
        if (c == std::string_view::npos) break;
        list.remove_prefix(c + 1);
    }
    return false;
}

struct Location {
    PathBuf dir;                  // root + mount point + the cgroup's path below the mount root
    std::size_t mount_len = 0;    // length of root + mount point inside dir
    CgroupVersion version = CgroupVersion::none;
};

// Where the process's memory cgroup lives. A v1 memory controller wins over v2: on a hybrid
// system the unified hierarchy then has no memory controller.
bool locate(std::string_view root, Location& loc, bool v2_only = false) {
    char v1_path[PathBuf::kPathMax] = {}, v2_path[PathBuf::kPathMax] = {};
    bool has_v1 = false, has_v2 = false;
    PathBuf p;
    p.add(root).add("/proc/self/cgroup");
    if (!p.ok()) return false;
    api::for_each_line(p.c_str(), [&](std::string_view line) {
        // "hierarchy-id:controller-list:path"; v2 is "0::path".
        std::size_t a = line.find(':');
        std::size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
        if (b == std::string_view::npos) return true;
        std::string_view controllers = line.substr(a + 1, b - a - 1);
        std::string_view path = line.substr(b + 1);
        if (path.size() >= PathBuf::kPathMax) return true;
        if (has_item(controllers, "memory") && !v2_only) {
            std::memcpy(v1_path, path.data(), path.size());
            has_v1 = true;
        } else if (controllers.empty() && line.substr(0, a) == "0") {
            std::memcpy(v2_path, path.data(), path.size());
            has_v2 = true;
        }
        return true;
    });
    if (!has_v1 && !has_v2) return false;

    // Mount roots and points of the candidate hierarchies; the longest matching root wins
    // when a hierarchy is mounted more than once.
    char mount_point[PathBuf::kPathMax] = {}, mount_root[PathBuf::kPathMax] = {};
    std::size_t best_root = 0;
    bool found = false;
    CgroupVersion found_version = CgroupVersion::none;
    p.truncate(root.size());
    p.add("/proc/self/mountinfo");
    if (!p.ok()) return false;
    api::for_each_line(p.c_str(), [&](std::string_view line) {
        std::string_view rest = line;
        next_field(rest);  // mount id
        next_field(rest);  // parent id
        next_field(rest);  // major:minor
        std::string_view mroot = next_field(rest);
        std::string_view mpoint = next_field(rest);
        std::string_view f;
        do f = next_field(rest);  // mount options, then optional fields up to "-"
        while (!f.empty() && f != "-");
        std::string_view fstype = next_field(rest);
        next_field(rest);  // source
        std::string_view super = next_field(rest);
        CgroupVersion v = CgroupVersion::none;
        if (has_v1 && fstype == "cgroup" && has_item(super, "memory")) v = CgroupVersion::v1;
        else if (!has_v1 && has_v2 && fstype == "cgroup2") v = CgroupVersion::v2;
        if (v == CgroupVersion::none) return true;
        if (mroot.size() >= PathBuf::kPathMax || mpoint.size() >= PathBuf::kPathMax) return true;
        std::string_view cg = v == CgroupVersion::v1 ? v1_path : v2_path;
        bool matches = mroot == "/" || cg.substr(0, mroot.size()) == mroot;
        std::size_t score = matches ? mroot.size() + 1 : 0;
        if (!found || score > best_root) {
            std::memset(mount_point, 0, sizeof mount_point);
            std::memset(mount_root, 0, sizeof mount_root);
            std::memcpy(mount_point, mpoint.data(), mpoint.size());
            std::memcpy(mount_root, mroot.data(), mroot.size());
            best_root = score;
            found = true;
            found_version = v;
        }
        return true;
    });
    if (!found) return false;

    std::string_view cg = found_version == CgroupVersion::v1 ? v1_path : v2_path;
    std::string_view mroot = mount_root;
    std::string_view rel;
    // The process's path is relative to its cgroup namespace; below the mount's root it names a
    // directory under the mount point. A path outside the mount's root (a namespace that does
    // not match the mount) leaves only the mount point itself to read.
    if (mroot == "/") rel = cg;
    else if (cg.substr(0, mroot.size()) == mroot) rel = cg.substr(mroot.size());
    while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
    if (rel.find("/..") != std::string_view::npos) rel = {};
    std::string_view mp = mount_point;
    while (mp.size() > 1 && mp.back() == '/') mp.remove_suffix(1);
    if (mp == "/") mp = {};
    loc.dir.add(root).add(mp);
    loc.mount_len = loc.dir.size();
    if (!rel.empty() && rel.front() != '/') loc.dir.add("/");
    loc.dir.add(rel);
    loc.version = found_version;
    return loc.dir.ok();
}

// Reads one limit file in dir; updates the running minimum.
void consider(PathBuf& dir, std::string_view file, Source src, int depth, ContainerMemory& out,
              std::size_t& limit_dir_len, std::size_t dir_len) {
    dir.truncate(dir_len);
    dir.add(file);
    std::uint64_t v = 0;
    bool unlimited = false;
    if (!dir.ok() || !api::read_limit_file(dir.c_str(), v, unlimited) || unlimited) return;
    if (out.limit == 0 || v < out.limit) {
        out.limit = v;
        out.limit_source = src;
        out.limit_depth = depth;
        limit_dir_len = dir_len;
    }
}

// The last location found, keyed by root and the content of /proc/self/cgroup: reading that
// small file costs far less than parsing mountinfo, and it changes when the process moves to
// another cgroup. (A cgroup hierarchy remounted elsewhere while we run goes unnoticed.)
struct LocationCache {
    std::mutex mu;
    bool valid = false;
    char root[PathBuf::kPathMax] = {};
    char cgroup[4096] = {};
    long cgroup_len = 0;
    Location loc;
};

LocationCache& location_cache() {
    static LocationCache* c = new LocationCache;  // never destroyed: samplers may outlive statics
    return *c;
}

bool locate_cached(std::string_view root, Location& loc) {
    PathBuf p;
    p.add(root).add("/proc/self/cgroup");
    char text[4096];
    long n = p.ok() ? api::read_small_file(p.c_str(), text, sizeof text) : -1;
    bool cacheable = n > 0 && n < static_cast<long>(sizeof text) - 1 && root.size() < PathBuf::kPathMax;
    LocationCache& c = location_cache();
    if (cacheable) {
        std::lock_guard g(c.mu);
        if (c.valid && c.cgroup_len == n && std::memcmp(c.cgroup, text, static_cast<std::size_t>(n)) == 0 &&
            root == std::string_view(c.root)) {
            loc = c.loc;
            return true;
        }
    }
    if (!locate(root, loc)) return false;
    if (cacheable) {
        std::lock_guard g(c.mu);
        std::memcpy(c.cgroup, text, static_cast<std::size_t>(n));
        c.cgroup_len = n;
        std::memset(c.root, 0, sizeof c.root);
        std::memcpy(c.root, root.data(), root.size());
        c.loc = loc;
        c.valid = true;
    }
    return true;
}

}  // namespace

bool read_container_memory(std::string_view root, ContainerMemory& out) noexcept {
    Location loc;
    if (!locate_cached(root, loc)) return false;
    out.version = loc.version;
    PathBuf& dir = loc.dir;
    const PathBuf leaf = loc.dir;  // the walk truncates dir; the usage is read below it again
    std::size_t leaf_len = dir.size();
    std::size_t limit_dir_len = leaf_len;
    std::size_t len = leaf_len;
    for (int depth = 0;; ++depth) {
        if (loc.version == CgroupVersion::v2) {
            consider(dir, "/memory.max", Source::cgroup_v2_max, depth, out, limit_dir_len, len);
            consider(dir, "/memory.high", Source::cgroup_v2_high, depth, out, limit_dir_len, len);
        } else {
            consider(dir, "/memory.limit_in_bytes", Source::cgroup_v1_limit, depth, out,
                     limit_dir_len, len);
        }
        if (len <= loc.mount_len) break;
        dir.truncate(len);
        std::size_t slash = dir.view().rfind('/');
        if (slash == std::string_view::npos || slash < loc.mount_len) slash = loc.mount_len;
        len = slash;
    }

    // Usage of the cgroup whose limit binds: that is the charge the limit is compared with.
    dir = leaf;
    dir.truncate(limit_dir_len);
    bool v2 = loc.version == CgroupVersion::v2;
    dir.add(v2 ? "/memory.current" : "/memory.usage_in_bytes");
    char buf[64];
    std::uint64_t raw = 0;
    if (!dir.ok() || api::read_small_file(dir.c_str(), buf, sizeof buf) <= 0 ||
        !api::parse_u64(buf, raw))
        return true;
    dir.truncate(limit_dir_len);
    dir.add("/memory.stat");
    // v1's memory.stat has both the cgroup's own inactive_file and the hierarchical
    // total_inactive_file; usage_in_bytes is hierarchical, so the total is the one to subtract.
    std::string_view key = v2 ? "inactive_file " : "total_inactive_file ";
    std::uint64_t inactive = 0;
    if (dir.ok()) {
        api::for_each_line(dir.c_str(), [&](std::string_view line) {
            if (line.substr(0, key.size()) != key) return true;
            api::parse_u64(line.substr(key.size()), inactive);
            return false;
        });
    }
    out.usage_raw = raw;
    out.usage = inactive < raw ? raw - inactive : 0;
    out.usage_source = v2 ? Source::cgroup_v2_current : Source::cgroup_v1_usage;
    return true;
}

std::string memory_cgroup_dir(std::string_view root, CgroupVersion* version) {
    Location loc;
    if (!locate(root, loc)) return {};
    if (version) *version = loc.version;
    return std::string(loc.dir.view());
}

}  // namespace heapwise

namespace heapwise::api {

std::string cgroup_v2_dir(std::string_view root) {
    Location loc;
    if (!locate(root, loc, true) || loc.version != CgroupVersion::v2) return {};
    return std::string(loc.dir.view());
}

}  // namespace heapwise::api
