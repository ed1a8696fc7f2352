// copy_tunables.cc — see copy_tunables.h.
#include "copy_tunables.h"

#include <string_view>

namespace racetrap {
namespace {

// Whether the colon-separated list `list` sets the tunable `name` (name=value).
bool names_tunable(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const size_t end = list.find(':');
    const std::string_view item = list.substr(0, end);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=') return true;
    if (end == std::string_view::npos) break;
    list.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace

std::string with_fast_copy_tunables(const char* existing) {
  static constexpr std::string_view kThresholds[] = {"glibc.cpu.x86_rep_movsb_threshold",
                                                     "glibc.cpu.x86_rep_stosb_threshold"};
  std::string value = existing != nullptr ? existing : "";
  for (std::string_view name : kThresholds) {
    if (names_tunable(value, name)) continue;
    if (!value.empty()) value += ':';
    value.append(name);
    value += "=0xffffffffffffffff";
  }
  return value;
}

}  // namespace racetrap
