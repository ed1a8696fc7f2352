// memory_map.cc — parses /proc/<pid>/maps lines:
//   begin-end perms offset dev inode [path]
#include "memory_map.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace racetrap {
namespace {

bool parse_hex(const std::string& text, uint64_t* out) {
  if (text.empty() || text.size() > 16) return false;
  uint64_t v = 0;
  for (char c : text) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<uint64_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<uint64_t>(c - 'A' + 10);
    else return false;
  }
  *out = v;
  return true;
}

}  // namespace

const Mapping* MemoryMap::find(uint64_t address) const {
  auto it = std::upper_bound(mappings.begin(), mappings.end(), address,
                             [](uint64_t a, const Mapping& m) { return a < m.begin; });
  if (it == mappings.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

MemoryMap parse_memory_map(const std::string& maps_text) {
  MemoryMap map;
  std::istringstream in(maps_text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode;
    if (!(fields >> range >> perms >> offset >> dev >> inode)) continue;
    size_t dash = range.find('-');
    Mapping m;
    if (dash == std::string::npos || !parse_hex(range.substr(0, dash), &m.begin) ||
        !parse_hex(range.substr(dash + 1), &m.end) || m.end <= m.begin || perms.size() < 3 ||
        !parse_hex(offset, &m.offset)) {
      continue;
    }
    m.readable = perms[0] == 'r';
    m.writable = perms[1] == 'w';
    m.executable = perms[2] == 'x';
    std::string rest;
    std::getline(fields, rest);
    size_t first = rest.find_first_not_of(' ');
    m.path = first == std::string::npos ? "" : rest.substr(first);
    map.mappings.push_back(std::move(m));
  }
  std::sort(map.mappings.begin(), map.mappings.end(),
            [](const Mapping& a, const Mapping& b) { return a.begin < b.begin; });
  return map;
}

}  // namespace racetrap
