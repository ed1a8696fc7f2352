// fuzz_maps_line.cc — libFuzzer target: the value-change mode's /proc/self/maps line
// parser (lib/private_mapping.h) on arbitrary bytes. It runs in a signal handler on
// text the kernel writes, so it must read only the bytes it is given (ASan checks
// that: the line is copied to an exact-size heap block) and never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "private_mapping.h"

using namespace racetrap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char* line = static_cast<char*>(std::malloc(size ? size : 1));
  if (size) std::memcpy(line, data, size);
  MapsLine m;
  // A line that parses names a range, whatever garbage follows it.
  if (parse_maps_line(line, size, &m) && size < 4) std::abort();
  std::free(line);
  return 0;
}
