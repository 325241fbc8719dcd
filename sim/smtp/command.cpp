// sim/smtp/command.cpp: command line splitting, RFC 5321 4.1.2 path syntax,
// ESMTP parameters and xtext.
//
// Must never: accept a control character (or any octet >= 128: we do not
// implement SMTPUTF8, RFC 6531) inside a path; read past the input.
#include "sim/smtp/command.hpp"

#include <array>

#include "sim/smtp/scan.hpp"

namespace smtplab::smtp {

namespace {

constexpr std::array<std::string_view, kVerbCount> kVerbNames{"EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP",
                                                              "QUIT", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH"};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_let_dig(char c) { return is_alpha(c) || is_digit(c); }
char up(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
char low(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// RFC 5322 3.2.3 atext
bool is_atext(char c) {
  if (is_let_dig(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '/':
    case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

bool has_control(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 32 || u >= 127) return true;
  }
  return false;
}

SyntaxError err501(std::string msg, std::string enh = "5.5.4") { return SyntaxError{501, std::move(enh), std::move(msg)}; }

bool fail(SyntaxError* e, SyntaxError v) {
  if (e) *e = std::move(v);
  return false;
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = i;
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j == i || j - i > 3) return false;
    int v = 0;
    for (size_t k = i; k < j; ++k) v = v * 10 + (s[k] - '0');
    if (v > 255) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 5321 4.1.3 IPv6-addr, checked loosely: hex groups, colons, at most one
// "::", optionally ending in an IPv4 address.
bool is_ipv6(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  int groups = 0;
  bool double_colon = false;
  size_t i = 0;
  if (s.substr(0, 2) == "::") {
    double_colon = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && is_hex(s[j])) ++j;
    if (j < s.size() && s[j] == '.') {  // trailing IPv4
      if (!is_ipv4(s.substr(i))) return false;
      groups += 2;
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    if (j == s.size()) break;
    if (s[j] != ':') return false;
    if (j + 1 < s.size() && s[j + 1] == ':') {
      if (double_colon) return false;
      double_colon = true;
      i = j + 2;
      if (i == s.size()) break;
    } else {
      i = j + 1;
      if (i == s.size()) return false;
    }
  }
  return double_colon ? groups < 8 : groups == 8;
}

}  // namespace

std::string_view verb_name(Verb v) {
  size_t i = static_cast<size_t>(v);
  return i < kVerbNames.size() ? kVerbNames[i] : std::string_view{"?"};
}

Verb verb_from_name(std::string_view name) {
  for (size_t i = 0; i < kVerbNames.size(); ++i)
    if (iequals(kVerbNames[i], name)) return static_cast<Verb>(i);
  return Verb::unknown;
}

std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = low(c);
  return r;
}
std::string ascii_upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = up(c);
  return r;
}
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (low(a[i]) != low(b[i])) return false;
  return true;
}

CommandLine split_command(std::string_view line) {
  CommandLine c;
  size_t sp = scan::find_byte(line, ' ');
  std::string_view verb = line.substr(0, sp);
  c.verb_text = verb;
  c.verb = verb_from_name(verb);
  if (sp != std::string_view::npos) {
    c.had_separator = true;
    c.argument = line.substr(sp + 1);
  }
  return c;
}

bool is_valid_address_literal(std::string_view d) {
  if (d.size() < 3 || d.front() != '[' || d.back() != ']') return false;
  std::string_view in = d.substr(1, d.size() - 2);
  if (is_ipv4(in)) return true;
  if (in.size() > 5 && iequals(in.substr(0, 5), "IPv6:")) return is_ipv6(in.substr(5));
  // General-address-literal = Standardized-tag ":" 1*dcontent; we know no other tags.
  return false;
}

bool is_valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  if (d.front() == '[') return is_valid_address_literal(d);
  size_t i = 0;
  while (i < d.size()) {
    size_t j = d.find('.', i);
    if (j == std::string_view::npos) j = d.size();
    std::string_view label = d.substr(i, j - i);
    // sub-domain = Let-dig [Ldh-str]; Ldh-str ends in Let-dig
    if (label.empty() || label.size() > 63) return false;
    if (!is_let_dig(label.front()) || !is_let_dig(label.back())) return false;
    for (char c : label)
      if (!is_let_dig(c) && c != '-') return false;
    if (j == d.size()) break;
    i = j + 1;
    if (i == d.size()) return false;  // trailing dot
  }
  return true;
}

bool is_valid_local_part(std::string_view l) {
  if (l.empty() || l.size() > 64) return false;  // RFC 5321 4.5.3.1.1
  if (l.front() == '"') {
    // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    if (l.size() < 2 || l.back() != '"') return false;
    for (size_t i = 1; i + 1 < l.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(l[i]);
      if (c == '\\') {
        if (i + 2 >= l.size()) return false;
        unsigned char n = static_cast<unsigned char>(l[i + 1]);
        if (n < 32 || n > 126) return false;
        ++i;
      } else if (c < 32 || c > 126 || c == '"') {
        return false;
      }
    }
    return true;
  }
  // Dot-string = Atom *("." Atom)
  bool prev_dot = true;
  for (char c : l) {
    if (c == '.') {
      if (prev_dot) return false;
      prev_dot = true;
    } else if (is_atext(c)) {
      prev_dot = false;
    } else {
      return false;
    }
  }
  return !prev_dot;
}

namespace {

// Splits a mailbox at the last "@" outside a quoted local part.
bool split_mailbox(std::string_view m, std::string_view& local, std::string_view& domain) {
  size_t at = std::string_view::npos;
  bool quoted = false;
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (quoted && c == '\\') {
      ++i;
      continue;
    }
    if (c == '"') quoted = !quoted;
    else if (c == '@' && !quoted) at = i;
  }
  if (at == std::string_view::npos) return false;
  local = m.substr(0, at);
  domain = m.substr(at + 1);
  return true;
}

}  // namespace

bool is_valid_mailbox(std::string_view m) {
  std::string_view local, domain;
  if (!split_mailbox(m, local, domain)) return false;
  return is_valid_local_part(local) && is_valid_domain(domain);
}

std::optional<Path> parse_path(std::string_view text, bool allow_null, SyntaxError* error) {
  Path p;
  // RFC 5321 4.5.3.1.3: a path is at most 256 octets (brackets included).
  if (text.size() > 256) {
    fail(error, err501("Path too long (RFC 5321 4.5.3.1.3: 256 octets)", "5.1.3"));
    return std::nullopt;
  }
  if (has_control(text)) {
    fail(error, err501("Control character or non-ASCII octet in address", "5.1.3"));
    return std::nullopt;
  }
  if (text.size() < 2 || text.front() != '<' || text.back() != '>') {
    fail(error, err501("Address must be enclosed in <> (RFC 5321 4.1.2)", "5.1.3"));
    return std::nullopt;
  }
  std::string_view in = text.substr(1, text.size() - 2);
  if (in.empty()) {
    if (!allow_null) {
      fail(error, err501("The null path <> is only allowed in MAIL FROM", "5.1.3"));
      return std::nullopt;
    }
    return p;
  }
  // A-d-l = At-domain *( "," At-domain ) ":"  -- accepted and ignored (RFC 5321 4.1.2, C)
  if (in.front() == '@') {
    size_t colon = in.find(':');
    if (colon == std::string_view::npos) {
      fail(error, err501("Source route without ':' (RFC 5321 4.1.2)", "5.1.3"));
      return std::nullopt;
    }
    std::string_view adl = in.substr(0, colon);
    size_t i = 0;
    while (i < adl.size()) {
      size_t j = adl.find(',', i);
      if (j == std::string_view::npos) j = adl.size();
      std::string_view at_domain = adl.substr(i, j - i);
      if (at_domain.size() < 2 || at_domain.front() != '@' || !is_valid_domain(at_domain.substr(1))) {
        fail(error, err501("Bad source route \"" + std::string(at_domain) + "\"", "5.1.3"));
        return std::nullopt;
      }
      if (j == adl.size()) break;
      i = j + 1;
      if (i == adl.size()) {
        fail(error, err501("Bad source route (trailing ',')", "5.1.3"));
        return std::nullopt;
      }
    }
    p.source_route = true;
    in = in.substr(colon + 1);
  }
  std::string_view local, domain;
  if (!split_mailbox(in, local, domain)) {
    fail(error, err501("Address \"" + std::string(in) + "\" has no domain (RFC 5321 4.1.2: local-part@domain)", "5.1.3"));
    return std::nullopt;
  }
  if (!is_valid_local_part(local)) {
    fail(error, err501("Bad local part \"" + std::string(local) + "\" (RFC 5321 4.1.2)", "5.1.3"));
    return std::nullopt;
  }
  if (!is_valid_domain(domain)) {
    fail(error, err501("Bad domain \"" + std::string(domain) + "\" (RFC 5321 4.1.2)", "5.1.3"));
    return std::nullopt;
  }
  p.local.assign(local);
  p.domain.assign(domain);
  p.mailbox.assign(in);
  return p;
}

namespace {

bool parse_params(std::string_view rest, std::vector<Param>& out, SyntaxError* error) {
  size_t i = 0;
  while (i < rest.size()) {
    if (rest[i] == ' ') {
      ++i;
      continue;
    }
    size_t j = rest.find(' ', i);
    if (j == std::string_view::npos) j = rest.size();
    std::string_view tok = rest.substr(i, j - i);
    size_t eq = tok.find('=');
    std::string_view kw = tok.substr(0, eq);
    // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    bool ok = !kw.empty() && is_let_dig(kw.front());
    for (char c : kw)
      if (!is_let_dig(c) && c != '-') ok = false;
    if (!ok) return fail(error, err501("Bad parameter keyword \"" + std::string(kw.substr(0, 40)) + "\""));
    Param p;
    p.keyword = ascii_upper(kw);
    if (eq != std::string_view::npos) {
      std::string_view v = tok.substr(eq + 1);
      // esmtp-value = 1*(%d33-60 / %d62-126)
      if (v.empty()) return fail(error, err501("Empty value for parameter " + p.keyword));
      for (char c : v) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126 || u == '=') return fail(error, err501("Bad value for parameter " + p.keyword));
      }
      p.value.assign(v);
      p.has_value = true;
    }
    if (out.size() >= 32) return fail(error, err501("Too many parameters"));
    out.push_back(std::move(p));
    i = j;
  }
  return true;
}

std::optional<MailArg> parse_arg(std::string_view arg, std::string_view prefix, bool is_mail, SyntaxError* error) {
  // A view: the message is built only when it is sent (a valid path costs no allocation here).
  const std::string_view usage =
      is_mail ? "Syntax: MAIL FROM:<address> [parameters]" : "Syntax: RCPT TO:<address> [parameters]";
  if (arg.size() < prefix.size() || !iequals(arg.substr(0, prefix.size()), prefix)) {
    fail(error, err501(std::string(usage)));
    return std::nullopt;
  }
  std::string_view rest = arg.substr(prefix.size());
  // deviation: RFC 5321 4.1.1.2 has no space after the colon; every MTA
  // tolerates one, and some clients send it.
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() != '<') {
    fail(error, err501(std::string(usage) + " (address must be in <>)", "5.1.3"));
    return std::nullopt;
  }
  // Find the closing ">" outside a quoted local part.
  size_t close = std::string_view::npos;
  bool quoted = false;
  for (size_t i = 1; i < rest.size(); ++i) {
    char c = rest[i];
    if (quoted && c == '\\') {
      ++i;
      continue;
    }
    if (c == '"') quoted = !quoted;
    else if (c == '>' && !quoted) {
      close = i;
      break;
    }
  }
  if (close == std::string_view::npos) {
    fail(error, err501("Unbalanced <> in address", "5.1.3"));
    return std::nullopt;
  }
  std::string_view path_text = rest.substr(0, close + 1);
  std::string_view params = rest.substr(close + 1);
  if (!params.empty() && params.front() != ' ') {
    fail(error, err501("Expected a space between the address and parameters"));
    return std::nullopt;
  }
  MailArg a;
  if (!is_mail) {
    // RFC 5321 4.1.1.3: "<Postmaster>" without domain, any case.
    std::string_view inner = path_text.substr(1, path_text.size() - 2);
    if (iequals(inner, "postmaster")) {
      a.path.mailbox = "postmaster";
      a.path.local = std::string(inner);
    }
  }
  if (a.path.mailbox.empty()) {
    std::optional<Path> p = parse_path(path_text, is_mail, error);
    if (!p) return std::nullopt;
    a.path = std::move(*p);
  }
  if (!parse_params(params, a.params, error)) return std::nullopt;
  return a;
}

}  // namespace

std::optional<MailArg> parse_mail_from(std::string_view argument, SyntaxError* error) {
  return parse_arg(argument, "FROM:", true, error);
}

std::optional<MailArg> parse_rcpt_to(std::string_view argument, SyntaxError* error) {
  return parse_arg(argument, "TO:", false, error);
}

std::optional<std::string> decode_xtext(std::string_view s) {
  // RFC 3461 4: xtext = *( xchar / hexchar ), hexchar = "+" 2HEXUPPER
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '+') {
      if (i + 2 >= s.size()) return std::nullopt;
      char h = s[i + 1], l = s[i + 2];
      auto val = [](char x) -> int {
        if (x >= '0' && x <= '9') return x - '0';
        if (x >= 'A' && x <= 'F') return x - 'A' + 10;
        return -1;
      };
      int hv = val(h), lv = val(l);
      if (hv < 0 || lv < 0) return std::nullopt;
      out.push_back(static_cast<char>(hv * 16 + lv));
      i += 2;
    } else if (c >= 33 && c <= 126 && c != '=') {
      out.push_back(static_cast<char>(c));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string encode_xtext(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 33 && c <= 126 && c != '+' && c != '=') {
      out.push_back(ch);
    } else {
      out.push_back('+');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view s) {
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(s[i]) << 16) | (static_cast<uint8_t>(s[i + 1]) << 8) | static_cast<uint8_t>(s[i + 2]);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  if (s.size() - i == 1) {
    uint32_t v = static_cast<uint8_t>(s[i]) << 16;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out += "==";
  } else if (s.size() - i == 2) {
    uint32_t v = (static_cast<uint8_t>(s[i]) << 16) | (static_cast<uint8_t>(s[i + 1]) << 8);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view s) {
  // RFC 4648 4: groups of 4; "=" padding only at the end.
  if (s.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + k];
      if (c == '=') {
        if (i + 4 != s.size() || k < 2) return std::nullopt;
        v[k] = 0;
        ++pad;
      } else {
        if (pad) return std::nullopt;  // data after padding
        v[k] = b64_value(c);
        if (v[k] < 0) return std::nullopt;
      }
    }
    uint32_t w = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                 (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<char>((w >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xFF));
  }
  return out;
}

}  // namespace smtplab::smtp
