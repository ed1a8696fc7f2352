// json.h — a small JSON document model, parser and writer for racetrap's reports
// (JSON and SARIF output, reading JSON reports back in `racetrap report`).
// Contract: parse_json is a pure function from text to a value or one error line
// ("line L, column C: what"); it never crashes on any input (depth-limited, no
// recursion without bound) — it will be fuzzed. Objects keep insertion order so the
// written text is stable and readable. Integers are kept exactly (int64); other
// numbers are doubles. Not signal-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace racetrap {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool b) : value_(b) {}
  Json(int v) : value_(static_cast<int64_t>(v)) {}
  Json(int64_t v) : value_(v) {}
  Json(uint64_t v) : value_(static_cast<int64_t>(v)) {}  // callers keep values < 2^63
  Json(unsigned v) : value_(static_cast<int64_t>(v)) {}
  Json(double v) : value_(v) {}
  Json(const char* s) : value_(std::string(s)) {}
  Json(std::string s) : value_(std::move(s)) {}
  Json(Array a) : value_(std::move(a)) {}
  Json(Object o) : value_(std::move(o)) {}

  static Json array() { return Json(Array{}); }
  static Json object() { return Json(Object{}); }

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(value_); }
  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_int() const { return std::holds_alternative<int64_t>(value_); }
  bool is_number() const { return is_int() || std::holds_alternative<double>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_array() const { return std::holds_alternative<Array>(value_); }
  bool is_object() const { return std::holds_alternative<Object>(value_); }

  // Typed reads with a fallback when the value has another type.
  bool as_bool(bool fallback = false) const;
  int64_t as_int(int64_t fallback = 0) const;
  const std::string& as_string() const;  // "" unless a string
  const Array& as_array() const;         // empty unless an array
  const Object& as_object() const;       // empty unless an object

  // Object member (the first with that key) or nullptr; nullptr unless an object.
  const Json* find(const std::string& key) const;
  // Appends a member (turns null into an object first); returns the new value.
  Json& set(std::string key, Json value);
  // Appends an element (turns null into an array first); returns the new value.
  Json& push(Json value);

  // Compact (indent < 0) or pretty-printed with `indent` spaces per level.
  std::string dump(int indent = 2) const;

  bool operator==(const Json&) const = default;

 private:
  void dump_to(std::string* out, int indent, int depth) const;
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> value_;
};

struct JsonParse {
  std::optional<Json> value;  // nullopt on error
  std::string error;          // "line L, column C: what" when value is nullopt
};

// Parses one JSON text (RFC 8259; surrounding whitespace allowed). Nesting deeper
// than 200 levels is an error.
JsonParse parse_json(const std::string& text);

// "\"...\"" with JSON escapes; invalid UTF-8 bytes become U+FFFD.
std::string json_quote(const std::string& text);

}  // namespace racetrap
