// fuzz_json.cc — libFuzzer target: the JSON reader on arbitrary text. Bad input
// gives one error line; good input round-trips through dump_json().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "json_text.h"

using namespace racetrap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  JsonParse parsed = parse_json(text);
  if (!parsed.value) {
    if (parsed.error.empty() || parsed.error.find('\n') != std::string::npos) std::abort();
    return 0;
  }
  std::string again = dump_json(*parsed.value, -1);
  JsonParse reparsed = parse_json(again);
  if (!reparsed.value) std::abort();  // what we write, we can read
  (void)dump_json(Json(text));  // any bytes: valid UTF-8 out, no throw
  return 0;
}
