// The live page served on "/": one self-contained HTML document (inline CSS
// and vanilla JS, no outside assets) that polls /api/v1/status.
#pragma once

#include <string_view>

namespace longhaul::gateway {
std::string_view LivePageHtml();
}  // namespace longhaul::gateway
