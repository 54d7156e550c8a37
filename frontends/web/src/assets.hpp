#pragma once
// The page's files (HTML, CSS, JS, icon), compiled into the plugin at build time by
// embed_assets.cmake from frontends/web/assets/.
#include <cstddef>
#include <string_view>

namespace veil::web {

/// One built-in file.
struct Asset {
    std::string_view path;          ///< URL path, e.g. "/app.js"
    std::string_view content_type;  ///< e.g. "text/javascript; charset=utf-8"
    const unsigned char* data;
    std::size_t size;
};

/// The asset served at `path` ("/" is index.html), or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace veil::web
