// json_text.h — JSON for racetrap's reports (JSON and SARIF output, reading JSON
// reports back in `racetrap report`): nlohmann::ordered_json, which keeps members
// in insertion order (stable, readable output) and 64-bit integers exact, plus
// the few conventions racetrap adds on top of it:
//   - parse_json never throws: a value, or one error line "line L, column C: what";
//     nesting deeper than kMaxJsonDepth is an error (the reader's callers recurse);
//   - dump_json writes valid UTF-8 whatever the strings hold (a byte that is not
//     UTF-8 becomes U+FFFD), pretty-printed with `indent` spaces or compact (< 0);
//   - put/append/member: building and reading objects without exceptions.
// Not signal-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace racetrap {

using Json = nlohmann::ordered_json;

constexpr int kMaxJsonDepth = 200;

struct JsonParse {
  std::optional<Json> value;  // nullopt on error
  std::string error;          // "line L, column C: what" when value is nullopt
};

// Parses one JSON text (RFC 8259; surrounding whitespace allowed).
JsonParse parse_json(const std::string& text);

// The text of `value` (see above).
std::string dump_json(const Json& value, int indent = 2);

// Sets object[key] (turning null into an object first); returns the new member.
Json& put(Json& object, const std::string& key, Json value);
// Appends to an array (turning null into an array first); returns the new element.
Json& append(Json& array, Json value);
// The member `key` of an object, or nullptr (also when `object` is not one).
const Json* member(const Json& object, const std::string& key);

}  // namespace racetrap
