// memory_map.h — a /proc/<pid>/maps snapshot as a list of mappings, to say what
// kind of memory an address is in (heap, main stack, module data, anonymous).
// Contract: parse_memory_map is a pure function of the text; malformed lines are
// skipped, never fatal. Not signal-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace racetrap {

struct Mapping {
  uint64_t begin = 0, end = 0;
  bool readable = false, writable = false, executable = false;
  uint64_t offset = 0;
  std::string path;  // "" for anonymous, "[heap]", "[stack]", or a file path
};

struct MemoryMap {
  std::vector<Mapping> mappings;  // sorted by begin
  // The mapping containing `address`, or nullptr.
  const Mapping* find(uint64_t address) const;
};

MemoryMap parse_memory_map(const std::string& maps_text);

}  // namespace racetrap
