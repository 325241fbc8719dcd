// bench/registry.cpp: the list of benchmarks; each lives in its own file.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string_view>

#include "bench/bench.hpp"

namespace smtplab::bench {

int run_engine(std::ostream& out, const Options& options);
int run_net(std::ostream& out, const Options& options);
int run_gui(std::ostream& out, const Options& options);
int run_mail(std::ostream& out, const Options& options);
int run_smtp(std::ostream& out, const Options& options);
int run_sweep(std::ostream& out, const Options& options);

namespace {
const Benchmark kAll[] = {
    {"engine", "event queue: hold model and ping-pong vs a bare std::priority_queue loop", &run_engine},
    {"net", "TCP bulk 10 MB (lossless, 5% loss); full SMTP sessions over DNS+TCP at 1,000 and 10,000 concurrent", &run_net},
    {"mail", "the mail system: 100 domains, 10,000 users, 100,000 messages, 1% loss, outages; ratio 100k/10k", &run_mail},
    {"smtp", "in-memory SMTP client+server machines: full transactions per second (target >= 200,000/s)", &run_smtp},
    {"sweep", "one scenario over 1,000 seeds (smtplab sweep) on one thread and on every core; speed-up ratio", &run_sweep},
    {"gui", "CPU time of one frame of the sequence diagram + event list at 1e3, 1e5, 1e6 records", &run_gui},
};
}  // namespace

std::span<const Benchmark> all() { return kAll; }

namespace {
// Reads one "Name:   123 kB" field of /proc/self/status with no heap
// allocation: the benchmarks sample it while they run, and an ifstream's
// 8 KiB buffer is a large request that makes glibc consolidate every free
// small chunk (a walk over the whole heap that reorders what later
// allocations get), which would perturb the run being measured.
long long status_field(const char* field) {
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  size_t len = 0;
  for (ssize_t n; len < sizeof buf - 1 && (n = ::read(fd, buf + len, sizeof buf - 1 - len)) > 0;)
    len += static_cast<size_t>(n);
  ::close(fd);
  const std::string_view text(buf, len);
  const std::string_view name(field);
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    if (line.substr(0, name.size()) == name) {
      size_t i = name.size();
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      long long kb = 0;
      std::from_chars(line.data() + i, line.data() + line.size(), kb);
      return kb * 1024;
    }
    at = end + 1;
  }
  return 0;
}
}  // namespace

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long long peak_rss_bytes() { return status_field("VmHWM:"); }
long long current_rss_bytes() { return status_field("VmRSS:"); }

}  // namespace smtplab::bench
