// fuzz_suppressions.cc — libFuzzer target: the suppressions parser and TSan-style
// pattern matching on arbitrary text. Bad lines give one error line each; nothing
// crashes or loops, whatever the patterns are.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "suppressions.h"

using namespace racetrap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  Suppressions s = parse_suppressions(text, "fuzz.supp");
  for (const std::string& e : s.errors)
    if (e.empty() || e.find('\n') != std::string::npos) std::abort();
  // Each pattern against a few subjects, and against the input itself.
  static const char* subjects[] = {"", "main", "racer(void*)", "/usr/lib/libc.so.6", "std::vector<int>::push_back",
                                   "a*b^c$"};
  size_t n = 0;
  for (const SuppressionRule& r : s.rules) {
    if (++n > 64) break;
    for (const char* subject : subjects) (void)template_match(r.pattern, subject);
    (void)template_match(r.pattern, text.substr(0, 256));
  }
  return 0;
}
