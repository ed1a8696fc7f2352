// json.cc — JSON values, a bounds-checked recursive-descent parser with a depth
// limit, and a writer that produces valid UTF-8 (see json.h).
#include "json.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace racetrap {
namespace {

constexpr int kMaxDepth = 200;

const std::string kEmptyString;
const Json::Array kEmptyArray;
const Json::Object kEmptyObject;

// Appends code point `cp` as UTF-8.
void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not valid.
size_t utf8_length(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  if (n == 2 && c < 0xC2) return 0;                       // overlong
  if (n == 3 && c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
  if (n == 3 && c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
  if (n == 4 && (c > 0xF4 || (c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90)))
    return 0;
  return n;
}

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  JsonParse run() {
    JsonParse result;
    skip_space();
    Json value;
    if (!parse_value(&value, 0)) {
      result.error = error_;
      return result;
    }
    skip_space();
    if (pos_ != s_.size()) {
      fail("unexpected text after the JSON value");
      result.error = error_;
      return result;
    }
    result.value = std::move(value);
    return result;
  }

 private:
  bool fail(const std::string& what) {
    if (!error_.empty()) return false;
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    error_ = fmt::format("line {}, column {}: {}", line, column, what);
    return false;
  }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  bool literal(const char* word) {
    size_t n = std::strlen(word);
    if (s_.compare(pos_, n, word) != 0) return fail("invalid literal");
    pos_ += n;
    return true;
  }

  bool parse_value(Json* out, int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    if (pos_ >= s_.size()) return fail("unexpected end of input");
    char c = s_[pos_];
    switch (c) {
      case '{': return parse_object(out, depth);
      case '[': return parse_array(out, depth);
      case '"': {
        std::string text;
        if (!parse_string(&text)) return false;
        *out = Json(std::move(text));
        return true;
      }
      case 't': *out = Json(true); return literal("true");
      case 'f': *out = Json(false); return literal("false");
      case 'n': *out = Json(); return literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
        return fail(fmt::format("unexpected character '{}'", c >= 0x20 && c < 0x7f ? std::string(1, c) : "\\x" + fmt::format("{:02x}", static_cast<unsigned char>(c))));
    }
  }

  bool parse_object(Json* out, int depth) {
    ++pos_;  // '{'
    Json::Object members;
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      *out = Json(std::move(members));
      return true;
    }
    for (;;) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name in quotes");
      std::string key;
      if (!parse_string(&key)) return false;
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':' after a member name");
      ++pos_;
      skip_space();
      Json value;
      if (!parse_value(&value, depth + 1)) return false;
      members.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        *out = Json(std::move(members));
        return true;
      }
      return fail("expected ',' or '}' in an object");
    }
  }

  bool parse_array(Json* out, int depth) {
    ++pos_;  // '['
    Json::Array items;
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      *out = Json(std::move(items));
      return true;
    }
    for (;;) {
      skip_space();
      Json value;
      if (!parse_value(&value, depth + 1)) return false;
      items.push_back(std::move(value));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        *out = Json(std::move(items));
        return true;
      }
      return fail("expected ',' or ']' in an array");
    }
  }

  bool hex4(uint32_t* out) {
    if (s_.size() - pos_ < 4) return fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_ + i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return fail("invalid \\u escape");
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  bool parse_string(std::string* out) {
    ++pos_;  // '"'
    for (;;) {
      if (pos_ >= s_.size()) return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("control character in a string");
      if (c != '\\') {
        size_t n = utf8_length(s_, pos_);
        if (n == 0) return fail("invalid UTF-8 in a string");
        out->append(s_, pos_, n);
        pos_ += n;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) return fail("unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (s_.compare(pos_, 2, "\\u") != 0) return fail("lone surrogate in a \\u escape");
            pos_ += 2;
            if (!hex4(&low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return fail("invalid surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("lone surrogate in a \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          return fail("invalid escape in a string");
      }
    }
  }

  bool parse_number(Json* out) {
    size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t d = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - d;
    };
    if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) return fail("invalid number");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      digits();
    }
    bool integral = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      integral = false;
      if (digits() == 0) return fail("invalid number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      integral = false;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return fail("invalid number");
    }
    std::string text = s_.substr(start, pos_ - start);
    if (integral) {
      errno = 0;
      long long v = std::strtoll(text.c_str(), nullptr, 10);
      if (errno != ERANGE) {
        *out = Json(static_cast<int64_t>(v));
        return true;
      }
    }
    *out = Json(std::strtod(text.c_str(), nullptr));
    return true;
  }

  const std::string& s_;
  size_t pos_ = 0;
  std::string error_;
};

void newline(std::string* out, int indent, int depth) {
  if (indent < 0) return;
  *out += '\n';
  out->append(static_cast<size_t>(indent) * depth, ' ');
}

}  // namespace

bool Json::as_bool(bool fallback) const { return is_bool() ? std::get<bool>(value_) : fallback; }

int64_t Json::as_int(int64_t fallback) const {
  if (is_int()) return std::get<int64_t>(value_);
  if (std::holds_alternative<double>(value_)) {
    double d = std::get<double>(value_);
    if (std::isfinite(d) && d >= -9.2e18 && d <= 9.2e18) return static_cast<int64_t>(d);
  }
  return fallback;
}

const std::string& Json::as_string() const {
  return is_string() ? std::get<std::string>(value_) : kEmptyString;
}
const Json::Array& Json::as_array() const { return is_array() ? std::get<Array>(value_) : kEmptyArray; }
const Json::Object& Json::as_object() const { return is_object() ? std::get<Object>(value_) : kEmptyObject; }

const Json* Json::find(const std::string& key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(value_))
    if (k == key) return &v;
  return nullptr;
}

Json& Json::set(std::string key, Json value) {
  if (!is_object()) value_ = Object{};
  Object& o = std::get<Object>(value_);
  o.emplace_back(std::move(key), std::move(value));
  return o.back().second;
}

Json& Json::push(Json value) {
  if (!is_array()) value_ = Array{};
  Array& a = std::get<Array>(value_);
  a.push_back(std::move(value));
  return a.back();
}

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n", ++i;
    } else if (c == '\t') {
      out += "\\t", ++i;
    } else if (c == '\r') {
      out += "\\r", ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04x}", c);
      ++i;
    } else {
      size_t n = utf8_length(text, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
        ++i;
      } else {
        out.append(text, i, n);
        i += n;
      }
    }
  }
  out += '"';
  return out;
}

void Json::dump_to(std::string* out, int indent, int depth) const {
  if (is_null()) {
    *out += "null";
  } else if (is_bool()) {
    *out += std::get<bool>(value_) ? "true" : "false";
  } else if (is_int()) {
    *out += std::to_string(std::get<int64_t>(value_));
  } else if (std::holds_alternative<double>(value_)) {
    double d = std::get<double>(value_);
    *out += std::isfinite(d) ? fmt::format("{}", d) : "null";
  } else if (is_string()) {
    *out += json_quote(std::get<std::string>(value_));
  } else if (is_array()) {
    const Array& a = std::get<Array>(value_);
    if (a.empty()) {
      *out += "[]";
      return;
    }
    *out += '[';
    for (size_t i = 0; i < a.size(); ++i) {
      if (i > 0) *out += ',';
      newline(out, indent, depth + 1);
      a[i].dump_to(out, indent, depth + 1);
    }
    newline(out, indent, depth);
    *out += ']';
  } else {
    const Object& o = std::get<Object>(value_);
    if (o.empty()) {
      *out += "{}";
      return;
    }
    *out += '{';
    for (size_t i = 0; i < o.size(); ++i) {
      if (i > 0) *out += ',';
      newline(out, indent, depth + 1);
      *out += json_quote(o[i].first);
      *out += indent < 0 ? ":" : ": ";
      o[i].second.dump_to(out, indent, depth + 1);
    }
    newline(out, indent, depth);
    *out += '}';
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(&out, indent, 0);
  return out;
}

JsonParse parse_json(const std::string& text) { return Parser(text).run(); }

}  // namespace racetrap
