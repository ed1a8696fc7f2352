// preload_locator.h — finds libracetrap.so for `racetrap run` / `racetrap check`.
#pragma once

#include <optional>
#include <string>

namespace racetrap {

// The absolute path of libracetrap.so: $RACETRAP_PRELOAD if set, else next to this
// executable in the build tree (<exe dir>/../preload/libracetrap.so) or in the
// installed layout (<exe dir>/../<libdir>/racetrap/libracetrap.so).
// On failure returns nullopt and sets *error to one line saying where it looked.
std::optional<std::string> locate_preload(std::string* error);

}  // namespace racetrap
