// json_text.cc — see json_text.h.
#include "json_text.h"

#include <fmt/format.h>

namespace racetrap {
namespace {

// Where nesting first goes deeper than kMaxJsonDepth, as "line L, column C: ...",
// or "" (brackets inside strings do not count).
std::string nesting_error(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  size_t line = 1, column = 1;
  for (size_t i = 0; i < text.size(); ++i, ++column) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      column = 0;
    } else if (in_string) {
      if (c == '\\') {
        ++i;
        ++column;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return fmt::format("line {}, column {}: nested too deeply", line, column);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return "";
}

// "line L, column C: what" for nlohmann's parse error: L and C are computed here
// from the byte offset of the character that failed (nlohmann's own column is 0
// when that character ends a line), `what` is its message without the prefix
// "[json.exception.parse_error.101] parse error at line L, column C: ".
std::string one_line(const std::string& text, const nlohmann::json::parse_error& e) {
  const size_t at = e.byte == 0 ? 0 : (e.byte - 1 < text.size() ? e.byte - 1 : text.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::string what = e.what();
  const size_t position = what.find(" at line ");
  const size_t colon = position == std::string::npos ? std::string::npos : what.find(": ", position);
  if (colon != std::string::npos) what = what.substr(colon + 2);
  for (char& c : what)
    if (c == '\n' || c == '\r') c = ' ';
  return fmt::format("line {}, column {}: {}", line, at - line_start + 1, what);
}

}  // namespace

JsonParse parse_json(const std::string& text) {
  JsonParse result;
  result.error = nesting_error(text);
  if (!result.error.empty()) return result;
  try {
    result.value = Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    result.error = one_line(text, e);
  }
  return result;
}

std::string dump_json(const Json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

Json& put(Json& object, const std::string& key, Json value) {
  if (!object.is_object()) object = Json::object();
  Json& slot = object[key];
  slot = std::move(value);
  return slot;
}

Json& append(Json& array, Json value) {
  if (!array.is_array()) array = Json::array();
  array.push_back(std::move(value));
  return array.back();
}

const Json* member(const Json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace racetrap
