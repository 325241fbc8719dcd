// sim/trace/writers.cpp: JSON Lines and transcript writers, and a JSONL reader.
#include "sim/trace/writers.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

namespace smtplab {

size_t utf8_error_offset(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string_view::npos;
}

bool is_valid_utf8(std::string_view s) { return utf8_error_offset(s) == std::string_view::npos; }

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  const bool utf8 = is_valid_utf8(s);
  char buf[8];
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F || (!utf8 && c >= 0x80)) {
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

namespace {

std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = val(s[i]), lo = val(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace

std::string to_jsonl(const Record& r) {
  std::string out;
  out.reserve(160 + r.text.size() + r.wire.size());
  out += "{\"v\":1,\"seq\":";
  out += std::to_string(r.seq);
  out += ",\"t_us\":";
  out += std::to_string(r.t.us);
  out += ",\"layer\":\"";
  out += layer_name(r.layer());
  out += "\",\"kind\":\"";
  out += kind_name(r.kind);
  out += "\",\"src\":";
  out += json_quote(r.src);
  out += ",\"dst\":";
  out += json_quote(r.dst);
  out += ",\"text\":";
  out += json_quote(r.text);
  out += ",\"cause\":";
  out += std::to_string(r.cause);
  if (r.session) {
    out += ",\"session\":";
    out += std::to_string(r.session);
  }
  if (!r.wire.empty()) {
    if (is_valid_utf8(r.wire)) {
      out += ",\"wire\":";
      out += json_quote(r.wire);
    } else {
      out += ",\"wire_hex\":\"";
      out += hex(r.wire);
      out += '"';
    }
  }
  if (!r.attrs.empty()) {
    out += ",\"attrs\":{";
    bool first = true;
    for (const Attr& a : r.attrs) {
      if (!first) out += ',';
      first = false;
      out += json_quote(a.key);
      out += ':';
      out += json_quote(a.value);
    }
    out += '}';
  }
  out += '}';
  return out;
}

void write_jsonl(std::ostream& out, const Trace& trace) {
  for (const Record& r : trace.records()) {
    out << to_jsonl(r) << '\n';
  }
}

namespace {

// An integer field, checked before conversion: nlohmann's get<uint64_t>() of
// a float or of an out-of-range number is undefined behaviour (found by
// fuzz_jsonl), so anything but an in-range integer is a "bad field".
struct BadField {
  std::string why;
};

// The reader keeps the line's key order (ordered_json): attribute order is
// part of a record.
using Json = nlohmann::ordered_json;

uint64_t get_u64(const Json& j, const char* key) {
  const Json& v = j.at(key);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  throw BadField{std::string(key) + " must be a non-negative integer"};
}

int64_t get_i64(const Json& j, const char* key) {
  const Json& v = j.at(key);
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) throw BadField{std::string(key) + " is out of range"};
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  throw BadField{std::string(key) + " must be an integer"};
}

}  // namespace

std::optional<Record> parse_jsonl(std::string_view line, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Record> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
  try {
    if (get_i64(j, "v") != kTraceVersion) return fail("unsupported trace version");
    Record r;
    r.seq = get_u64(j, "seq");
    r.t = SimTime{get_i64(j, "t_us")};
    const auto kind = kind_from_name(j.at("kind").get<std::string>());
    if (!kind) return fail("unknown kind \"" + j.at("kind").get<std::string>() + "\"");
    r.kind = *kind;
    if (j.at("layer").get<std::string>() != layer_name(r.layer())) return fail("layer does not match kind");
    r.src = j.at("src").get<std::string>();
    r.dst = j.at("dst").get<std::string>();
    r.text = j.at("text").get<std::string>();
    r.cause = get_u64(j, "cause");
    if (j.contains("session")) r.session = get_u64(j, "session");
    if (j.contains("wire")) r.wire = j["wire"].get<std::string>();
    if (j.contains("wire_hex")) {
      auto bytes = unhex(j["wire_hex"].get<std::string>());
      if (!bytes) return fail("wire_hex is not hexadecimal");
      r.wire = *bytes;
    }
    if (j.contains("attrs")) {
      // In the line's order. (This read the raw text for each key's place
      // once, and threw std::out_of_range, past the JSON errors caught
      // below, when "attrs" was written with a space before its colon or an
      // escape in its name: found by fuzz_fates.)
      const auto& attrs = j["attrs"];
      if (!attrs.is_object()) return fail("attrs is not an object");
      for (auto it = attrs.begin(); it != attrs.end(); ++it) r.attrs.push_back(Attr{it.key(), it.value().get<std::string>()});
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("bad field: ") + e.what());
  } catch (const BadField& e) {
    return fail("bad field: " + e.why);
  }
}

uint32_t layer_bit(Layer l) { return 1u << static_cast<unsigned>(l); }

std::optional<uint32_t> parse_layer_mask(std::string_view list, std::string* error) {
  if (list == "all") return ~0u;
  uint32_t mask = 0;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string_view name = list.substr(start, end - start);
    const auto layer = layer_from_name(name);
    if (!layer) {
      if (error) {
        *error = "unknown layer \"" + std::string(name) + "\"; expected one of: all";
        for (int i = 0; i < kLayerCount; ++i) *error += std::string(", ") + std::string(layer_name(static_cast<Layer>(i)));
      }
      return std::nullopt;
    }
    mask |= layer_bit(*layer);
    start = end + 1;
  }
  return mask;
}

namespace {

enum class Marker { client, server, note, fault, error };

Marker marker_of(Kind k) {
  switch (k) {
    case Kind::smtp_command:
    case Kind::smtp_data:
    case Kind::pop3_command:
    case Kind::imap_command:
    case Kind::dns_query:
    case Kind::tcp_connect:
    case Kind::segment_sent:
    case Kind::segment_retransmit:
    case Kind::datagram_sent:
      return Marker::client;
    case Kind::smtp_reply:
    case Kind::pop3_reply:
    case Kind::imap_response:
    case Kind::dns_answer:
    case Kind::segment_delivered:
    case Kind::datagram_delivered:
      return Marker::server;
    case Kind::fault_injected:
    case Kind::fault_cleared:
    case Kind::host_down:
    case Kind::link_down:
      return Marker::fault;
    case Kind::smtp_error:
    case Kind::smtp_timeout:
    case Kind::tcp_refused:
    case Kind::tcp_timeout:
    case Kind::tcp_reset:
    case Kind::dns_timeout:
    case Kind::segment_lost:
    case Kind::datagram_lost:
    case Kind::message_bounced:
    case Kind::message_expired:
    case Kind::loop_detected:
      return Marker::error;
    default:
      return Marker::note;
  }
}

}  // namespace

std::string to_transcript(const Record& r, const TranscriptOptions& opt) {
  if (!(opt.layer_mask & layer_bit(r.layer()))) return {};
  const Marker m = marker_of(r.kind);
  std::string who;
  if (!r.src.empty() || !r.dst.empty()) {
    // Client first on both directions so one session's lines line up.
    if (m == Marker::server && !r.dst.empty())
      who = r.dst + " < " + r.src;
    else if (!r.dst.empty())
      who = r.src + " > " + r.dst;
    else
      who = r.src;
  }
  const char* mark = "==";
  switch (m) {
    case Marker::client: mark = "->"; break;
    case Marker::server: mark = "<-"; break;
    case Marker::note: mark = "=="; break;
    case Marker::fault: mark = "**"; break;
    case Marker::error: mark = "!!"; break;
  }
  std::string prefix = format_clock(r.t);
  while (prefix.size() < 12) prefix.insert(prefix.begin(), ' ');
  prefix += "  ";
  std::string whocol = who;
  if (whocol.size() < 34) whocol.resize(34, ' ');
  prefix += whocol;
  prefix += ' ';
  prefix += mark;
  prefix += ' ';
  std::string out;
  size_t start = 0;
  const std::string& text = r.text;
  bool first = true;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (!first && end == start && end == text.size()) break;
    if (first) {
      out += prefix;
    } else {
      out += std::string(prefix.size() - 3, ' ');
      out += mark;
      out += ' ';
    }
    out += text.substr(start, end - start);
    if (first && opt.show_cause && r.cause) out += "   (#" + std::to_string(r.seq) + " <- #" + std::to_string(r.cause) + ")";
    out += '\n';
    first = false;
    start = end + 1;
  }
  return out;
}

void write_transcript(std::ostream& out, const Trace& trace, const TranscriptOptions& opt) {
  for (const Record& r : trace.records()) out << to_transcript(r, opt);
}

void append_folded(std::string& out, std::string_view text, size_t col, size_t indent, size_t width) {
  bool first = true;
  while (true) {
    const size_t b = text.find_first_not_of(" \t");
    if (b == std::string_view::npos) break;
    text.remove_prefix(b);
    const std::string_view word = text.substr(0, text.find_first_of(" \t"));
    text.remove_prefix(word.size());
    if (!first && col + 1 + word.size() > width) {
      out += '\n';
      out.append(indent, ' ');
      col = indent;
    } else if (!first) {
      out += ' ';
      ++col;
    }
    out += word;
    col += word.size();
    first = false;
  }
  out += '\n';
}

}  // namespace smtplab
