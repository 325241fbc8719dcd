// sim/lesson/loader.cpp: strict JSON -> Lesson, every error reported.
//
// Same conventions as the scenario loader (sim/scenario/loader.cpp): unknown
// keys are rejected with the allowed list, enums say "expected one of: ...",
// every error is "file: /json/pointer: reason", and the raw text is checked
// (size, NUL, UTF-8, depth) before parsing, so no input can crash or hang.
// Pass 1 reads structure and types; pass 2 checks references against the
// scenario (host names in matchers, fault additions through the scenario
// loader itself).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "sim/lesson/lesson.hpp"
#include "sim/scenario/json_text.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab {

using json = nlohmann::json;

namespace {

const std::vector<std::string> kLessonKeys{"smtplab_lesson", "title", "summary", "scenario", "steps"};
const std::vector<std::string> kStepKeys{"title", "text",   "terms",    "myths",    "rfc",     "pause",
                                         "highlight", "show", "expect", "question", "exercise"};
const std::vector<std::string> kMythKeys{"claim", "truth", "cite"};
const std::vector<std::string> kMatcherKeys{"kind", "layer", "src",    "dst",   "host",   "text",
                                            "text_regex", "wire", "wire_regex", "attrs", "attrs_regex", "student_fault",
                                            "after", "before", "within", "caused_by", "nth"};
const std::vector<std::string> kCheckKeys{"exists", "absent", "count", "min", "max", "order", "all", "any", "not", "fate"};
const std::vector<std::string> kFateKeys{"rcpt", "message", "state", "cut", "duplicate", "at"};
const std::vector<std::string> kQuestionKeys{"prompt", "choices", "answer", "reveal", "explain"};
const std::vector<std::string> kChoiceKeys{"text", "match", "why"};
const std::vector<std::string> kExerciseKeys{"task", "hint", "check", "explain", "teacher"};
const std::vector<std::string> kTeacherKeys{"solution", "non_solution"};
const std::vector<std::string> kAdditionsKeys{"faults", "messages", "switch_off"};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string escape_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}
std::string child(const std::string& p, std::string_view key) { return p + "/" + escape_token(key); }
std::string child(const std::string& p, size_t i) { return p + "/" + std::to_string(i); }

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "true/false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

class Reader {
 public:
  Reader(std::string file, std::vector<ScenarioError>& errors) : file_(std::move(file)), errors_(errors) {}
  const std::string& file() const { return file_; }
  std::vector<ScenarioError>& errors() { return errors_; }

  void error(const std::string& ptr, std::string message) {
    errors_.push_back(ScenarioError{file_, ptr.empty() ? "/" : ptr, 0, 0, std::move(message)});
  }

  bool object(const json& j, const std::string& ptr, const std::vector<std::string>& allowed, const char* what) {
    if (!j.is_object()) {
      error(ptr, std::string("expected ") + what + " (a JSON object), got " + type_name(j));
      return false;
    }
    for (auto it = j.begin(); it != j.end(); ++it)
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
        error(child(ptr, it.key()), "unknown key \"" + it.key() + "\"; allowed keys: " + join(allowed));
    return true;
  }

  const json* field(const json& obj, const char* key, const std::string& ptr, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) error(child(ptr, key), "required key is missing");
      return nullptr;
    }
    return &*it;
  }

  bool string(const json& obj, const char* key, const std::string& ptr, std::string& out, bool required = false) {
    const json* v = field(obj, key, ptr, required);
    if (!v) return false;
    if (!v->is_string()) {
      error(child(ptr, key), "expected a string, got " + type_name(*v));
      return false;
    }
    out = v->get<std::string>();
    if (required && out.empty()) {
      error(child(ptr, key), "must not be empty");
      return false;
    }
    return true;
  }

  // A string, or an array of strings joined by newlines (long narrative).
  bool text(const json& obj, const char* key, const std::string& ptr, std::string& out, bool required = false) {
    const json* v = field(obj, key, ptr, required);
    if (!v) return false;
    if (v->is_string()) {
      out = v->get<std::string>();
      return true;
    }
    if (!v->is_array()) {
      error(child(ptr, key), "expected a string or an array of lines, got " + type_name(*v));
      return false;
    }
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        error(child(child(ptr, key), i), "expected a string, got " + type_name((*v)[i]));
        return false;
      }
      if (i) out += '\n';
      out += (*v)[i].get<std::string>();
    }
    return true;
  }

  bool integer(const json& obj, const char* key, const std::string& ptr, int& out, int lo, int hi) {
    const json* v = field(obj, key, ptr, false);
    if (!v) return false;
    if (!v->is_number_integer()) {
      error(child(ptr, key), "expected a whole number, got " + (v->is_number() ? v->dump() : type_name(*v)));
      return false;
    }
    const int64_t value = v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX ? INT64_MAX : v->get<int64_t>();
    if (value < lo || value > hi) {
      error(child(ptr, key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                                 std::to_string(value));
      return false;
    }
    out = static_cast<int>(value);
    return true;
  }

 private:
  std::string file_;
  std::vector<ScenarioError>& errors_;
};

template <class E, class Fn>
bool name_list(Reader& rd, const json& v, const std::string& ptr, std::vector<E>& out, Fn lookup,
               const std::vector<std::string>& names, const char* what) {
  std::vector<const json*> items;
  if (v.is_string()) {
    items.push_back(&v);
  } else if (v.is_array() && !v.empty()) {
    for (const json& e : v) items.push_back(&e);
  } else {
    rd.error(ptr, std::string("expected a ") + what + " name or a non-empty array of them, got " + type_name(v));
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string p = v.is_array() ? child(ptr, i) : ptr;
    if (!items[i]->is_string()) {
      rd.error(p, std::string("expected a ") + what + " name, got " + type_name(*items[i]));
      ok = false;
      continue;
    }
    const std::string s = items[i]->get<std::string>();
    auto e = lookup(s);
    if (!e) {
      rd.error(p, "unknown " + std::string(what) + " \"" + s + "\"; expected one of: " + join(names));
      ok = false;
      continue;
    }
    out.push_back(*e);
  }
  return ok;
}

std::vector<std::string> all_kind_names() {
  std::vector<std::string> out;
#define SMTPLAB_KIND_NAME(id, layer, name, desc) out.emplace_back(name);
  SMTPLAB_TRACE_KINDS(SMTPLAB_KIND_NAME)
#undef SMTPLAB_KIND_NAME
  return out;
}

std::vector<std::string> all_layer_names() {
  std::vector<std::string> out;
  for (int i = 0; i < kLayerCount; ++i) out.emplace_back(layer_name(static_cast<Layer>(i)));
  return out;
}

// Host names a matcher mentions, with their pointers, for pass 2.
struct HostRef {
  std::string name;
  std::string pointer;
};

struct Ctx {
  Reader& rd;
  std::vector<HostRef> host_refs;
};

std::optional<std::regex> compile_regex(Reader& rd, const std::string& ptr, const std::string& source) {
  if (source.size() > 500) {
    rd.error(ptr, "regular expression is too long (at most 500 characters)");
    return std::nullopt;
  }
  try {
    return std::regex(source, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    rd.error(ptr, "bad regular expression /" + source + "/: " + e.what());
    return std::nullopt;
  }
}

bool attr_value(Reader& rd, const json& v, const std::string& p, std::string& out) {
  if (v.is_string()) {
    out = v.get<std::string>();
    return true;
  }
  if (v.is_number_integer()) {
    out = v.dump();  // "code": 354 reads as "354", as attributes are text
    return true;
  }
  rd.error(p, "expected a string or a whole number, got " + type_name(v));
  return false;
}

// j[key], when present, as a duration string ("30s", "5min"), not negative;
// returns whether the key was there.
bool read_duration(Reader& rd, const json& j, const char* key, const std::string& ptr, std::optional<SimTime>& out) {
  const json* v = rd.field(j, key, ptr, false);
  if (!v) return false;
  std::string why;
  std::optional<SimTime> d;
  if (v->is_string()) d = parse_duration(v->get<std::string>(), &why);
  if (!v->is_string())
    rd.error(child(ptr, key), "expected a duration string such as \"30s\" or \"5min\", got " + type_name(*v));
  else if (!d || d->us < 0)
    rd.error(child(ptr, key), "bad duration \"" + v->get<std::string>() + "\"" + (why.empty() ? "" : ": " + why));
  else
    out = d;
  return true;
}

std::optional<RecordMatcher> read_matcher(Ctx& cx, const json& j, const std::string& ptr, const char* what);

std::shared_ptr<RecordMatcher> sub_matcher(Ctx& cx, const json& j, const char* key, const std::string& ptr) {
  auto it = j.find(key);
  if (it == j.end()) return nullptr;
  auto m = read_matcher(cx, *it, child(ptr, key), "a record matcher");
  if (!m) return nullptr;
  return std::make_shared<RecordMatcher>(std::move(*m));
}

std::optional<RecordMatcher> read_matcher(Ctx& cx, const json& j, const std::string& ptr, const char* what) {
  Reader& rd = cx.rd;
  const size_t before_errors = rd.errors().size();
  if (!rd.object(j, ptr, kMatcherKeys, what)) return std::nullopt;
  RecordMatcher m;
  if (const json* v = rd.field(j, "kind", ptr, false))
    name_list(rd, *v, child(ptr, "kind"), m.kinds, [](const std::string& s) { return kind_from_name(s); },
              all_kind_names(), "record kind");
  if (const json* v = rd.field(j, "layer", ptr, false))
    name_list(rd, *v, child(ptr, "layer"), m.layers, [](const std::string& s) { return layer_from_name(s); },
              all_layer_names(), "layer");
  for (const char* key : {"src", "dst", "host"}) {
    std::string* out = key[0] == 's' ? &m.src : key[0] == 'd' ? &m.dst : &m.host;
    if (rd.string(j, key, ptr, *out) && !out->empty()) cx.host_refs.push_back({*out, child(ptr, key)});
  }
  rd.string(j, "text", ptr, m.text);
  if (rd.string(j, "text_regex", ptr, m.text_regex_source))
    m.text_regex = compile_regex(rd, child(ptr, "text_regex"), m.text_regex_source);
  rd.string(j, "wire", ptr, m.wire);
  if (rd.string(j, "wire_regex", ptr, m.wire_regex_source))
    m.wire_regex = compile_regex(rd, child(ptr, "wire_regex"), m.wire_regex_source);
  for (const char* key : {"attrs", "attrs_regex"}) {
    const json* v = rd.field(j, key, ptr, false);
    if (!v) continue;
    const std::string p = child(ptr, key);
    if (!v->is_object() || v->empty()) {
      rd.error(p, "expected a non-empty object of attribute names and values, e.g. {\"code\": \"354\"}, got " +
                      type_name(*v));
      continue;
    }
    for (auto it = v->begin(); it != v->end(); ++it) {
      std::string value;
      if (!attr_value(rd, it.value(), child(p, it.key()), value)) continue;
      if (key[5] == '_') {
        if (auto re = compile_regex(rd, child(p, it.key()), value)) {
          m.attrs_regex_source.emplace_back(it.key(), value);
          m.attrs_regex.emplace_back(it.key(), std::move(*re));
        }
      } else {
        m.attrs.emplace_back(it.key(), value);
      }
    }
  }
  if (const json* v = rd.field(j, "student_fault", ptr, false)) {
    if (!v->is_boolean())
      rd.error(child(ptr, "student_fault"), "expected true or false, got " + type_name(*v));
    else
      m.student_fault = v->get<bool>();
  }
  m.after = sub_matcher(cx, j, "after", ptr);
  m.before = sub_matcher(cx, j, "before", ptr);
  m.caused_by = sub_matcher(cx, j, "caused_by", ptr);
  if (read_duration(rd, j, "within", ptr, m.within) && !j.contains("after"))
    rd.error(child(ptr, "within"), "\"within\" needs \"after\" (the record it is measured from)");
  rd.integer(j, "nth", ptr, m.nth, 1, 1000000);
  if (rd.errors().size() != before_errors) return std::nullopt;
  return m;
}

// {"rcpt": "alice@yahoo.test", "message": 0, "state": "bounced" | [...], "cut": true, "duplicate": false,
//  "at": "1h"}
void read_fate(Ctx& cx, const json& j, const std::string& ptr, FateMatch& f) {
  Reader& rd = cx.rd;
  if (!rd.object(j, ptr, kFateKeys, "a fate (what happened to a recipient)")) return;
  if (rd.string(j, "rcpt", ptr, f.rcpt, true) && f.rcpt.find('@') == std::string::npos)
    rd.error(child(ptr, "rcpt"), "expected a recipient's address as the message names it, e.g. \"alice@yahoo.test\"");
  if (j.contains("message")) {
    int m = 0;
    if (rd.integer(j, "message", ptr, m, 0, 1000000)) f.message = m;
  }
  std::string names;
  for (FateState s : kFateStates) names += (names.empty() ? "" : ", ") + std::string(fate_state_key(s));
  if (const json* v = rd.field(j, "state", ptr, false)) {
    const std::string p = child(ptr, "state");
    auto one = [&](const json& s, const std::string& sp) {
      if (!s.is_string()) return rd.error(sp, "expected a state name (" + names + "), got " + type_name(s));
      if (auto st = fate_state_from_key(s.get<std::string>())) f.states.push_back(*st);
      else rd.error(sp, "unknown state \"" + s.get<std::string>() + "\"; expected one of: " + names);
    };
    if (v->is_array()) {
      if (v->empty()) rd.error(p, "expected at least one state name (" + names + ")");
      for (size_t i = 0; i < v->size(); ++i) one((*v)[i], child(p, i));
    } else {
      one(*v, p);
    }
  }
  for (const char* key : {"cut", "duplicate"})
    if (const json* v = rd.field(j, key, ptr, false)) {
      if (!v->is_boolean()) rd.error(child(ptr, key), std::string("expected true or false, got ") + type_name(*v));
      else (std::string_view(key) == "cut" ? f.cut : f.duplicate) = v->get<bool>();
    }
  read_duration(rd, j, "at", ptr, f.at);
}

std::optional<Check> read_check(Ctx& cx, const json& j, const std::string& ptr, int depth) {
  Reader& rd = cx.rd;
  const size_t before_errors = rd.errors().size();
  if (!rd.object(j, ptr, kCheckKeys, "a check")) return std::nullopt;
  static const std::vector<std::string> kOps{"exists", "absent", "count", "order", "all", "any", "not", "fate"};
  std::vector<std::string> present;
  for (const std::string& op : kOps)
    if (j.contains(op)) present.push_back(op);
  if (present.size() != 1) {
    rd.error(ptr, present.empty() ? "a check needs one of: " + join(kOps)
                                  : "a check has exactly one of " + join(kOps) + "; this one has " + join(present));
    return std::nullopt;
  }
  if (depth > 8) {
    rd.error(ptr, "checks nested deeper than 8 levels");
    return std::nullopt;
  }
  Check c;
  c.pointer = ptr;
  const std::string& op = present.front();
  const std::string p = child(ptr, op);
  if (op != "count" && (j.contains("min") || j.contains("max")))
    rd.error(child(ptr, j.contains("min") ? "min" : "max"), "\"min\" and \"max\" go with \"count\" only");
  if (op == "exists" || op == "absent" || op == "count") {
    c.op = op == "exists" ? Check::Op::exists : op == "absent" ? Check::Op::absent : Check::Op::count;
    if (auto m = read_matcher(cx, j.at(op), p, "a record matcher")) c.match = std::move(*m);
    if (op == "count") {
      const bool has_min = rd.integer(j, "min", ptr, c.min, 0, 1000000);
      const bool has_max = rd.integer(j, "max", ptr, c.max, 0, 1000000);
      if (!j.contains("min") && !j.contains("max")) rd.error(ptr, "\"count\" needs \"min\", \"max\" or both");
      if (has_min && has_max && c.max < c.min) rd.error(child(ptr, "max"), "must not be less than \"min\"");
    }
  } else if (op == "order") {
    c.op = Check::Op::order;
    const json& arr = j.at(op);
    if (!arr.is_array() || arr.size() < 2) {
      rd.error(p, "expected an array of at least two record matchers, got " + type_name(arr));
    } else {
      for (size_t i = 0; i < arr.size(); ++i)
        if (auto m = read_matcher(cx, arr[i], child(p, i), "a record matcher")) c.order.push_back(std::move(*m));
    }
  } else if (op == "fate") {
    c.op = Check::Op::fate;
    read_fate(cx, j.at(op), p, c.fate);
  } else if (op == "not") {
    c.op = Check::Op::not_;
    if (auto sub = read_check(cx, j.at(op), p, depth + 1)) c.checks.push_back(std::move(*sub));
  } else {
    c.op = op == "all" ? Check::Op::all : Check::Op::any;
    const json& arr = j.at(op);
    if (!arr.is_array() || arr.empty()) {
      rd.error(p, "expected a non-empty array of checks, got " + type_name(arr));
    } else {
      for (size_t i = 0; i < arr.size(); ++i)
        if (auto sub = read_check(cx, arr[i], child(p, i), depth + 1)) c.checks.push_back(std::move(*sub));
    }
  }
  if (rd.errors().size() != before_errors) return std::nullopt;
  return c;
}

std::optional<Question> read_question(Ctx& cx, const json& j, const std::string& ptr) {
  Reader& rd = cx.rd;
  if (!rd.object(j, ptr, kQuestionKeys, "a question")) return std::nullopt;
  const size_t before_errors = rd.errors().size();
  Question q;
  q.pointer = ptr;
  rd.text(j, "prompt", ptr, q.prompt, true);
  rd.text(j, "explain", ptr, q.explain, true);
  if (const json* v = rd.field(j, "choices", ptr, true)) {
    const std::string p = child(ptr, "choices");
    if (!v->is_array() || v->size() < 2 || v->size() > 8) {
      rd.error(p, "expected an array of 2 to 8 choices, got " +
                      (v->is_array() ? std::to_string(v->size()) + " choices" : type_name(*v)));
    } else {
      for (size_t i = 0; i < v->size(); ++i) {
        const json& c = (*v)[i];
        const std::string cp = child(p, i);
        Choice ch;
        if (c.is_string()) {
          ch.text = c.get<std::string>();
        } else if (rd.object(c, cp, kChoiceKeys, "a choice")) {
          rd.string(c, "text", cp, ch.text, true);
          rd.text(c, "why", cp, ch.why);
          if (c.contains("match")) ch.match = read_matcher(cx, c.at("match"), child(cp, "match"), "a record matcher");
        }
        q.choices.push_back(std::move(ch));
      }
    }
  }
  std::string answer;
  if (rd.string(j, "answer", ptr, answer, true) && !q.choices.empty()) {
    std::vector<std::string> letters;
    for (size_t i = 0; i < q.choices.size(); ++i) letters.emplace_back(1, static_cast<char>('a' + i));
    auto it = std::find(letters.begin(), letters.end(), answer);
    if (it == letters.end()) {
      rd.error(child(ptr, "answer"), "unknown answer \"" + answer + "\"; expected one of: " + join(letters));
    } else {
      q.answer = static_cast<int>(it - letters.begin());
      const json& cj = j.at("choices")[static_cast<size_t>(q.answer)];
      if (!cj.is_object() || !cj.contains("match"))
        rd.error(child(child(child(ptr, "choices"), static_cast<size_t>(q.answer)), "match"),
                 "the right choice needs a \"match\": how the revealing record looks, so the checker can verify the "
                 "simulator really does this");
    }
  }
  if (const json* v = rd.field(j, "reveal", ptr, true))
    if (auto m = read_matcher(cx, *v, child(ptr, "reveal"), "a record matcher")) q.reveal = std::move(*m);
  if (rd.errors().size() != before_errors) return std::nullopt;
  return q;
}

std::optional<Exercise> read_exercise(Ctx& cx, const json& j, const std::string& ptr) {
  Reader& rd = cx.rd;
  if (!rd.object(j, ptr, kExerciseKeys, "an exercise")) return std::nullopt;
  const size_t before_errors = rd.errors().size();
  Exercise e;
  e.pointer = ptr;
  rd.text(j, "task", ptr, e.task, true);
  rd.text(j, "hint", ptr, e.hint);
  rd.text(j, "explain", ptr, e.explain);
  if (const json* v = rd.field(j, "check", ptr, true))
    if (auto c = read_check(cx, *v, child(ptr, "check"), 0)) e.check = std::move(*c);
  if (const json* t = rd.field(j, "teacher", ptr, true)) {
    const std::string tp = child(ptr, "teacher");
    if (rd.object(*t, tp, kTeacherKeys, "the teacher section (solution and non_solution)")) {
      for (const char* key : {"solution", "non_solution"}) {
        const json* v = rd.field(*t, key, tp, true);
        if (!v) continue;
        auto adds = read_additions(*v, rd.file(), child(tp, key), rd.errors());
        if (adds) (key[0] == 's' ? e.solution : e.non_solution) = std::move(*adds);
      }
    }
  }
  if (rd.errors().size() != before_errors) return std::nullopt;
  return e;
}

void read_step(Ctx& cx, const json& j, const std::string& ptr, Step& s) {
  Reader& rd = cx.rd;
  if (!rd.object(j, ptr, kStepKeys, "a step")) return;
  s.pointer = ptr;
  rd.string(j, "title", ptr, s.title, true);
  rd.text(j, "text", ptr, s.text, true);
  if (const json* v = rd.field(j, "terms", ptr, false)) {
    if (!v->is_object()) {
      rd.error(child(ptr, "terms"), "expected an object of term: meaning, got " + type_name(*v));
    } else {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (!it.value().is_string())
          rd.error(child(child(ptr, "terms"), it.key()), "expected the term's meaning as a string, got " + type_name(it.value()));
        else
          s.terms.push_back({it.key(), it.value().get<std::string>()});
      }
    }
  }
  if (const json* v = rd.field(j, "myths", ptr, false)) {
    const std::string p = child(ptr, "myths");
    if (!v->is_array()) {
      rd.error(p, "expected an array of {claim, truth, cite}, got " + type_name(*v));
    } else {
      for (size_t i = 0; i < v->size(); ++i) {
        const std::string mp = child(p, i);
        if (!rd.object((*v)[i], mp, kMythKeys, "a misconception")) continue;
        Myth m;
        rd.string((*v)[i], "claim", mp, m.claim, true);
        rd.text((*v)[i], "truth", mp, m.truth, true);
        rd.string((*v)[i], "cite", mp, m.cite, true);
        s.myths.push_back(std::move(m));
      }
    }
  }
  if (const json* v = rd.field(j, "rfc", ptr, false)) {
    const std::string p = child(ptr, "rfc");
    if (!v->is_array()) {
      rd.error(p, "expected an array of citations such as \"RFC 5321 4.5.2\", got " + type_name(*v));
    } else {
      for (size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string() || (*v)[i].get<std::string>().rfind("RFC ", 0) != 0)
          rd.error(child(p, i), "expected a citation such as \"RFC 5321 4.5.2\", got " + (*v)[i].dump());
        else
          s.rfc.push_back((*v)[i].get<std::string>());
      }
    }
  }
  if (const json* v = rd.field(j, "pause", ptr, false)) s.pause = read_matcher(cx, *v, child(ptr, "pause"), "a record matcher");
  if (const json* v = rd.field(j, "highlight", ptr, false))
    s.highlight = read_matcher(cx, *v, child(ptr, "highlight"), "a record matcher");
  if (const json* v = rd.field(j, "show", ptr, false)) {
    std::vector<Layer> layers;
    name_list(rd, *v, child(ptr, "show"), layers, [](const std::string& n) { return layer_from_name(n); },
              all_layer_names(), "layer");
    for (Layer l : layers) s.layers |= layer_bit(l);
  }
  if (const json* v = rd.field(j, "expect", ptr, false)) {
    const std::string p = child(ptr, "expect");
    if (!v->is_array()) {
      rd.error(p, "expected an array of checks, got " + type_name(*v));
    } else {
      for (size_t i = 0; i < v->size(); ++i)
        if (auto c = read_check(cx, (*v)[i], child(p, i), 0)) s.expect.push_back(std::move(*c));
    }
  }
  if (const json* v = rd.field(j, "question", ptr, false)) s.question = read_question(cx, *v, child(ptr, "question"));
  if (const json* v = rd.field(j, "exercise", ptr, false)) s.exercise = read_exercise(cx, *v, child(ptr, "exercise"));
}

bool read_text_file(const std::string& path, size_t limit, std::string& out, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open file";
    return false;
  }
  out.resize(limit + 1);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(in.gcount()));
  if (out.size() > limit) {
    why = "file is too large (over " + std::to_string(limit / 1024) + " KiB)";
    return false;
  }
  return true;
}

// Loads the scenario (reference or inline) into the lesson.
void read_scenario(Reader& rd, const json& v, const std::string& scenarios_dir, Lesson& lesson) {
  if (v.is_string()) {
    const std::string ref = v.get<std::string>();
    const std::filesystem::path rel(ref);
    if (ref.empty() || rel.is_absolute() || ref.find("..") != std::string::npos || rel.extension() != ".json") {
      rd.error("/scenario", "expected a file name in scenarios/ such as \"bob-to-alice.json\", got \"" + ref + "\"");
      return;
    }
    const std::string path = (std::filesystem::path(scenarios_dir) / rel).string();
    std::string text, why;
    if (!read_text_file(path, kMaxScenarioBytes, text, why)) {
      rd.error("/scenario", "scenario \"" + ref + "\": " + path + ": " + why);
      return;
    }
    LoadResult r = load_scenario_text(text, path);
    if (!r.ok()) {
      for (const ScenarioError& e : r.errors) rd.errors().push_back(e);
      rd.error("/scenario", "scenario \"" + ref + "\" is invalid (errors above)");
      return;
    }
    lesson.scenario_ref = ref;
    lesson.scenario_json = json::parse(text);  // valid: the loader just parsed it
    lesson.scenario = std::move(*r.scenario);
    return;
  }
  if (!v.is_object()) {
    rd.error("/scenario", "expected a scenario file name (\"bob-to-alice.json\") or an inline scenario object, got " +
                              type_name(v));
    return;
  }
  LoadResult r = load_scenario_text(v.dump(), rd.file());
  if (!r.ok()) {
    for (ScenarioError e : r.errors) {
      e.file = rd.file();
      e.pointer = "/scenario" + (e.pointer == "/" ? std::string() : e.pointer);
      e.line = e.column = 0;
      rd.errors().push_back(std::move(e));
    }
    return;
  }
  lesson.scenario_json = v;
  lesson.scenario = std::move(*r.scenario);
}

}  // namespace

std::optional<ScenarioAdditions> read_additions(const json& j, const std::string& file, const std::string& ptr,
                                                std::vector<ScenarioError>& errors) {
  Reader rd(file, errors);
  const size_t before_errors = errors.size();
  if (!rd.object(j, ptr, kAdditionsKeys,
                 "scenario additions ({\"faults\": [...], \"messages\": [...], \"switch_off\": [...]})"))
    return std::nullopt;
  ScenarioAdditions a;
  for (const char* key : {"faults", "messages"}) {
    const json* v = rd.field(j, key, ptr, false);
    if (!v) continue;
    if (!v->is_array()) {
      rd.error(child(ptr, key), "expected an array, got " + type_name(*v));
      continue;
    }
    if (v->size() > 1000) {
      rd.error(child(ptr, key), "too many entries (at most 1000)");
      continue;
    }
    (key[0] == 'f' ? a.faults : a.messages) = *v;
  }
  if (const json* v = rd.field(j, "switch_off", ptr, false)) {
    const std::string at = child(ptr, "switch_off");
    if (!v->is_array()) {
      rd.error(at, "expected an array of fault indices (from 0), got " + type_name(*v));
    } else if (v->size() > 1000) {
      rd.error(at, "too many entries (at most 1000)");
    } else {
      for (size_t k = 0; k < v->size(); ++k) {
        const json& x = (*v)[k];
        const std::string xp = at + "/" + std::to_string(k);
        if (!x.is_number_integer() || x.get<int64_t>() < 0) {
          rd.error(xp, "expected the index (from 0) of one of the scenario's faults, got " + x.dump());
          continue;
        }
        const auto idx = x.get<size_t>();
        if (std::find(a.switch_off.begin(), a.switch_off.end(), idx) != a.switch_off.end()) {
          rd.error(xp, "fault " + std::to_string(idx) + " is already switched off");
          continue;
        }
        a.switch_off.push_back(idx);
      }
    }
  }
  if (errors.size() != before_errors) return std::nullopt;
  return a;
}

std::string ScenarioAdditions::describe() const {
  std::string s = faults.empty() ? std::string() : faults.dump();
  for (size_t idx : switch_off) s += (s.empty() ? "" : "; ") + ("switch off fault " + std::to_string(idx));
  return s.empty() ? "(nothing)" : s;
}

LoadResult scenario_with(const Lesson& lesson, const ScenarioAdditions& additions, const std::string& source) {
  const json& doc = lesson.scenario_json;
  const size_t base_faults = doc.contains("faults") && doc["faults"].is_array() ? doc["faults"].size() : 0;
  LoadResult r = load_scenario_with_additions(doc, std::vector<json>(additions.faults.begin(), additions.faults.end()),
                                              std::vector<json>(additions.messages.begin(), additions.messages.end()),
                                              source, "(the lesson's scenario)");
  for (size_t k = 0; k < additions.switch_off.size(); ++k) {
    const size_t idx = additions.switch_off[k];
    if (idx < base_faults) {
      if (r.scenario) r.scenario->faults[idx].enabled = false;
      continue;
    }
    r.errors.push_back(ScenarioError{source, "/switch_off/" + std::to_string(k), 0, 0,
                                     "the lesson's scenario has " + std::to_string(base_faults) +
                                         (base_faults == 1 ? " fault" : " faults") + ", so there is no fault " +
                                         std::to_string(idx) + " to switch off"});
  }
  return r;
}

LessonLoad load_lesson_text(std::string_view text, const std::string& source_name, const std::string& id,
                            const std::string& scenarios_dir) {
  LessonLoad result;
  static constexpr JsonDocumentKind kKind{"lesson", "{\"smtplab_lesson\": 1, \"steps\": [...]}", kMaxLessonBytes,
                                          kMaxLessonDepth};
  std::optional<json> parsed = parse_json_document(text, source_name, kKind, result.errors);
  if (!parsed) return result;
  const json& root = *parsed;
  Reader rd(source_name, result.errors);
  Ctx cx{rd, {}};
  Lesson lesson;
  lesson.id = id;
  lesson.file = source_name;
  if (!rd.object(root, "", kLessonKeys, "a lesson")) return result;
  int version = 0;
  if (!root.contains("smtplab_lesson"))
    rd.error("/smtplab_lesson", "required key is missing (the lesson format version, 1)");
  else if (rd.integer(root, "smtplab_lesson", "", version, 0, 1000000) && version != kLessonVersion)
    rd.error("/smtplab_lesson", "this is lesson format version " + std::to_string(version) + "; this smtplab reads version " +
                                    std::to_string(kLessonVersion));
  rd.string(root, "title", "", lesson.title, true);
  rd.string(root, "summary", "", lesson.summary, true);
  if (lesson.summary.find('\n') != std::string::npos) rd.error("/summary", "must be one line (it is shown in the lesson list)");
  if (const json* v = rd.field(root, "scenario", "", true)) read_scenario(rd, *v, scenarios_dir, lesson);
  if (const json* v = rd.field(root, "steps", "", true)) {
    if (!v->is_array() || v->empty() || v->size() > 200) {
      rd.error("/steps", "expected an array of 1 to 200 steps, got " +
                             (v->is_array() ? std::to_string(v->size()) + " steps" : type_name(*v)));
    } else {
      for (size_t i = 0; i < v->size(); ++i) {
        Step s;
        read_step(cx, (*v)[i], child(std::string("/steps"), i), s);
        lesson.steps.push_back(std::move(s));
      }
    }
  }
  // Pass 2: references. A matcher naming a host that does not exist would
  // silently never match; say so instead.
  if (!lesson.scenario.hosts.empty()) {
    std::vector<std::string> names;
    for (const Host& h : lesson.scenario.hosts) names.push_back(h.name);
    for (const HostRef& ref : cx.host_refs)
      if (!lesson.scenario.find_host(ref.name) && ref.name != "internet")
        rd.error(ref.pointer, "no host named \"" + ref.name + "\" in the lesson's scenario; hosts: " + join(names));
    // Solutions must be valid scenario additions (a typo in a fault would
    // otherwise only show as "the solution does not pass").
    for (const Step& s : lesson.steps) {
      if (!s.exercise) continue;
      const std::pair<const ScenarioAdditions*, const char*> both[] = {{&s.exercise->solution, "solution"},
                                                                        {&s.exercise->non_solution, "non_solution"}};
      for (const auto& [adds, key] : both) {
        const std::string base = s.exercise->pointer + "/teacher/" + key;
        LoadResult r = scenario_with(lesson, *adds, source_name);
        for (ScenarioError e : r.errors) {
          e.file = source_name;
          e.pointer = base + e.pointer;
          result.errors.push_back(std::move(e));
        }
      }
    }
  }
  if (result.errors.empty()) result.lesson = std::move(lesson);
  return result;
}

std::string lesson_id_of(const std::string& path) { return std::filesystem::path(path).stem().string(); }

LessonLoad load_lesson_file(const std::string& path, const std::string& scenarios_dir) {
  LessonLoad result;
  std::string text, why;
  if (!read_text_file(path, kMaxLessonBytes, text, why)) {
    result.errors.push_back(ScenarioError{path, "", 0, 0, why});
    return result;
  }
  return load_lesson_text(text, path, lesson_id_of(path), scenarios_dir);
}

std::vector<std::string> lesson_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const auto& p = entry.path();
    if (p.extension() == ".json" && p.filename() != "schema.json") out.push_back(p.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::map<std::string, std::vector<std::string>>& lesson_allowed_keys() {
  static const std::map<std::string, std::vector<std::string>> kTable = {
      {"lesson", kLessonKeys},     {"step", kStepKeys},         {"myth", kMythKeys},
      {"matcher", kMatcherKeys},   {"check", kCheckKeys},       {"question", kQuestionKeys},
      {"choice", kChoiceKeys},     {"exercise", kExerciseKeys}, {"teacher", kTeacherKeys},
      {"additions", kAdditionsKeys}, {"fate", kFateKeys},
  };
  return kTable;
}

}  // namespace smtplab
