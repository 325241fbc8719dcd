// sim/dns/zone_record.cpp: zone-file record text, both directions.
#include "sim/dns/zone_record.hpp"

#include <cctype>
#include <vector>

namespace smtplab {

std::string_view rr_type_name(RrType t) {
  switch (t) {
    case RrType::A: return "A";
    case RrType::CNAME: return "CNAME";
    case RrType::MX: return "MX";
  }
  return "?";
}

std::string fqdn(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  append_fqdn(out, name);
  return out;
}

void append_fqdn(std::string& out, std::string_view name) {
  for (char c : name) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.empty() || name.back() != '.') out += '.';
}

bool is_fqdn_of(std::string_view fq, std::string_view name) {
  const bool dotted = !name.empty() && name.back() == '.';
  if (fq.size() != name.size() + (dotted ? 0 : 1)) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (fq[i] != static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])))) return false;
  return dotted || fq.back() == '.';
}

std::string ZoneRecord::to_text() const {
  std::string out = name + " " + std::to_string(ttl) + " IN " + std::string(rr_type_name(type)) + " ";
  switch (type) {
    case RrType::A: out += address; break;
    case RrType::MX: out += std::to_string(preference) + " " + target; break;
    case RrType::CNAME: out += target; break;
  }
  return out;
}

bool is_valid_ipv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = i;
    int value = 0;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) && j - i < 4) {
      value = value * 10 + (s[j] - '0');
      ++j;
    }
    if (j == i || j - i > 3 || value > 255) return false;
    if (j - i > 1 && s[i] == '0') return false;  // no leading zeros (octal ambiguity)
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

bool is_valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (s.back() == '.') s.remove_suffix(1);
  size_t label = 0;
  char prev = '.';
  for (char c : s) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

namespace {

std::string qualify(std::string_view name, std::string_view origin) {
  if (name == "@") return fqdn(origin);
  if (!name.empty() && name.back() == '.') return fqdn(name);
  if (origin.empty()) return fqdn(name);
  return fqdn(std::string(name) + "." + std::string(origin));
}

}  // namespace

std::optional<ZoneRecord> parse_zone_record(std::string_view text, std::string_view origin, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ZoneRecord> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  std::vector<std::string> tok;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) tok.emplace_back(text.substr(i, j - i));
    i = j;
  }
  if (tok.size() < 3) return fail("expected \"NAME [TTL] [IN] TYPE DATA\", e.g. \"example.test. 3600 IN MX 10 mx.example.test.\"");
  ZoneRecord r;
  size_t k = 0;
  if (tok[k] != "@" && !is_valid_hostname(tok[k])) return fail("\"" + tok[k] + "\" is not a valid domain name");
  r.name = qualify(tok[k++], origin);
  // A relative name can become too long once the origin is appended (found by
  // fuzz_zone): RFC 1035 2.3.4 limits a name to 255 octets on the wire, 253
  // characters in text.
  if (!is_valid_hostname(r.name))
    return fail("\"" + r.name + "\" is too long once qualified with the origin (at most 253 characters, RFC 1035 2.3.4)");
  if (k < tok.size() && std::isdigit(static_cast<unsigned char>(tok[k][0]))) {
    if (tok[k].size() > 10) return fail("TTL \"" + tok[k] + "\" is too large");
    const unsigned long long ttl = std::stoull(tok[k]);
    for (char c : tok[k])
      if (!std::isdigit(static_cast<unsigned char>(c))) return fail("TTL \"" + tok[k] + "\" is not a whole number");
    if (ttl > 2147483647ULL) return fail("TTL must be at most 2147483647 (RFC 2181 8)");
    r.ttl = static_cast<uint32_t>(ttl);
    ++k;
  }
  if (k < tok.size() && (tok[k] == "IN" || tok[k] == "in")) ++k;
  if (k >= tok.size()) return fail("missing record type (A, MX or CNAME)");
  std::string type = tok[k++];
  for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const size_t left = tok.size() - k;
  if (type == "A") {
    r.type = RrType::A;
    if (left != 1) return fail("an A record takes one IPv4 address");
    if (!is_valid_ipv4(tok[k])) return fail("\"" + tok[k] + "\" is not an IPv4 address");
    r.address = tok[k];
  } else if (type == "MX") {
    r.type = RrType::MX;
    if (left != 2) return fail("an MX record takes a preference and a host, e.g. \"MX 10 mx.example.test.\"");
    for (char c : tok[k])
      if (!std::isdigit(static_cast<unsigned char>(c))) return fail("MX preference \"" + tok[k] + "\" is not a number");
    if (tok[k].size() > 5 || std::stoul(tok[k]) > 65535) return fail("MX preference must be 0..65535");
    r.preference = static_cast<uint16_t>(std::stoul(tok[k]));
    if (tok[k + 1] == ".") {
      r.target = ".";  // RFC 7505 null MX
    } else {
      if (!is_valid_hostname(tok[k + 1])) return fail("\"" + tok[k + 1] + "\" is not a valid host name");
      r.target = qualify(tok[k + 1], origin);
    if (!is_valid_hostname(r.target))
      return fail("\"" + r.target + "\" is too long once qualified with the origin (at most 253 characters, RFC 1035 2.3.4)");
    }
  } else if (type == "CNAME") {
    r.type = RrType::CNAME;
    if (left != 1) return fail("a CNAME record takes one target name");
    if (!is_valid_hostname(tok[k])) return fail("\"" + tok[k] + "\" is not a valid domain name");
    r.target = qualify(tok[k], origin);
    if (!is_valid_hostname(r.target))
      return fail("\"" + r.target + "\" is too long once qualified with the origin (at most 253 characters, RFC 1035 2.3.4)");
  } else {
    return fail("record type \"" + type + "\" is not supported; expected one of: A, MX, CNAME");
  }
  return r;
}

}  // namespace smtplab
