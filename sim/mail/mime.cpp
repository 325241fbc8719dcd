// sim/mail/mime.cpp: base64, quoted-printable, Content-Type, the MIME tree,
// multipart building and the 8BITMIME downgrade.
//
// Must never: throw or loop on malformed MIME; recurse without a depth limit.
#include "sim/mail/mime.hpp"

#include <cstdio>

namespace smtplab::mail {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kHex[] = "0123456789ABCDEF";
constexpr int kMaxDepth = 8;
constexpr int kMaxParts = 1000;

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // RFC 2045 6.7: lowercase is tolerated on input
  return -1;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lowered(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower(c);
  return r;
}
bool is_wsp(char c) { return c == ' ' || c == '\t'; }
std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Calls fn(line) for each line without its terminator; `last_terminated`
// tells whether the text ended with a line break.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line, nl != std::string_view::npos);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
}

bool tspecial(char c) {
  // RFC 2045 5.1 tspecials, plus space and controls which also need quoting.
  static constexpr std::string_view kSpecials = "()<>@,;:\\\"/[]?=";
  auto u = static_cast<unsigned char>(c);
  return u <= 32 || u >= 127 || kSpecials.find(c) != std::string_view::npos;
}

std::string serialize_part(const std::vector<Header>& headers, std::string_view body) {
  std::string s;
  for (const Header& h : headers) s += fold_header(h.name, h.value);
  s += "\r\n";
  s += body;
  return s;
}

std::optional<std::string_view> find_header(const std::vector<Header>& hs, std::string_view name) {
  for (const Header& h : hs)
    if (iequals(h.name, name)) return std::string_view(h.value);
  return std::nullopt;
}

void set_header(std::vector<Header>& hs, std::string_view name, std::string value) {
  for (Header& h : hs)
    if (iequals(h.name, name)) {
      h.value = std::move(value);
      return;
    }
  hs.push_back(Header{std::string(name), std::move(value)});
}

MimePart parse_entity(std::string_view text, int depth, int& budget);

void split_multipart(MimePart& part, int depth, int& budget) {
  ContentType ct = part.content_type();
  std::string boundary = ct.param("boundary");
  if (ct.type != "multipart" || boundary.empty() || depth >= kMaxDepth) return;
  const std::string delim = "--" + boundary;
  std::string_view body = part.body;
  // Walk the lines, remembering where each delimiter line starts and ends.
  size_t pos = 0;
  size_t content_start = std::string_view::npos;  // start of the current part's content
  bool have_preamble = false;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    size_t end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool is_delim = line.size() >= delim.size() && line.substr(0, delim.size()) == delim;
    bool closing = false;
    if (is_delim) {
      std::string_view rest = line.substr(delim.size());
      if (rest.size() >= 2 && rest.substr(0, 2) == "--") {
        closing = true;
        rest.remove_prefix(2);
      }
      is_delim = trim(rest).empty();  // "--b" followed by anything else is content
    }
    if (is_delim) {
      // RFC 2046 5.1.1: the CR LF before a delimiter belongs to the delimiter.
      size_t content_end = pos;
      if (content_end >= 1 && body[content_end - 1] == '\n') --content_end;
      if (content_end >= 1 && body[content_end - 1] == '\r') --content_end;
      if (content_start == std::string_view::npos) {
        if (!have_preamble) {
          part.preamble = std::string(body.substr(0, content_end));
          have_preamble = true;
        }
      } else {
        if (--budget < 0) return;
        size_t len = content_end > content_start ? content_end - content_start : 0;
        part.parts.push_back(parse_entity(body.substr(content_start, len), depth + 1, budget));
      }
      if (closing) return;
      content_start = nl == std::string_view::npos ? body.size() : nl + 1;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  // No closing delimiter: keep what we have (tolerant), including a last open part.
  if (content_start != std::string_view::npos && content_start < body.size() && budget-- > 0)
    part.parts.push_back(parse_entity(body.substr(content_start), depth + 1, budget));
}

MimePart parse_entity(std::string_view text, int depth, int& budget) {
  Message m = parse_message(text);
  MimePart p;
  p.headers = std::move(m.headers);
  p.body = std::move(m.body);
  split_multipart(p, depth, budget);
  return p;
}

// Re-encodes one leaf for a 7-bit path; returns the cost when it changed.
std::optional<EncodingCost> downgrade_leaf(std::vector<Header>& headers, std::string& body) {
  MimePart tmp;
  tmp.headers = headers;
  tmp.body = body;
  std::string cte = tmp.transfer_encoding();
  if (cte == "base64" || cte == "quoted-printable") return std::nullopt;  // already 7-bit safe
  if (!has_8bit(body) && !has_long_line(body)) return std::nullopt;
  ContentType ct = tmp.content_type();
  EncodingCost cost;
  cost.before = body.size();
  if (ct.type == "text") {
    body = qp_encode(body);
    cost.encoding = "quoted-printable";
    set_header(headers, "Content-Transfer-Encoding", "quoted-printable");
  } else {
    body = base64_encode(body);
    cost.encoding = "base64";
    set_header(headers, "Content-Transfer-Encoding", "base64");
  }
  cost.after = body.size();
  return cost;
}

void downgrade_tree(MimePart& p, std::vector<EncodingCost>& costs) {
  if (!p.parts.empty()) {
    for (MimePart& c : p.parts) downgrade_tree(c, costs);
    // Rebuild the multipart body from the (possibly re-encoded) children.
    std::vector<PartSpec> specs;
    for (const MimePart& c : p.parts) {
      PartSpec s;
      s.headers = c.headers;
      s.body = c.body;
      specs.push_back(std::move(s));
    }
    p.body = multipart_body(specs, p.content_type().param("boundary"), trim(p.preamble));
    return;
  }
  if (auto c = downgrade_leaf(p.headers, p.body)) costs.push_back(*c);
}

}  // namespace

// ---- base64 ------------------------------------------------------------------

std::string base64_encode(std::string_view data, size_t line_length) {
  std::string out;
  out.reserve(base64_encoded_size(data.size(), line_length));
  size_t col = 0;
  auto put = [&](char c) {
    out.push_back(c);
    if (line_length && ++col == line_length) {
      out += "\r\n";
      col = 0;
    }
  };
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    put(kB64[(v >> 18) & 63]);
    put(kB64[(v >> 12) & 63]);
    put(kB64[(v >> 6) & 63]);
    put(kB64[v & 63]);
  }
  size_t rest = data.size() - i;
  if (rest) {
    uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    put(kB64[(v >> 18) & 63]);
    put(kB64[(v >> 12) & 63]);
    put(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    put('=');
  }
  if (line_length && col) out += "\r\n";
  return out;
}

size_t base64_encoded_size(size_t n, size_t line_length) {
  size_t chars = (n + 2) / 3 * 4;
  if (!line_length) return chars;
  return chars + 2 * ((chars + line_length - 1) / line_length);
}

std::optional<std::string> base64_decode(std::string_view text, std::string* error) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int n = 0, pad = 0;
  size_t offset = 0;
  for (char c : text) {
    ++offset;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++pad;
      if (pad > 2 || n < 2) {
        if (error) *error = "misplaced '=' padding at offset " + std::to_string(offset - 1);
        return std::nullopt;
      }
      acc <<= 6;
      ++n;
    } else {
      int v = b64_value(c);
      if (v < 0) {
        if (error) {
          char buf[96];
          std::snprintf(buf, sizeof buf, "character 0x%02X at offset %zu is not in the base64 alphabet",
                        static_cast<unsigned>(static_cast<unsigned char>(c)), offset - 1);
          *error = buf;
        }
        return std::nullopt;
      }
      if (pad) {
        if (error) *error = "data after '=' padding at offset " + std::to_string(offset - 1);
        return std::nullopt;
      }
      acc = (acc << 6) | static_cast<uint32_t>(v);
      ++n;
    }
    if (n == 4) {
      out.push_back(static_cast<char>((acc >> 16) & 0xFF));
      if (pad < 2) out.push_back(static_cast<char>((acc >> 8) & 0xFF));
      if (pad < 1) out.push_back(static_cast<char>(acc & 0xFF));
      acc = 0;
      n = 0;
      if (pad) pad = 3;  // nothing may follow a padded group
    }
  }
  if (n != 0) {
    if (error) *error = "base64 text ends in the middle of a 4-character group";
    return std::nullopt;
  }
  return out;
}

// ---- quoted-printable ---------------------------------------------------------

std::string qp_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for_each_line(text, [&](std::string_view line, bool terminated) {
    size_t col = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      auto u = static_cast<unsigned char>(line[i]);
      bool last = i + 1 == line.size();
      std::string piece;
      // RFC 2045 6.7 rules 2 and 3: printable ASCII except '=' stays literal;
      // space and tab too, except at the end of a line.
      if ((u >= 33 && u <= 126 && u != '=') || ((u == ' ' || u == '\t') && !last)) {
        piece.assign(1, static_cast<char>(u));
      } else {
        piece = {'=', kHex[u >> 4], kHex[u & 15]};
      }
      // Rule 5: lines at most 76 characters; a soft break "=" takes one.
      // Leave room for the "=" unless this piece ends the line.
      size_t limit = last ? kQpLineLength : kQpLineLength - 1;
      if (col + piece.size() > limit) {
        out += "=\r\n";
        col = 0;
      }
      out += piece;
      col += piece.size();
    }
    if (terminated) out += "\r\n";
  });
  return out;
}

std::optional<std::string> qp_decode(std::string_view text, std::string* error) {
  std::string out;
  out.reserve(text.size());
  bool failed = false;
  size_t line_no = 0;
  for_each_line(text, [&](std::string_view line, bool terminated) {
    ++line_no;
    if (failed) return;
    // Rule 3: trailing whitespace was added in transport; remove it.
    while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
    bool soft = !line.empty() && line.back() == '=';
    if (soft) line.remove_suffix(1);
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] != '=') {
        out.push_back(line[i]);
        continue;
      }
      int hi = i + 1 < line.size() ? hex_value(line[i + 1]) : -1;
      int lo = i + 2 < line.size() ? hex_value(line[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        failed = true;
        if (error) *error = "bad quoted-printable escape on line " + std::to_string(line_no) + ": '=' must be followed by two hex digits";
        return;
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
    if (!soft && terminated) out += "\r\n";
  });
  if (failed) return std::nullopt;
  return out;
}

bool has_8bit(std::string_view data) {
  for (char c : data)
    if (static_cast<unsigned char>(c) & 0x80) return true;
  return false;
}

bool has_long_line(std::string_view data) {
  size_t run = 0;
  for (char c : data) {
    if (c == '\n') {
      run = 0;
      continue;
    }
    if (c != '\r' && ++run > kMaxLine) return true;
  }
  return false;
}

std::string EncodingCost::describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s: %zu -> %zu bytes (%+.1f%%)", encoding.c_str(), before, after,
                overhead() * 100.0);
  return buf;
}

EncodingCost base64_cost(size_t raw_bytes) {
  return EncodingCost{"base64", raw_bytes, base64_encoded_size(raw_bytes)};
}

EncodingCost qp_cost(std::string_view text) { return EncodingCost{"quoted-printable", text.size(), qp_encode(text).size()}; }

// ---- Content-Type ------------------------------------------------------------

std::string ContentType::param(std::string_view name) const {
  auto it = params.find(lowered(name));
  return it == params.end() ? std::string{} : it->second;
}

ContentType parse_content_type(std::string_view value) {
  ContentType ct;
  size_t semi = value.find(';');
  std::string_view media = trim(value.substr(0, semi));
  size_t slash = media.find('/');
  if (slash != std::string_view::npos && slash > 0 && slash + 1 < media.size()) {
    std::string_view t = trim(media.substr(0, slash)), s = trim(media.substr(slash + 1));
    bool ok = !t.empty() && !s.empty();
    for (char c : t) ok = ok && !tspecial(c);
    for (char c : s) ok = ok && !tspecial(c);
    if (ok) {
      ct.type = lowered(t);
      ct.subtype = lowered(s);
    }
  }
  // Parameters: name=token | name="quoted \" string".
  size_t i = semi == std::string_view::npos ? value.size() : semi + 1;
  while (i < value.size()) {
    while (i < value.size() && (is_wsp(value[i]) || value[i] == ';')) ++i;
    size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name = lowered(trim(value.substr(i, eq - i)));
    i = eq + 1;
    while (i < value.size() && is_wsp(value[i])) ++i;
    std::string v;
    if (i < value.size() && value[i] == '"') {
      ++i;
      while (i < value.size() && value[i] != '"') {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        v.push_back(value[i++]);
      }
      if (i < value.size()) ++i;  // closing quote
      while (i < value.size() && value[i] != ';') ++i;
    } else {
      size_t end = value.find(';', i);
      if (end == std::string_view::npos) end = value.size();
      v = std::string(trim(value.substr(i, end - i)));
      i = end;
    }
    if (!name.empty() && !ct.params.count(name)) ct.params.emplace(name, std::move(v));
  }
  return ct;
}

std::string quote_param(std::string_view value) {
  bool needs = value.empty();
  for (char c : value) needs = needs || tspecial(c);
  if (!needs) return std::string(value);
  std::string q = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') q.push_back('\\');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

// ---- MimePart ------------------------------------------------------------------

std::optional<std::string_view> MimePart::get(std::string_view name) const { return find_header(headers, name); }

ContentType MimePart::content_type() const {
  auto v = get("Content-Type");
  return v ? parse_content_type(*v) : ContentType{};
}

std::string MimePart::transfer_encoding() const {
  auto v = get("Content-Transfer-Encoding");
  return v ? lowered(trim(*v)) : std::string("7bit");
}

std::string MimePart::filename() const {
  if (auto d = get("Content-Disposition")) {
    // "attachment; filename=x": the parameters parse like those of a media type.
    size_t semi = d->find(';');
    if (semi != std::string_view::npos) {
      std::string f = parse_content_type("x/y" + std::string(d->substr(semi))).param("filename");
      if (!f.empty()) return f;
    }
  }
  return content_type().param("name");
}

std::string MimePart::decoded(std::string* error) const {
  std::string cte = transfer_encoding();
  if (cte == "base64") {
    auto d = base64_decode(body, error);
    return d ? *d : std::string{};
  }
  if (cte == "quoted-printable") {
    auto d = qp_decode(body, error);
    return d ? *d : std::string{};
  }
  return body;
}

MimePart parse_mime(const Message& m) {
  MimePart p;
  p.headers = m.headers;
  p.body = m.body;
  int budget = kMaxParts;
  split_multipart(p, 0, budget);
  return p;
}

MimePart parse_mime_entity(std::string_view text) {
  int budget = kMaxParts;
  return parse_entity(text, 0, budget);
}

std::string make_boundary(std::string_view seed_text, int n) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : seed_text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char buf[64];
  std::snprintf(buf, sizeof buf, "=_smtplab_%016llx_%d", static_cast<unsigned long long>(h), n);
  return buf;
}

std::string multipart_body(const std::vector<PartSpec>& parts, std::string_view boundary, std::string_view preamble) {
  std::string out;
  if (!preamble.empty()) {
    out.append(preamble);
    out += "\r\n\r\n";
  }
  for (const PartSpec& p : parts) {
    out += "--";
    out.append(boundary);
    out += "\r\n";
    out += serialize_part(p.headers, p.body);
    if (!p.body.empty() && p.body.back() != '\n') out += "\r\n";
    if (p.body.empty()) out += "\r\n";
  }
  out += "--";
  out.append(boundary);
  out += "--\r\n";
  return out;
}

PartSpec text_part(std::string_view text, bool allow_8bit) {
  PartSpec p;
  std::string crlf = to_crlf(text);
  bool eight = has_8bit(crlf), lng = has_long_line(crlf);
  std::string charset = eight ? "utf-8" : "us-ascii";
  p.headers.push_back(Header{"Content-Type", "text/plain; charset=" + charset});
  if (lng || (eight && !allow_8bit)) {
    p.headers.push_back(Header{"Content-Transfer-Encoding", "quoted-printable"});
    p.body = qp_encode(crlf);
  } else {
    p.headers.push_back(Header{"Content-Transfer-Encoding", eight ? "8bit" : "7bit"});
    p.body = std::move(crlf);
  }
  return p;
}

PartSpec attachment_part(std::string_view filename, std::string_view content_type, std::string_view bytes) {
  PartSpec p;
  std::string ct = content_type.empty() ? std::string("application/octet-stream") : std::string(content_type);
  p.headers.push_back(Header{"Content-Type", ct + "; name=" + quote_param(filename)});
  p.headers.push_back(Header{"Content-Transfer-Encoding", "base64"});
  p.headers.push_back(Header{"Content-Disposition", "attachment; filename=" + quote_param(filename)});
  p.body = base64_encode(bytes);
  return p;
}

std::vector<EncodingCost> downgrade_to_7bit(Message& m) {
  std::vector<EncodingCost> costs;
  MimePart root = parse_mime(m);
  if (root.parts.empty()) {
    if (auto c = downgrade_leaf(m.headers, m.body)) costs.push_back(*c);
    return costs;
  }
  downgrade_tree(root, costs);
  if (!costs.empty()) m.body = root.body;
  return costs;
}

bool needs_8bitmime(const Message& m) {
  if (has_8bit(m.body)) return true;
  for (const Header& h : m.headers)
    if (has_8bit(h.value)) return true;
  return false;
}

}  // namespace smtplab::mail
