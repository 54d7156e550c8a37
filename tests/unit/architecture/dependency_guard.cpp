#include "dependency_guard.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <tuple>

namespace fs = std::filesystem;

namespace veil::architecture {
namespace {

// Each direct subfolder of these is a unit.
constexpr std::array<std::string_view, 4> kUnitRoots{"plugins", "transports", "storage", "frontends"};
// Not units, but they may include no unit's header either.
constexpr std::array<std::string_view, 2> kCoreParts{"sdk", "kernel"};
constexpr std::array<std::string_view, 10> kSourceExtensions{".h",   ".hh",  ".hpp", ".hxx", ".c",
                                                             ".cc",  ".cpp", ".cxx", ".ipp", ".inl"};

bool contains(const auto& list, std::string_view value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

// Is `path` equal to `dir` or below it? Both relative, with '/' separators.
bool is_within(std::string_view path, std::string_view dir) {
    return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

std::string folder_name(std::string_view unit) {
    return std::string(unit.substr(unit.rfind('/') + 1));
}

// A part in words: "unit plugins/messenger", or "sdk" / "kernel".
std::string describe(std::string_view part) {
    return contains(kCoreParts, part) ? std::string(part) : "unit " + std::string(part);
}

// The name in `#include "name"`, if the line is one.
std::optional<std::string> quoted_include(std::string_view line) {
    auto skip_blanks = [&] {
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    };
    skip_blanks();
    if (!line.starts_with('#')) return std::nullopt;
    line.remove_prefix(1);
    skip_blanks();
    if (!line.starts_with("include")) return std::nullopt;
    line.remove_prefix(7);
    skip_blanks();
    if (!line.starts_with('"')) return std::nullopt;
    line.remove_prefix(1);
    auto end = line.find('"');
    if (end == std::string_view::npos || end == 0) return std::nullopt;
    return std::string(line.substr(0, end));
}

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (auto tab = line.find('\t'); tab != std::string::npos; tab = line.find('\t', start)) {
        fields.push_back(line.substr(start, tab - start));
        start = tab + 1;
    }
    fields.push_back(line.substr(start));
    return fields;
}

// The checked tree: where it is and which parts it has.
class Tree final {
public:
    explicit Tree(const fs::path& root) : root_(fs::weakly_canonical(root)) {
        for (auto base : kUnitRoots) {
            std::error_code ec;
            for (const auto& entry : fs::directory_iterator(root_ / base, ec)) {
                auto name = entry.path().filename().string();
                if (entry.is_directory() && !name.starts_with('.')) units_.push_back(std::string(base) + "/" + name);
            }
        }
        std::sort(units_.begin(), units_.end());
    }

    [[nodiscard]] const fs::path& root() const { return root_; }
    [[nodiscard]] const std::vector<std::string>& units() const { return units_; }
    [[nodiscard]] bool is_unit(std::string_view part) const { return contains(units_, part); }

    // The part a relative path lies in: a unit, "sdk", "kernel", or "" (tests, docs, the build...).
    [[nodiscard]] std::string part_of(std::string_view rel) const {
        for (const auto& unit : units_)
            if (is_within(rel, unit)) return unit;
        for (auto core : kCoreParts)
            if (is_within(rel, core)) return std::string(core);
        return {};
    }

    // `p` (absolute, or relative to the root) relative to the root: "" for the root itself,
    // nullopt when outside the tree.
    [[nodiscard]] std::optional<std::string> relative(const fs::path& p) const {
        auto full = p.is_absolute() ? fs::weakly_canonical(p) : (root_ / p).lexically_normal();
        auto rel = full.lexically_relative(root_).generic_string();
        if (rel == ".") return std::string();
        if (rel.empty() || rel == ".." || rel.starts_with("../")) return std::nullopt;
        if (rel.ends_with('/')) rel.pop_back();
        return rel;
    }

private:
    fs::path root_;
    std::vector<std::string> units_;  // "plugins/messenger", sorted
};

// The unit another part's `#include "name"` reaches, or "" when the include is allowed.
// `file_dir` is the including file's folder, relative to the root.
std::string reached_unit(const Tree& tree, const std::string& file_dir, const std::string& own,
                         const std::string& name) {
    if (name.starts_with("veil/")) return {};  // the SDK's public headers

    // Where a compiler could find it: beside the file, in any unit, under any root of units.
    std::vector<std::string> bases{file_dir};
    bases.insert(bases.end(), tree.units().begin(), tree.units().end());
    bases.insert(bases.end(), kUnitRoots.begin(), kUnitRoots.end());
    bases.emplace_back();
    std::string other;
    for (const auto& base : bases) {
        auto candidate = (tree.root() / base / name).lexically_normal();
        std::error_code ec;
        if (!fs::is_regular_file(candidate, ec)) continue;
        auto rel = tree.relative(candidate);
        if (!rel) continue;
        auto part = tree.part_of(*rel);
        if (part == own) return {};  // its own header wins wherever else the name exists
        if (other.empty() && tree.is_unit(part)) other = part;
    }
    if (!other.empty()) return other;

    // "directory/manifest.hpp" names the directory unit even where no such file is found.
    auto slash = name.find('/');
    if (slash == std::string::npos) return {};
    auto first = name.substr(0, slash);
    if (tree.is_unit(own) && folder_name(own) == first) return {};
    for (const auto& unit : tree.units())
        if (unit != own && folder_name(unit) == first) return unit;
    return {};
}

bool is_source(const fs::path& p) {
    return contains(kSourceExtensions, p.extension().string());
}

// Every C/C++ file in a part, sorted, relative to the root.
std::vector<std::string> sources_in(const Tree& tree, const std::string& part) {
    std::vector<std::string> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(tree.root() / part, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        auto name = it->path().filename().string();
        if (it->is_directory() && name.starts_with('.')) {
            it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file() && is_source(it->path()))
            files.push_back(it->path().lexically_relative(tree.root()).generic_string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

void check_includes(const Tree& tree, std::vector<Violation>& out) {
    std::vector<std::string> parts = tree.units();
    for (auto core : kCoreParts) parts.emplace_back(core);
    for (const auto& part : parts) {
        for (const auto& file : sources_in(tree, part)) {
            std::ifstream in(tree.root() / file);
            auto dir = fs::path(file).parent_path().generic_string();
            std::string line;
            for (int number = 1; std::getline(in, line); ++number) {
                auto name = quoted_include(line);
                if (!name) continue;
                auto unit = reached_unit(tree, dir, part, *name);
                if (!unit.empty()) out.push_back({ViolationKind::kInclude, file, number, part, *name, unit});
            }
        }
    }
}

void check_link_graph(const Tree& tree, const fs::path& link_graph, std::vector<Violation>& out) {
    std::ifstream in(link_graph);
    if (!in) throw std::runtime_error("cannot read the link graph " + link_graph.string());
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line.starts_with('#')) continue;
        auto fields = split_tabs(line);
        auto malformed = [&] {
            return std::runtime_error(link_graph.string() + ":" + std::to_string(number) + ": malformed line");
        };
        if (fields.size() < 3) throw malformed();
        auto from_dir = tree.relative(fields[2]);
        auto from_part = from_dir ? tree.part_of(*from_dir) : std::string();
        if (fields[0] == "link" && fields.size() == 5) {
            // The kernel links the plugins of a static build (VEIL_STATIC_PLUGINS) by design.
            if (from_part.empty() || from_part == "kernel") continue;
            auto to_dir = tree.relative(fields[4]);
            auto to_part = to_dir ? tree.part_of(*to_dir) : std::string();
            if (tree.is_unit(to_part) && to_part != from_part)
                out.push_back({ViolationKind::kLink, fields[1], 0, from_part, fields[3], to_part});
        } else if (fields[0] == "include_dir" && fields.size() == 4) {
            if (from_part.empty()) continue;
            auto dir = tree.relative(fields[3]);
            if (!dir) continue;  // outside the tree: a system or third-party folder
            if (dir->empty() || contains(kUnitRoots, *dir)) {
                auto shown = dir->empty() ? std::string(".") : *dir;
                out.push_back({ViolationKind::kIncludeDir, fields[1], 0, from_part, shown, shown});
                continue;
            }
            auto to_part = tree.part_of(*dir);
            if (tree.is_unit(to_part) && to_part != from_part)
                out.push_back({ViolationKind::kIncludeDir, fields[1], 0, from_part, *dir, to_part});
        } else {
            throw malformed();
        }
    }
}

}  // namespace

std::string Violation::message() const {
    switch (kind) {
        case ViolationKind::kInclude:
            return from + ":" + std::to_string(line) + ": includes \"" + what + "\" from unit " + to_part;
        case ViolationKind::kLink:
            return "target " + from + " (" + describe(from_part) + ") links target " + what + " (unit " +
                   to_part + ")";
        case ViolationKind::kIncludeDir:
            if (to_part == "." || contains(kUnitRoots, to_part))
                return "target " + from + " (" + describe(from_part) + ") has include directory " + what +
                       " (a root above every unit's headers)";
            return "target " + from + " (" + describe(from_part) + ") has include directory " + what +
                   " (in unit " + to_part + ")";
    }
    return "unknown violation";
}

std::vector<Violation> check_tree(const fs::path& root, const fs::path& link_graph) {
    Tree tree(root);
    std::vector<Violation> out;
    check_includes(tree, out);
    if (!link_graph.empty()) check_link_graph(tree, link_graph, out);

    auto key = [](const Violation& v) { return std::tie(v.kind, v.from, v.line, v.what, v.to_part); };
    std::sort(out.begin(), out.end(), [&](const Violation& a, const Violation& b) { return key(a) < key(b); });
    out.erase(std::unique(out.begin(), out.end(),
                          [&](const Violation& a, const Violation& b) { return key(a) == key(b); }),
              out.end());
    return out;
}

}  // namespace veil::architecture
