// gui/controller.cpp: applying the GUI's commands (see controller.hpp).
#include "gui/controller.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "gui/scenario_writer.hpp"
#include "sim/capture/packets.hpp"
#include "sim/pcap/pcap_file.hpp"
#include "sim/scenario/setting.hpp"

namespace smtplab::gui {

namespace fs = std::filesystem;

namespace {
// `text` (a scenario that loaded) with `pointer` set to `value` and its
// name saying so; nullopt and *why if the pointer does not fit the document.
std::optional<std::string> text_with_value(const std::string& text, const std::string& pointer,
                                           const nlohmann::json& value, std::string* why) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    *why = "the scenario is not a JSON object";
    return std::nullopt;
  }
  if (!apply_setting(doc, pointer, value, why)) return std::nullopt;
  const std::string name = doc.contains("name") && doc["name"].is_string() ? doc["name"].get<std::string>() : "";
  doc["name"] = Setting::name_with(name, pointer, value);
  return doc.dump(2) + "\n";
}
}  // namespace

Controller::Controller() = default;

int64_t Controller::end_time() const {
  if (!current_.run) return 0;
  return std::max<int64_t>(current_.run->end.us, current_.index.end_time());
}

const FateHistory& Controller::fate_history_now() const {
  if (fates_for_ != generation_) {
    fates_ = fate_history(records());
    fates_for_ = generation_;
  }
  return fates_;
}

std::vector<MessageFate> Controller::fates_at_cursor(size_t limit) const {
  return size() ? fates_at(fate_history_now(), std::min(cursor_ + 1, size()), limit) : std::vector<MessageFate>{};
}

size_t Controller::messages_at_cursor() const {
  return size() ? messages_at(fate_history_now(), std::min(cursor_ + 1, size())) : 0;
}

std::optional<MessageFate> Controller::fate_of_at_cursor(const Record& r) const {
  if (!size()) return std::nullopt;
  const FateHistory& h = fate_history_now();
  const MessageFate* m = message_of(h.end, r);
  if (!m) return std::nullopt;
  const size_t k = static_cast<size_t>(m - h.end.data());
  const size_t n = std::min(cursor_ + 1, size());
  if (h.born[k] >= n) return std::nullopt;
  return message_at(h, k, n);
}

const Record* Controller::selected_record() const {
  if (!selected_ || !size()) return nullptr;
  size_t i = index().index_of_seq(selected_);
  return i < size() ? &records()[i] : nullptr;
}

bool Controller::open(const std::string& path) {
  if (path.empty()) return open_text(std::string(default_scenario_text()), "<built-in bob-to-alice>");
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    errors_ = {ScenarioError{path, "", 0, 0, fs::exists(path, ec) ? "not a regular file" : "no such file"}};
    status_ = "could not open " + path;
    return false;
  }
  LoadResult r = load_scenario_file(path);
  if (!r.ok()) {
    errors_ = r.errors;
    status_ = path + ": " + std::to_string(r.errors.size()) + " error(s); still showing the previous scenario";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  text_ = ss.str();
  path_ = path;
  mtime_ = fs::last_write_time(path, ec);
  scenario_ = *r.scenario;
  errors_.clear();
  faults_.clear();
  disabled_.clear();
  messages_.clear();
  seed_.reset();
  value_.reset();
  cursor_ = 0;
  now_us_ = 0;
  selected_ = 0;
  playing_ = false;
  rerun();
  status_ = "opened " + path;
  return true;
}

bool Controller::open_text(const std::string& text, const std::string& source) {
  LoadResult r = load_scenario_text(text, source);
  if (!r.ok()) {
    errors_ = r.errors;
    status_ = source + ": " + std::to_string(r.errors.size()) + " error(s)";
    return false;
  }
  text_ = text;
  path_.clear();
  scenario_ = *r.scenario;
  errors_.clear();
  faults_.clear();
  disabled_.clear();
  messages_.clear();
  seed_.reset();
  value_.reset();
  cursor_ = 0;
  now_us_ = 0;
  selected_ = 0;
  playing_ = false;
  rerun();
  status_ = "opened " + source;
  return true;
}

void Controller::adopt(RunResult run, Scenario scenario) {
  scenario_ = std::move(scenario);
  text_.clear();
  path_.clear();
  faults_.clear();
  disabled_.clear();
  messages_.clear();
  seed_.reset();
  value_.reset();
  ++setup_;  // a sweep of the old scenario does not describe this one
  ++compare_setup_;
  sweep_job_.reset();
  compare_job_.reset();
  compare_error_.clear();
  auto shared = std::make_shared<RunResult>(std::move(run));
  current_.run = shared;
  current_.index.build(&shared->trace.records(), &scenario_);
  current_.label = scenario_.name;
  ++generation_;
  cursor_ = 0;
  now_us_ = 0;
  selected_ = 0;
}

RunOptions Controller::setup_options() const {
  RunOptions opt;
  opt.extra_faults = faults_;
  opt.disabled_faults = disabled_;
  opt.extra_messages = messages_;
  return opt;
}

std::string Controller::file_text() const { return text_.empty() ? std::string(default_scenario_text()) : text_; }

std::string Controller::effective_text() const {
  const std::string base = file_text();
  if (!value_) return base;
  std::string why;
  return text_with_value(base, value_->pointer, value_->value, &why).value_or(base);  // checked when set
}

std::optional<Scenario> Controller::scenario_with_value(const std::string& text, const std::string& pointer,
                                                        const nlohmann::json& value, std::string* why) const {
  const std::optional<std::string> changed = text_with_value(text, pointer, value, why);
  if (!changed) return std::nullopt;
  const std::string source = (path_.empty() ? std::string("the scenario") : path_) + " with --set " + pointer + "=" +
                             Setting::value_text(value);
  LoadResult r = load_scenario_text(*changed, source);
  if (!r.ok()) {
    // The first error is the reason, as `smtplab run --set` prints it.
    const ScenarioError& e = r.errors.front();
    *why = (e.pointer.empty() ? std::string() : e.pointer + ": ") + e.message;
    return std::nullopt;
  }
  return std::move(*r.scenario);
}

std::optional<Controller::Value> Controller::value_besides(const std::string& pointer) const {
  if (value_ && value_->pointer != pointer) return value_;
  return std::nullopt;
}

const Controller::Comparison* Controller::comparison() const {
  if (!comparison_ || comparison_setup_ != compare_setup_) return nullptr;
  return value_besides(comparison_->pointer) == comparison_->base ? comparison_.get() : nullptr;
}

std::optional<Controller::CompareProgress> Controller::compare_running() const {
  if (!compare_job_) return std::nullopt;
  const CompareJob& j = *compare_job_;
  return CompareProgress{j.result.sweeps.size(), j.scenarios.size(), j.job ? j.job->done() : 0, j.seeds,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - j.start).count()};
}

void Controller::start_compare_value() {
  CompareJob& j = *compare_job_;
  SweepOptions o;
  o.seeds = {1, j.seeds};
  o.jobs = std::max(1u, std::thread::hardware_concurrency());
  o.base = j.options;
  j.job.reset();
  j.job = std::make_unique<SweepJob>(j.scenarios[j.result.sweeps.size()], o);
}

bool Controller::poll_compare() { return advance_compare(/*wait=*/false); }

void Controller::wait_compare() { advance_compare(/*wait=*/true); }

// Takes each value's sweep as it ends (take() waits for it when `wait`)
// and starts the next; true once the last has been taken.
bool Controller::advance_compare(bool wait) {
  while (compare_job_ && (wait || compare_job_->job->finished())) {
    CompareJob& j = *compare_job_;
    std::optional<SweepSummary> s = j.job->take();
    if (!s) {
      status_ = "the comparison did not finish: " + j.job->error();
      compare_job_.reset();
      return true;
    }
    j.result.sweeps.push_back(std::move(*s));
    if (j.result.sweeps.size() < j.scenarios.size()) {
      start_compare_value();
      continue;
    }
    char took[32];
    std::snprintf(took, sizeof took, "%.2f s",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - j.start).count());
    status_ = "compared " + std::to_string(j.scenarios.size()) + " values of " + j.result.pointer + ", seeds 1-" +
              std::to_string(j.seeds) + " each, in " + took;
    comparison_ = std::make_shared<const Comparison>(std::move(j.result));
    comparison_setup_ = j.setup;
    compare_job_.reset();
    return true;
  }
  return false;
}

void Controller::rerun(Change change) {
  if (change == Change::setup) {
    ++compare_setup_;
    compare_job_.reset();  // it compares values of a setup that is gone
    compare_error_.clear();
  } else if (change == Change::value && compare_job_ &&
             value_besides(compare_job_->result.pointer) != compare_job_->result.base) {
    compare_job_.reset();  // a value it does not vary changed under it
  }
  if (change != Change::seed) {
    ++setup_;
    sweep_job_.reset();  // it sweeps a setup that is gone
  }
  RunOptions opt = setup_options();
  opt.seed = seed_;
  auto result = std::make_shared<RunResult>(run_scenario(scenario_, opt));
  current_.run = result;
  current_.index.build(&result->trace.records(), &scenario_);
  current_.label = (scenario_.name.empty() ? scenario_.source : scenario_.name) +
                   (faults_.empty() && messages_.empty()
                        ? std::string()
                        : " + " + std::to_string(faults_.size()) + " fault(s), " + std::to_string(messages_.size()) +
                              " message(s)") +
                   (disabled_.empty() ? std::string()
                                      : " - " + std::to_string(disabled_.size()) + " scenario fault(s) switched off") +
                   (seed_ ? ", seed " + std::to_string(*seed_) : std::string());
  ++generation_;
  ++reruns_;
  // The cursor keeps its time; the prefix before it is the same run.
  seek_time(now_us_);
  if (selected_ && index().index_of_seq(selected_) >= size()) selected_ = 0;
}

bool Controller::scenario_fault_on(size_t i) const {
  return !std::binary_search(disabled_.begin(), disabled_.end(), i);
}

void Controller::set_cursor(size_t i, bool select) {
  if (!size()) {
    cursor_ = 0;
    return;
  }
  cursor_ = std::min(i, size() - 1);
  now_us_ = index().times()[cursor_];
  if (select) selected_ = records()[cursor_].seq;
}

void Controller::seek_time(int64_t us) {
  now_us_ = std::clamp<int64_t>(us, 0, end_time());
  size_t ub = index().upper_bound(now_us_);
  cursor_ = ub == 0 ? 0 : ub - 1;
}

void Controller::step(int dir, StepUnit unit) {
  if (!size()) return;
  playing_ = false;
  if (unit == StepUnit::event) {
    if (dir > 0 && cursor_ + 1 < size()) set_cursor(cursor_ + 1, true);
    else if (dir < 0 && cursor_ > 0) set_cursor(cursor_ - 1, true);
    else set_cursor(cursor_, true);
    return;
  }
  const std::vector<size_t>& marks = unit == StepUnit::exchange ? index().exchanges() : index().failures();
  if (dir > 0) {
    auto it = std::upper_bound(marks.begin(), marks.end(), cursor_);
    if (it != marks.end()) set_cursor(*it, true);
    else status_ = unit == StepUnit::failure ? "no failure after the cursor" : "no exchange after the cursor";
  } else {
    auto it = std::lower_bound(marks.begin(), marks.end(), cursor_);
    if (it != marks.begin()) set_cursor(*std::prev(it), true);
    else status_ = unit == StepUnit::failure ? "no failure before the cursor" : "no exchange before the cursor";
  }
}

std::optional<Controller::SweepProgress> Controller::sweep_running() const {
  if (!sweep_job_) return std::nullopt;
  return SweepProgress{sweep_job_->done(), sweep_job_->total(),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - sweep_start_).count()};
}

bool Controller::poll_sweep() {
  if (!sweep_job_ || !sweep_job_->finished()) return false;
  adopt_sweep();
  return true;
}

void Controller::wait_sweep() {
  if (sweep_job_) adopt_sweep();
}

void Controller::adopt_sweep() {
  std::optional<SweepSummary> s = sweep_job_->take();  // waits, if it has not finished
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sweep_start_).count();
  const std::string why = sweep_job_->error();
  sweep_job_.reset();
  if (!s) {
    status_ = "the sweep did not finish: " + why;
    return;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", took);
  status_ = "swept seeds 1-" + std::to_string(s->seeds.last()) + " in " + text;
  sweep_ = std::make_shared<const SweepSummary>(std::move(*s));
  sweep_setup_ = sweep_job_setup_;
}

void Controller::tick(double wall_seconds) {
  if (playing_ && size()) {
    int64_t dt = static_cast<int64_t>(wall_seconds * speed_ * 1e6);
    seek_time(now_us_ + std::max<int64_t>(dt, 1));
    if (now_us_ >= end_time()) playing_ = false;
  }
  since_check_ += wall_seconds;
  if (since_check_ >= 1.0) {
    since_check_ = 0;
    reload_if_changed();
  }
}

bool Controller::reload_if_changed() {
  if (path_.empty()) return false;
  std::error_code ec;
  auto t = fs::last_write_time(path_, ec);
  if (ec || t == mtime_) return false;
  mtime_ = t;
  LoadResult r = load_scenario_file(path_);
  if (!r.ok()) {
    errors_ = r.errors;
    status_ = path_ + " changed but has errors; still showing the previous version";
    return false;
  }
  std::ifstream in(path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  text_ = ss.str();
  scenario_ = *r.scenario;
  errors_.clear();
  disabled_.clear();  // the file's faults may have changed: indices mean nothing now
  std::string dropped;
  if (value_) {  // the value set in the lab stays, if the new file takes it
    std::string why;
    if (std::optional<Scenario> sc = scenario_with_value(text_, value_->pointer, value_->value, &why)) {
      scenario_ = std::move(*sc);
    } else {
      dropped = "; " + value_->pointer + " = " + Setting::value_text(value_->value) + " no longer fits (" + why +
                "), so the file's own value is used";
      value_.reset();
    }
  }
  rerun();
  status_ = "reloaded " + path_ + " (changed on disk)" + dropped;
  return true;
}

void Controller::apply_pending() {
  poll_sweep();
  poll_compare();
  // Commands may post more commands; bound the work per frame.
  for (int n = 0; n < 64 && !pending_.empty(); ++n) {
    Command c = std::move(pending_.front());
    pending_.pop_front();
    apply(c);
  }
}

namespace {
template <class... F>
struct overloaded : F... { using F::operator()...; };
template <class... F>
overloaded(F...) -> overloaded<F...>;
}  // namespace

void Controller::apply(const Command& c) {
  std::visit(
      overloaded{
          [&](const cmd::OpenFile& o) { open(o.path); },
          [&](const cmd::Reload&) {
            if (path_.empty()) rerun();
            else {
              mtime_ = {};
              reload_if_changed();
            }
          },
          [&](const cmd::Play& p) {
            playing_ = p.on && size() > 0;
            if (playing_ && now_us_ >= end_time()) seek_time(0);  // play again from the start
          },
          [&](const cmd::SetSpeed& s) { speed_ = std::clamp(s.speed, 0.1, 1000.0); },
          [&](const cmd::Seek& s) { seek_time(s.us); },
          [&](const cmd::Step& s) { step(s.direction, s.unit); },
          [&](const cmd::JumpNext&) {
            size_t i = index().upper_bound(now_us_);
            if (i < size()) seek_time(index().times()[i]);
          },
          [&](const cmd::Select& s) {
            size_t i = index().index_of_seq(s.seq);
            if (i >= size()) return;
            selected_ = s.seq;
            if (s.move_cursor) set_cursor(i, false);
          },
          [&](const cmd::InjectFault& f) {
            Fault fault = f.fault;
            if (fault.at.us < 0) fault.at = SimTime{now_us_};
            std::vector<Fault> next = faults_;
            next.push_back(fault);
            std::string err;
            // Validate exactly as a scenario file would be: a fault the
            // loader rejects is never run.
            if (scenario_with_additions(effective_text(), next, messages_, &err).empty()) {
              status_ = "fault not injected: " + err;
              return;
            }
            faults_ = std::move(next);
            rerun();
            status_ = "injected " + fault.type + " at " + format_duration(fault.at) + "; the run was recomputed";
          },
          [&](const cmd::RemoveFault& r) {
            if (r.index >= faults_.size()) return;
            faults_.erase(faults_.begin() + static_cast<long>(r.index));
            rerun();
            status_ = "fault removed; the run was recomputed";
          },
          [&](const cmd::SetScenarioFault& f) {
            if (f.index >= scenario_.faults.size() || scenario_fault_on(f.index) == f.on) return;
            if (f.on) disabled_.erase(std::find(disabled_.begin(), disabled_.end(), f.index));
            else disabled_.insert(std::upper_bound(disabled_.begin(), disabled_.end(), f.index), f.index);
            rerun();
            const Fault& sf = scenario_.faults[f.index];
            status_ = "the scenario's " + sf.type + (sf.host.empty() ? "" : " on " + sf.host) +
                      (f.on ? " is back on" : " is switched off") + "; the run was recomputed";
          },
          [&](const cmd::Compose& m) {
            MessageSpec msg = m.message;
            if (msg.at.us < 0) msg.at = SimTime{now_us_};
            std::vector<MessageSpec> next = messages_;
            next.push_back(msg);
            std::string err;
            if (scenario_with_additions(effective_text(), faults_, next, &err).empty()) {
              status_ = "message not sent: " + err;
              return;
            }
            messages_ = std::move(next);
            rerun();
            status_ = "message from " + msg.from + " sent at " + format_duration(msg.at);
          },
          [&](const cmd::RemoveMessage& r) {
            if (r.index >= messages_.size()) return;
            messages_.erase(messages_.begin() + static_cast<long>(r.index));
            rerun();
          },
          [&](const cmd::PinBaseline&) {
            baseline_ = current_;  // shares the run; the index points into it
            baseline_.index.build(&baseline_.run->trace.records(), &scenario_);
            status_ = "pinned \"" + baseline_.label + "\" for comparison";
          },
          [&](const cmd::ClearBaseline&) { baseline_ = RunView{}; },
          [&](const cmd::SetSeed& s) {
            // The scenario's own seed is no override (a saved file keeps its own).
            const std::optional<uint64_t> next = s.seed == scenario_.seed ? std::nullopt : s.seed;
            if (next == seed_) return;
            seed_ = next;
            rerun(Change::seed);
            status_ = "seed " + std::to_string(seed()) + (seed_ ? "" : " (the scenario's own)") +
                      ": the run was recomputed";
          },
          [&](const cmd::Sweep& w) {
            SweepOptions o;
            o.seeds = {1, std::clamp<uint64_t>(w.seeds, 1, kMaxLabSweep)};
            o.jobs = std::max(1u, std::thread::hardware_concurrency());
            o.base = setup_options();
            sweep_job_.reset();  // a sweep still running is dropped (its threads stop first)
            sweep_job_ = std::make_unique<SweepJob>(scenario_, o);
            sweep_job_setup_ = setup_;
            sweep_start_ = std::chrono::steady_clock::now();
            status_ = "sweeping seeds 1-" + std::to_string(o.seeds.last()) + " ...";
          },
          [&](const cmd::CancelSweep&) {
            if (!sweep_job_) return;
            const uint64_t done = sweep_job_->done(), total = sweep_job_->total();
            sweep_job_.reset();
            status_ = "sweep cancelled after " + std::to_string(done) + " of " + std::to_string(total) + " seeds";
          },
          [&](const cmd::SetValue& v) {
            if ((v.value ? std::optional<Value>(Value{v.pointer, *v.value}) : std::nullopt) == value_) return;
            const std::string base = file_text();
            std::string why;
            std::optional<Scenario> next;
            if (v.value) {
              next = scenario_with_value(base, v.pointer, *v.value, &why);
            } else {
              LoadResult r = load_scenario_text(base, path_.empty() ? std::string("the scenario") : path_);
              if (r.ok()) next = std::move(*r.scenario);
              else why = r.errors.front().message;
            }
            const std::string what = v.value ? v.pointer + " = " + Setting::value_text(*v.value)
                                             : "the file's own " + (value_ ? value_->pointer : v.pointer);
            // Faults and messages added in the lab must still fit (a value
            // may remove the host one names).
            std::optional<Value> was = std::move(value_);
            value_ = v.value ? std::optional<Value>(Value{v.pointer, *v.value}) : std::nullopt;
            if (next && scenario_with_additions(effective_text(), faults_, messages_, &why).empty()) next.reset();
            if (!next) {
              value_ = std::move(was);
              status_ = "value not set: --set " + v.pointer + (v.value ? "=" + Setting::value_text(*v.value) : "") +
                        ": " + why;
              return;
            }
            scenario_ = std::move(*next);
            // A value may change the number of the scenario's faults.
            std::erase_if(disabled_, [&](size_t i) { return i >= scenario_.faults.size(); });
            rerun(Change::value);
            status_ = what + ": the run was recomputed";
          },
          [&](const cmd::CompareValues& cv) {
            if (cv.values.empty() || cv.values.size() > kMaxSettingValues) {
              status_ = compare_error_ = "not compared: give 1 to " + std::to_string(kMaxSettingValues) + " values";
              return;
            }
            auto job = std::make_unique<CompareJob>();
            job->result.pointer = cv.pointer;
            job->result.values = cv.values;
            job->result.base = value_besides(cv.pointer);
            std::string base = file_text();
            std::string why;
            if (job->result.base)  // checked when it was set
              base = text_with_value(base, job->result.base->pointer, job->result.base->value, &why).value_or(base);
            for (const nlohmann::json& value : cv.values) {
              std::optional<Scenario> sc = scenario_with_value(base, cv.pointer, value, &why);
              if (!sc) {
                status_ = compare_error_ =
                    "not compared: --set " + cv.pointer + "=" + Setting::value_text(value) + ": " + why;
                return;
              }
              job->scenarios.push_back(std::move(*sc));
            }
            // At most kMaxLabSweep runs in all, as one sweep.
            job->seeds = std::clamp<uint64_t>(cv.seeds, 1, std::max<uint64_t>(1, kMaxLabSweep / cv.values.size()));
            job->options = setup_options();
            job->setup = compare_setup_;
            job->start = std::chrono::steady_clock::now();
            compare_job_.reset();  // one still running is dropped (its threads stop first)
            compare_job_ = std::move(job);
            compare_error_.clear();
            start_compare_value();
            status_ = "comparing " + std::to_string(cv.values.size()) + " values of " + cv.pointer + ", seeds 1-" +
                      std::to_string(compare_job_->seeds) + " each ...";
          },
          [&](const cmd::CancelCompare&) {
            if (!compare_job_) return;
            const size_t k = compare_job_->result.sweeps.size(), n = compare_job_->scenarios.size();
            compare_job_.reset();
            status_ = "comparison cancelled at value " + std::to_string(k + 1) + " of " + std::to_string(n);
          },
          [&](const cmd::SaveScenario& s) {
            std::string err;
            std::string text = scenario_with_additions(effective_text(), faults_, messages_, &err, disabled_, seed_);
            if (text.empty()) {
              status_ = "not saved: " + err;
              return;
            }
            std::ofstream out(s.path, std::ios::binary | std::ios::trunc);
            out << text;
            out.close();
            status_ = out ? "saved " + s.path : "not saved: could not write " + s.path;
          },
          [&](const cmd::ExportCapture& e) {
            if (!current_.run) {
              status_ = "capture not written: no run yet";
              return;
            }
            const Capture cap = capture_packets(current_.run->trace.records(), CaptureOptions{e.host});
            std::string why;
            if (!write_pcap(e.path, cap.packets, why)) {
              status_ = "capture not written: " + why;
              return;
            }
            status_ = "capture: " + std::to_string(cap.packets.size()) + " packets in " + e.path +
                      (e.host.empty() ? " (at every sender)" : " (" + e.host + "'s interface)") +
                      (cap.skipped ? "; " + std::to_string(cap.skipped) + " records left out: " + cap.first_problem : "");
          },
      },
      c);
}

}  // namespace smtplab::gui
